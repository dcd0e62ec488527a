package harness

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"zabsim/checker"
	"zabsim/scenarios"
)

// update is shared by every golden test in the package: -update rewrites the files instead of
// comparing with them.
var update = flag.Bool("update", false, "rewrite golden files instead of comparing with them")

const timelineDir = "../testdata/timelines"

// goldenSeeds are the seeds a scenario must agree on to get a golden timeline: a trace that
// changes with the seed cannot be pinned in a file.
var goldenSeeds = []uint64{1, 2, 3, 4, 5}

// TestGoldenTimelines pins the event list of every scenario whose trace is the same for every
// seed, so a change of behaviour shows as a readable diff of events instead of a new hash.
func TestGoldenTimelines(t *testing.T) {
	written := map[string]bool{}
	for _, s := range scenarios.All() {
		text, ok := seedIndependentTimeline(t, s)
		path := filepath.Join(timelineDir, s.Name+".txt")
		if !ok {
			continue
		}
		written[s.Name+".txt"] = true
		t.Run(s.Name, func(t *testing.T) {
			if *update {
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run `go test ./harness -run TestGoldenTimelines -update` to create it)", err)
			}
			if string(want) != text {
				t.Errorf("timeline of %s differs from %s (-want +got):\n%s", s.Name, path, LineDiff(string(want), text))
			}
		})
	}
	// A file whose scenario is gone or became seed-dependent would otherwise pass silently.
	files, _ := filepath.Glob(filepath.Join(timelineDir, "*.txt"))
	for _, f := range files {
		if !written[filepath.Base(f)] {
			if *update {
				os.Remove(f)
				continue
			}
			t.Errorf("%s has no seed-independent scenario any more; -update removes it", f)
		}
	}
	if len(written) < 10 {
		t.Errorf("only %d seed-independent scenarios; the catalogue is expected to pin at least 10", len(written))
	}
}

// seedIndependentTimeline runs s with every golden seed and returns its file text when all
// the traces hash the same.
func seedIndependentTimeline(t *testing.T, s scenarios.Scenario) (string, bool) {
	t.Helper()
	var first string
	sameHash := true
	var hash string
	for i, seed := range goldenSeeds {
		rep, err := checker.Run(s.Build(seed), checker.Options{KeepTrace: true})
		if err != nil {
			t.Fatalf("%s seed %d: %v", s.Name, seed, err)
		}
		var ev bytes.Buffer
		if err := WriteEventList(&ev, rep.Trace, TimelineOptions{}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first, hash = ev.String(), rep.TraceHash
		} else if sameEvents(ev.String(), first) != nil {
			return "", false
		} else if rep.TraceHash != hash {
			sameHash = false
		}
	}
	var b bytes.Buffer
	b.WriteString("# " + s.Name + " (" + s.Family + "): " + s.Description + "\n")
	if s.Reference != "" {
		b.WriteString("# reference: " + s.Reference + "\n")
	}
	if sameHash {
		b.WriteString("# The whole trace is the same for seeds 1-5 (trace hash " + hash + ").\n")
	} else {
		// Only hidden events (timer jitter, the order the world wakes threads) vary by seed.
		b.WriteString("# Seeds 1-5 show these same events at the same virtual times; they differ only in\n")
		b.WriteString("# hidden events (timers, thread wake-ups) and in the order of events of one instant,\n")
		b.WriteString("# which the world draws from the seed. The file shows seed 1.\n")
	}
	b.WriteString("# One line per event: event number, virtual time, server, what happened (timers, PINGs\n")
	b.WriteString("# and sends hidden; a delivery line shows the message).\n")
	b.WriteString("# Regenerate: go test ./harness -run TestGoldenTimelines -update\n")
	b.WriteString(first)
	return strings.TrimRight(b.String(), "\n") + "\n", true
}

// sameEvents reports whether two event lists hold the same events at the same times, ignoring
// event numbers (hidden events that vary by seed shift them) and the order of events of one
// instant (threads woken together run in an order the world draws from the seed).
func sameEvents(a, b string) error {
	ka, kb := eventKeys(a), eventKeys(b)
	if !slices.Equal(ka, kb) {
		return errors.New("different events")
	}
	return nil
}

func eventKeys(s string) []string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		if j := strings.IndexByte(l, ' '); j > 0 {
			lines[i] = l[j:]
		}
	}
	// Every line starts with its time, so the sorted list is a canonical form of "these
	// events at these times" that no same-instant reordering changes.
	slices.Sort(lines)
	return lines
}
