package harness

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zabsim/checker"
	"zabsim/runfile"
	"zabsim/sim"
)

// recorded runs scenario name with seed, records its decisions, saves and reloads the file.
func recorded(t *testing.T, name string, seed uint64) runfile.File {
	t.Helper()
	spec, _, err := SpecFor(name, seed, nil)
	require.NoError(t, err)
	rep, err := checker.Run(spec, checker.Options{RecordDecisions: true})
	require.NoError(t, err)
	require.NotEmpty(t, rep.Decisions)
	spec.Decisions = rep.Decisions
	path := filepath.Join(t.TempDir(), name+".json")
	require.NoError(t, runfile.Save(path, runfile.File{Spec: *spec,
		Expect: runfile.Expectation{Violations: rep.ViolationNames(), TraceHash: rep.TraceHash}}))
	f, err := runfile.Load(path)
	require.NoError(t, err)
	return f
}

// TestRecordedDecisionsReplayExactly: a file with recorded decisions replays to the same trace.
// Reference: issue 4 ("Replay that survives code changes").
func TestRecordedDecisionsReplayExactly(t *testing.T) {
	f := recorded(t, "cold-start-5", 3)
	r, err := Replay(f, checker.Options{})
	require.NoError(t, err)
	require.Empty(t, r.Divergence)
	require.Equal(t, f.Expect.TraceHash, r.Report.TraceHash)
}

// TestEditedDelayReplaysTheEditedRun: a person slows recorded delays down by hand (here, the
// first delay from each learner to the leader, the SYN, to 50 ms); the replay follows the edit,
// every other choice stays as recorded, and the run is the edited one (activation finishes
// later), not a divergence.
// Reference: issue 4 ("A run file whose recorded delay is edited by hand replays the edited run").
func TestEditedDelayReplaysTheEditedRun(t *testing.T) {
	f := recorded(t, "all-on-time-3", 2)
	orig, err := Replay(f, checker.Options{})
	require.NoError(t, err)
	edited := map[int64]bool{}
	for i, d := range f.Spec.Decisions {
		if d.Kind == sim.DecideDelay && d.B == 3 && !edited[int64(d.A)] {
			f.Spec.Decisions[i].Value = int64(50 * time.Millisecond)
			edited[int64(d.A)] = true
		}
	}
	require.Len(t, edited, 2)
	r, err := Replay(f, checker.Options{})
	require.NoError(t, err)
	require.Empty(t, r.Divergence, "an edited delay is a tuned run, not a divergence")
	require.NotEqual(t, orig.Report.TraceHash, r.Report.TraceHash)
	require.Greater(t, r.Report.Established[0].At, orig.Report.Established[0].At)
}

// TestChangedCodeDiverges: flipping a bug knob stands for a code change; replaying the recorded
// decisions against it stops with a report that names the event where the run asked a question
// the file does not have.
// Reference: issue 4 ("stops with a divergence report naming the event").
func TestChangedCodeDiverges(t *testing.T) {
	f := recorded(t, "followers-stop-observers-remain", 1)
	require.NoError(t, f.Spec.Config.Knobs.Set("CountObservers"))
	r, err := Replay(f, checker.Options{})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(r.Divergence, "diverged: "), r.Divergence)
	require.Contains(t, r.Divergence, "event")
	t.Log(r.Divergence)
}
