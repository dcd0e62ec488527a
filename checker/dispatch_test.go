package checker_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"zabsim/checker"
	"zabsim/harness"
	"zabsim/scenarios"
)

// TestNarrowDispatchChangesNothing: dispatching notes and messages only to the judges whose
// table entry names their kind or type gives the same verdicts, word for word, as handing every
// note and message to every judge of its trace kind: over every catalogue scenario (the knob
// scenarios among them, each of which breaks an invariant) and 300 generated runs.
func TestNarrowDispatchChangesNothing(t *testing.T) {
	verdicts := func(unfiltered bool) []string {
		checker.SetUnfiltered(unfiltered)
		defer checker.SetUnfiltered(false)
		var out []string
		add := func(name string, seed uint64) {
			spec, _, err := harness.SpecFor(name, seed, nil)
			require.NoError(t, err)
			rep, err := checker.Run(spec, checker.Options{})
			require.NoError(t, err)
			v := fmt.Sprintf("%s/%d:", name, seed)
			for _, x := range rep.Violations {
				v += fmt.Sprintf(" %s@%v %v x%d %s", x.Invariant, x.At, x.Servers, x.Count, x.Detail)
			}
			out = append(out, v)
		}
		for _, sc := range scenarios.All() {
			add(sc.Name, 1)
		}
		for seed := uint64(1); seed <= 300; seed++ {
			add("random", seed)
		}
		return out
	}
	narrow, wide := verdicts(false), verdicts(true)
	require.Equal(t, wide, narrow)
	broken := 0
	for _, v := range narrow {
		if len(v) > 0 && v[len(v)-1] != ':' {
			broken++
		}
	}
	require.Positive(t, broken, "some runs break invariants, so the comparison covers detection")
	t.Logf("%d runs, %d with violations, identical verdicts", len(narrow), broken)
}
