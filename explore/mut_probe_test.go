package explore

import (
	"maps"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"zabsim/checker"
	"zabsim/scenarios"
	"zabsim/statehash"
)

func TestMutProbe(t *testing.T) {
	if os.Getenv("PROBE") == "" {
		t.Skip()
	}
	sc, _ := scenarios.Lookup("cold-start-3")
	fields := defaultWalker.Fields(checker.New(sc.Build(1)))
	var names []string
	for k, v := range fields {
		if v == "walk" && (strings.HasPrefix(k, os.Getenv("PROBE"))) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, knob := range []string{"EpochAckWaitsWrongFlag", "VoteOrderPrecedenceBug"} {
		for _, f := range names {
			r := statehash.Rules{Skip: maps.Clone(rules.Skip), Gens: rules.Gens}
			r.Skip[f] = "test"
			spec := sc.Build(1)
			require.NoError(t, spec.Config.Knobs.Set(knob))
			res, err := Check(spec, Bound{Cost: 2, Deviations: -1, Crashes: -1, Restarts: -1, WriteFaults: -1, Workers: 1, walker: statehash.NewWalker(r)})
			require.NoError(t, err)
			if res.Violation == nil || res.Violation.Cost > 2 {
				t.Logf("%s skip %q: MISSED runs %d states %d", knob, f, res.Runs, res.States)
			}
		}
	}
}
