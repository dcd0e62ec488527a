package explore

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zabsim/scenarios"
)

func TestKnobProbe(t *testing.T) {
	if os.Getenv("PROBE") == "" {
		t.Skip()
	}
	sc, _ := scenarios.Lookup("cold-start-3")
	for _, k := range []string{"CurrentEpochOnUptodate", "VoteOrderPrecedenceBug", "EpochAckWaitsWrongFlag", "EpochQuorumIgnoresLeader", "EpochMemoryBeforeFile", "SnapshotBeforeEpochNoMarker", "NewLeaderSentUnqueued", "CurrentEpochBeforeTxnsDurable"} {
		spec := sc.Build(1)
		require.NoError(t, spec.Config.Knobs.Set(k))
		t0 := time.Now()
		res, err := Check(spec, Bound{Cost: 2, Deviations: -1, Crashes: -1, Restarts: -1, WriteFaults: -1, Workers: 2, MaxRuns: 200000})
		require.NoError(t, err)
		if res.Violation != nil {
			t.Logf("%s: cost %d %s after %d runs, %d states, %s: %v", k, res.Violation.Cost, res.Violation.Invariant, res.Runs, res.States, time.Since(t0), res.Violation.Perturbations)
		} else {
			t.Logf("%s: clean %d runs %s", k, res.Runs, time.Since(t0))
		}
	}
}

func TestProbeWholeSpace(t *testing.T) {
	if os.Getenv("PROBE_BFS") == "" {
		t.Skip()
	}
	sc, _ := scenarios.Lookup(os.Getenv("PROBE_BFS"))
	t0 := time.Now()
	res, err := Check(sc.Build(1), Bound{Cost: Unlimited, Deviations: -1, Workers: 2, MaxRuns: 3_000_000,
		Progress: func(l Level) { t.Logf("%+v %s", l, time.Since(t0)) }})
	require.NoError(t, err)
	t.Logf("complete %v %s runs %d states %d events %d %s", res.Complete, res.Incomplete, res.Runs, res.States, res.Events, time.Since(t0))
}
