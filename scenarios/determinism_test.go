package scenarios

import (
	"strings"
	"testing"

	"zabsim/checker"
)

// TestSameSeedSameTrace runs every scenario twice with the same seed and compares the trace
// hashes and the full text traces: the run must be identical byte for byte.
// Reference: shared/design.md "The simulator"; brief, "Determinism is the product".
func TestSameSeedSameTrace(t *testing.T) {
	for _, s := range All() {
		for _, seed := range []uint64{1, 42, 1 << 40} {
			a, err := checker.Run(s.Build(seed), checker.Options{KeepTrace: true})
			if err != nil {
				t.Fatalf("%s seed %d: %v", s.Name, seed, err)
			}
			b, err := checker.Run(s.Build(seed), checker.Options{KeepTrace: true})
			if err != nil {
				t.Fatalf("%s seed %d: %v", s.Name, seed, err)
			}
			if a.TraceHash != b.TraceHash || a.Events != b.Events {
				t.Fatalf("%s seed %d: hashes %s and %s, events %d and %d", s.Name, seed, a.TraceHash, b.TraceHash, a.Events, b.Events)
			}
			if ta, tb := traceText(a), traceText(b); ta != tb {
				t.Fatalf("%s seed %d: same hash but different trace text", s.Name, seed)
			}
		}
	}
}

// TestSeedsMatter guards the test above against a world that ignores its seed: with random
// network delays, different seeds must give different traces.
// Reference: shared/design.md "One PRNG per run".
func TestSeedsMatter(t *testing.T) {
	s, err := Lookup("all-on-time-5")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for seed := uint64(0); seed < 20; seed++ {
		r, err := checker.Run(s.Build(seed), checker.Options{})
		if err != nil {
			t.Fatal(err)
		}
		seen[r.TraceHash] = true
	}
	if len(seen) < 15 {
		t.Fatalf("20 seeds gave only %d distinct traces", len(seen))
	}
}

func traceText(r *checker.Report) string {
	var b strings.Builder
	for i := range r.Trace {
		b.Write(r.Trace[i].AppendText(nil))
		b.WriteByte('\n')
	}
	return b.String()
}
