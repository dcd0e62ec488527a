package explore

import (
	"maps"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"zabsim/scenarios"
	"zabsim/statehash"
)

func TestMutProbe(t *testing.T) {
	if os.Getenv("PROBE") == "" {
		t.Skip()
	}
	sc, _ := scenarios.Lookup("cold-start-3")
	for _, knob := range []string{"VoteOrderPrecedenceBug", "EpochAckWaitsWrongFlag", "EpochMemoryBeforeFile"} {
		for _, f := range strings.Split(os.Getenv("PROBE"), ",") {
			r := statehash.Rules{Skip: maps.Clone(rules.Skip), Gens: rules.Gens}
			r.Skip[f] = "test"
			spec := sc.Build(1)
			require.NoError(t, spec.Config.Knobs.Set(knob))
			res, err := Check(spec, Bound{Cost: 2, Deviations: -1, Crashes: -1, Restarts: -1, WriteFaults: -1, Workers: 1, walker: statehash.NewWalker(r)})
			require.NoError(t, err)
			if res.Violation == nil {
				t.Logf("%s skip %q: MISSED runs %d states %d", knob, f, res.Runs, res.States)
			} else {
				t.Logf("%s skip %q: cost %d runs %d states %d", knob, f, res.Violation.Cost, res.Runs, res.States)
			}
		}
	}
}
