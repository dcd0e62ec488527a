package harness

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/runfile"
	"zabsim/scenarios"
	"zabsim/sim"
)

// TestSweepIndependentOfParallelism runs the same sweep with GOMAXPROCS=1 and one worker, and
// with the default GOMAXPROCS and many workers: the sweep hash (every run's trace hash in
// order), the failures and the counts must be identical.
// Reference: brief, "Same scenario + same seed = the same run, byte for byte, on any machine".
func TestSweepIndependentOfParallelism(t *testing.T) {
	cfg := SweepConfig{Scenarios: scenarios.All(), SeedsPerScenario: 3, MasterSeed: 99}
	prev := runtime.GOMAXPROCS(1)
	cfg.Workers = 1
	serial, err := Sweep(context.Background(), cfg)
	runtime.GOMAXPROCS(prev)
	require.NoError(t, err)
	cfg.Workers = 8
	parallel, err := Sweep(context.Background(), cfg)
	require.NoError(t, err)
	require.Equal(t, serial.Runs, len(scenarios.All())*3)
	require.Equal(t, serial.SweepHash, parallel.SweepHash)
	require.Equal(t, serial.Events, parallel.Events)
	require.Equal(t, serial.Violations, parallel.Violations)
	require.Equal(t, serial.Probes, parallel.Probes)
	require.Equal(t, serial.Outsiders, parallel.Outsiders)
	require.Equal(t, serial.OutsiderExamples, parallel.OutsiderExamples)
	require.Empty(t, serial.Failures, "the faithful catalogue must meet every expectation")
}

// TestSweepCountsOutsiders: the sweep counts, per kind, the runs that left a live voter out of
// the ensemble, and names the first run of each kind.
func TestSweepCountsOutsiders(t *testing.T) {
	var picked []scenarios.Scenario
	for _, name := range []string{"participant-accepted-epoch-higher", "join-inconsistent-rounds-1732"} {
		s, err := scenarios.Lookup(name)
		require.NoError(t, err)
		picked = append(picked, s)
	}
	res, err := Sweep(context.Background(), SweepConfig{Scenarios: picked, SeedsPerScenario: 2, MasterSeed: 5})
	require.NoError(t, err)
	require.Equal(t, map[string]int{checker.OutsiderRefused: 2, checker.OutsiderStuck: 2}, res.Outsiders)
	require.Equal(t, "participant-accepted-epoch-higher", res.OutsiderExamples[checker.OutsiderRefused].Scenario)
	require.Equal(t, "join-inconsistent-rounds-1732", res.OutsiderExamples[checker.OutsiderStuck].Scenario)
	require.Equal(t, Seed(SeedAt(5, 0)), res.OutsiderExamples[checker.OutsiderStuck].Seed)
}

// knobFindings maps each bug knob to an invariant it must make the sweep report.
var knobFindings = map[string]string{
	"EpochQuorumIgnoresLeader":        checker.FreshEpoch,
	"EpochAckWaitsWrongFlag":          checker.ActivationNeedsVoterQuorum,
	"CountObservers":                  checker.NonVotersNeverLead,
	"CurrentEpochOnUptodate":          checker.AckImpliesDurable,
	"EpochMemoryBeforeFile":           checker.EpochFileOrder,
	"SnapshotBeforeEpochNoMarker":     checker.RestartAlwaysPossible,
	"VoteOrderPrecedenceBug":          checker.VoteMonotone,
	"StrictOutOfElectionVoteEquality": checker.JoinerFollows,
	"NoQuitOnDisloyalVoter":           checker.FalseLeaderAbdicates,
	"AckNewLeaderBeforeTxnsDurable":   checker.AckImpliesDurable,
	"CurrentEpochBeforeTxnsDurable":   checker.AckImpliesDurable,
	"TruncToZxidNotHeld":              checker.SyncChoiceSound,
	"DiffInsteadOfTrunc":              checker.SyncChoiceSound,
	"NewLeaderSentUnqueued":           checker.CommittedDurability,
	"AsyncSyncAck":                    checker.FirstAckIsNewLeaderAck,
	"CommitAfterNewLeaderNPE":         checker.CommitInSyncWellFormed,
	"LastProcessedSetOnDiff":          checker.ReportedZxidIsTrue,
	"RetainDbWithoutFastForward":      checker.ReportedZxidIsTrue,
	"AcksKeptAcrossResync":            checker.CommittedDurability,
	"NoTxnlogGapCheck":                checker.ContiguousDiff,
	"CommittedLogHole":                checker.UptodateFresh,
	"TxnLogGapCheckAtEndOnly":         checker.ContiguousDiff,
}

// TestKnobSweepsFindTheirBugs turns each bug knob on across the whole catalogue: the sweep must
// report the invariant the knob breaks, save the failures, and each saved run file must replay
// to exactly the recorded outcome.
// Reference: shared/spec/bug-knobs.md.
func TestKnobSweepsFindTheirBugs(t *testing.T) {
	for _, k := range protocol.KnobNames {
		if _, ok := knobFindings[k]; !ok {
			t.Errorf("knob %s has no expected finding in knobFindings", k)
		}
	}
	knobs := make([]string, 0, len(knobFindings))
	for k := range knobFindings {
		knobs = append(knobs, k)
	}
	slices.Sort(knobs)
	for _, knob := range knobs {
		inv := knobFindings[knob]
		t.Run(knob, func(t *testing.T) {
			dir := t.TempDir()
			res, err := Sweep(context.Background(), SweepConfig{Scenarios: scenarios.All(), SeedsPerScenario: 1,
				MasterSeed: 7, Knobs: []string{knob}, OutDir: dir})
			require.NoError(t, err)
			require.Positive(t, res.Violations[inv], "knob %s: no %s in %v", knob, inv, res.Violations)
			var replayed bool
			saved := 0
			for _, f := range res.Failures {
				if f.SavedTo != "" {
					saved++
				}
			}
			for _, f := range res.Failures {
				require.True(t, f.SavedTo != "" || f.SameAs != "", "a failure neither saved nor the same as a saved one")
				if f.SavedTo == "" || !slices.Contains(f.Violations, inv) {
					continue
				}
				file, err := runfile.Load(f.SavedTo)
				require.NoError(t, err)
				r, err := Replay(file, checker.Options{})
				require.NoError(t, err)
				require.Empty(t, r.Divergence, f.SavedTo)
				require.True(t, r.Report.HasViolation(inv))
				replayed = true
				break
			}
			require.True(t, replayed)
			entries, _ := os.ReadDir(dir)
			require.Len(t, entries, saved)
		})
	}
}

// TestReplayReportsDivergence: a run file whose recorded outcome no longer matches (here: a
// hand-edited trace hash and violation list) replays with a divergence, not silently.
// Reference: shared/design.md "Run file".
func TestReplayReportsDivergence(t *testing.T) {
	spec, _, err := SpecFor("all-on-time-3", 1, nil)
	require.NoError(t, err)
	f := runfile.File{Spec: *spec, Expect: runfile.Expectation{Violations: []string{checker.FreshEpoch}, TraceHash: "0000000000000001"}}
	path := filepath.Join(t.TempDir(), "edited.json")
	require.NoError(t, runfile.Save(path, f))
	loaded, err := runfile.Load(path)
	require.NoError(t, err)
	r, err := Replay(loaded, checker.Options{})
	require.NoError(t, err)
	require.Contains(t, r.Divergence, "violations [] , recorded [FreshEpoch]"[:10])
	require.Contains(t, r.Divergence, "trace hash")
}

// TestShrinkKeepsTheFailure: a failing run with faults that do not matter shrinks to the ones
// that do, and the shrunk run still breaks the same invariant.
// Reference: issue 4 ("shrinks it").
func TestShrinkKeepsTheFailure(t *testing.T) {
	spec, _, err := SpecFor("acceptedEpoch-write-fails-2307", 1, nil)
	require.NoError(t, err)
	before := len(spec.Faults)
	spec.Faults = append(spec.Faults,
		sim.Fault{Kind: sim.FaultPartition, At: protocol.Time(time.Second), Heal: protocol.Time(1500 * time.Millisecond), Groups: [][]protocol.ServerID{{2}, {3}}, Port: sim.PortElection},
		sim.Fault{Kind: sim.FaultCrash, At: protocol.Time(9 * time.Second), Server: 2},
		sim.Fault{Kind: sim.FaultRestart, At: protocol.Time(9500 * time.Millisecond), Server: 2})
	small := Shrink(spec, checker.FollowerEpochGate)
	require.Less(t, len(small.Faults), before)
	rep, err := checker.Run(small, checker.Options{})
	require.NoError(t, err)
	require.True(t, rep.HasViolation(checker.FollowerEpochGate))
	require.Len(t, spec.Faults, before+3, "Shrink must not change its input")
}

// TestShrinkDropsWritesAndTheTail: writes that do not matter go, and the run ends just after
// the violation, which it still shows; a liveness failure keeps its length.
// Reference: issue 9 ("the shrunk counterexample's size (events, faults, writes)").
func TestShrinkDropsWritesAndTheTail(t *testing.T) {
	spec, _, err := SpecFor("learners-behind-diff-1136", 1, nil)
	require.NoError(t, err)
	for i := range 10 {
		spec.Writes = append(spec.Writes, sim.ClientWrite{At: protocol.Time(2*time.Second + time.Duration(i)*time.Millisecond), Server: 3})
	}
	spec.StopWhenStable, spec.Until = false, protocol.Time(30*time.Second)
	full, err := checker.Run(spec, checker.Options{})
	require.NoError(t, err)
	require.True(t, full.HasViolation(checker.CommittedDurability))
	small := Shrink(spec, checker.CommittedDurability)
	require.Empty(t, small.Writes)
	require.Less(t, small.Until, protocol.Time(time.Second))
	rep, err := checker.Run(small, checker.Options{})
	require.NoError(t, err)
	require.True(t, rep.HasViolation(checker.CommittedDurability))
	require.Less(t, rep.Events, full.Events/2)
	require.Len(t, spec.Writes, 10, "Shrink must not change its input")

	live, _, err := SpecFor("disloyal-voter-stalls-3109", 1, nil)
	require.NoError(t, err)
	kept := Shrink(live, checker.FalseLeaderAbdicates)
	rep, err = checker.Run(kept, checker.Options{})
	require.NoError(t, err)
	require.True(t, rep.HasViolation(checker.FalseLeaderAbdicates))
}

// TestCheckDeterminismFindsNothingOnTheCatalogue: the self-check repeats runs byte for byte.
// Reference: issue 4 ("Determinism self-check").
func TestCheckDeterminismFindsNothingOnTheCatalogue(t *testing.T) {
	require.Empty(t, CheckDeterminism(scenarios.All(), 17, 2*len(scenarios.All())))
}
