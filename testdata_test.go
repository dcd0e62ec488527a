package zabsim_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"zabsim/checker"
	"zabsim/harness"
	"zabsim/runfile"
)

// TestTestdataReplays replays every run file under testdata/ (saved failures, knob findings,
// hand-written runs) and requires each to reproduce its recorded outcome: the same violated
// invariants and, when recorded, the same trace hash. rapid's and go fuzz's own corpora are
// replayed by their tests instead. Knob hunts' findings (testdata/hunts/, written by
// `zabsim sweep -knob K`) are replayed only with ZABSIM_REPLAY_HUNTS=1: a long hunt saves many,
// and they find a knob's bug, not a regression of the faithful model.
// Reference: shared/design.md "Run file"; brief, testdata/.
func TestTestdataReplays(t *testing.T) {
	var files []string
	err := filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "rapid" || d.Name() == "fuzz") {
			return filepath.SkipDir
		}
		if d.IsDir() && path == filepath.Join("testdata", "hunts") && os.Getenv("ZABSIM_REPLAY_HUNTS") != "1" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".json") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no run files under testdata/: the knob findings should be there")
	}
	for _, path := range files {
		t.Run(strings.TrimPrefix(path, "testdata/"), func(t *testing.T) {
			f, err := runfile.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			res, err := harness.Replay(f, checker.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Divergence != "" {
				t.Fatalf("%s no longer reproduces: %s\nreplay: go run ./cmd/zabsim replay %s", path, res.Divergence, path)
			}
		})
	}
}
