package conform

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zabsim/checker"
	"zabsim/harness"
	"zabsim/protocol"
	"zabsim/realzk"
	"zabsim/scenarios"
	"zabsim/sim"
)

// TestSimulatedOutcomes reduces simulated runs of catalogue scenarios to outcomes and checks the
// fields a real ensemble would be judged on.
func TestSimulatedOutcomes(t *testing.T) {
	for _, c := range []struct {
		scenario string
		key      []string // parts the key of every seed must contain
		span     func(*Spans) []time.Duration
	}{
		{"cold-start-3", []string{"leaders 3@1;", "servers 1:follower:1/1 2:follower:1/1 3:leader:1/1;", "; ends"}, func(s *Spans) []time.Duration { return s.ToQuorum }},
		{"delayed-learner-too-late", []string{"leaders 3@1;", "1:down:-1/-1", "ends 3:epoch-wait-timeout"}, nil},
		{"participant-accepted-epoch-higher", []string{"1:looking:7/0", "ends 1:epoch-refused"}, func(s *Spans) []time.Duration { return s.Joiner }},
		{"crashed-leader-rejoins", []string{"3:follower:2/2"}, func(s *Spans) []time.Duration { return s.Rejoin }},
		{"learner-port-refuses", []string{"leaders 3@1;"}, func(s *Spans) []time.Duration { return s.RefusedRetry }},
	} {
		spec, _, err := harness.SpecFor(c.scenario, 1, nil)
		require.NoError(t, err)
		s, err := Simulate(spec, 5)
		require.NoError(t, err, c.scenario)
		for i, o := range s.Runs {
			for _, part := range c.key {
				require.Contains(t, o.Key(), part, "%s seed %d", c.scenario, i+1)
			}
			if c.span != nil {
				require.NotEmpty(t, c.span(&o.Spans), "%s seed %d: span missing", c.scenario, i+1)
			}
		}
	}
}

// TestJudge: a real outcome among the simulated ones agrees, with its share; another does not.
func TestJudge(t *testing.T) {
	spec, _, err := harness.SpecFor("cold-start-3", 1, nil)
	require.NoError(t, err)
	s, err := Simulate(spec, 10)
	require.NoError(t, err)
	real := s.Runs[0]
	v := Judge(&real, s)
	require.True(t, v.Agree)
	require.Positive(t, v.Share)
	require.True(t, strings.HasPrefix(v.Text, "AGREE"), v.Text)

	other := real
	other.Established = []Ensemble{{Leader: 2, Epoch: 1}}
	v = Judge(&other, s)
	require.False(t, v.Agree)
	require.True(t, strings.HasPrefix(v.Text, "MISMATCH"), v.Text)

	// Times and refused-connect counts are timing, not outcome.
	timed := real
	timed.Refused = []Count{{Server: 1, N: 40}}
	timed.Spans = Spans{Decision: []time.Duration{time.Hour}}
	require.Equal(t, real.Key(), timed.Key())
}

// TestFromReal: a real run's steps become the same outcome fields and spans as a simulated
// run's: roles from srvr and liveness, one end per role however many lines log it, spans
// from New election and the decision.
func TestFromReal(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	spec, _, err := harness.SpecFor("cold-start-3", 1, nil)
	require.NoError(t, err)
	res := &realzk.Result{
		Established: []realzk.Ensemble{{Leader: 3, Epoch: 1, At: ms(1400)}},
		Syncs:       []realzk.Sync{{Leader: 3, Learner: 1, Epoch: 1, Mode: "DIFF"}},
		Servers: []realzk.ServerResult{
			{ID: 1, AcceptedEpoch: 1, CurrentEpoch: 1, Mode: "follower", Running: true, Steps: []realzk.Step{
				{At: ms(0), Kind: realzk.KindLaunch, Life: 1}, {At: ms(900), Kind: realzk.KindNewElection, Life: 1},
				{At: ms(1150), Kind: realzk.KindDecided, Detail: "FOLLOWING", Life: 1},
				{At: ms(1180), Kind: realzk.KindConnectRefused, Life: 1}, {At: ms(1290), Kind: realzk.KindConnectOK, Life: 1}}},
			{ID: 2, AcceptedEpoch: 0, CurrentEpoch: 0, Mode: "", Running: true},
			{ID: 3, AcceptedEpoch: 1, CurrentEpoch: 1, Mode: "leader", Running: true, Steps: []realzk.Step{
				{At: ms(0), Kind: realzk.KindLaunch, Life: 1}, {At: ms(920), Kind: realzk.KindNewElection, Life: 1},
				{At: ms(1160), Kind: realzk.KindDecided, Detail: "LEADING", Life: 1}, {At: ms(1400), Kind: realzk.KindHaveQuorum, Life: 1},
				{At: ms(5000), Kind: realzk.KindNotSufficientFollowers, Life: 1}, {At: ms(5001), Kind: realzk.KindNotSufficientFollowers, Life: 1}}},
		},
	}
	o := FromReal(spec, res)
	require.Equal(t, "leaders 3@1; servers 1:follower:1/1 2:looking:0/0 3:leader:1/1; syncs 1<-3@1:DIFF; ends 3:quorum-lost", o.Key())
	require.Len(t, o.Ends, 1)
	require.Equal(t, ms(5000-1160), o.Ends[0].SinceLeading)
	require.Equal(t, []time.Duration{ms(250), ms(240)}, o.Spans.Decision)
	require.Equal(t, []time.Duration{ms(240)}, o.Spans.ToQuorum)
	require.Equal(t, []time.Duration{ms(140)}, o.Spans.RefusedRetry)
	require.Equal(t, []Count{{Server: 1, N: 1}}, o.Refused)
	res.Servers[1].Running = false
	down := FromReal(spec, res)
	require.Contains(t, down.Key(), "2:down:0/0")
}

// TestBootKilledOnAReplacedDisk: a restart from a replaced disk whose boot is killed before it
// ran leaves the operator's disk in place; the next plain restart's refusal is the operator's
// doing, not a protocol violation (found by 1,500 generated runs with the JVM profile, seed 1010).
func TestBootKilledOnAReplacedDisk(t *testing.T) {
	bad := protocol.Disk{AcceptedEpoch: 0, CurrentEpoch: 1, CurrentEpochTmp: -1}
	spec := scenarios.Cluster(3, 0).Crash(2, 3*time.Second).RestartWithDisk(2, 4*time.Second, bad).Crash(2, 4200*time.Millisecond).
		Restart(2, 5*time.Second).Until(10*time.Second).Spec("boot-killed", 1)
	spec.Options.Processing = sim.Processing{Boot: sim.Span{Min: 500 * time.Millisecond, Max: 600 * time.Millisecond}}
	rep, err := checker.Run(spec, checker.Options{})
	require.NoError(t, err)
	require.Empty(t, rep.Violations)
	require.Equal(t, "killed while it was starting", rep.Faults[2].Note)
	require.Contains(t, rep.Faults[3].Note, "refused to start")
}

// TestRealSteps: a real learner's log (a late joiner synced by SNAP) becomes the steps the
// simulator names the same way: its start, its decision, the activation packets it read.
func TestRealSteps(t *testing.T) {
	f, err := os.Open("../realzk/testdata/late-joiner-snap.log")
	require.NoError(t, err)
	defer f.Close()
	steps, err := realzk.ParseLog(f, time.Time{}, 1)
	require.NoError(t, err)
	res := &realzk.Result{Servers: []realzk.ServerResult{{ID: 3, Steps: append([]realzk.Step{{Kind: realzk.KindLaunch, Life: 1}}, steps...)}}}
	require.Equal(t, []string{"start", "decided FOLLOWING 2", "LEADERINFO 1", "SNAP", "NEWLEADER 1", "UPTODATE"}, RealSteps(res)[3])
}

// TestValidate: the steps of a simulated run are found among the seeds that produced them; a
// step changed on one server is reported as the first real step no seed takes, with what the
// best seed takes there.
func TestValidate(t *testing.T) {
	spec, _, err := harness.SpecFor("cold-start-3", 1, nil)
	require.NoError(t, err)
	s, err := Simulate(spec, 10)
	require.NoError(t, err)
	real := s.Runs[0].Steps
	require.Equal(t, []string{"start", "decided LEADING 3", "quorum of NEWLEADER acks 1"}, real[3])
	for _, id := range []int{1, 2} {
		require.Len(t, real[id], 6)
		require.Equal(t, []string{"start", "decided FOLLOWING 3", "LEADERINFO 1"}, real[id][:3])
		require.Contains(t, []string{"DIFF", "SNAP"}, real[id][3], "the sync: before or after the leader's quorum")
		require.Equal(t, []string{"NEWLEADER 1", "UPTODATE"}, real[id][4:])
	}
	v := Validate(&Outcome{Steps: real}, s)
	require.Positive(t, v.Exact)
	require.Equal(t, 15, v.Steps)
	require.Contains(t, v.Text, "taken exactly by")

	changed := Steps{}
	for id, st := range real {
		changed[id] = slices.Clone(st)
	}
	changed[2][3] = "TRUNC"
	v = Validate(&Outcome{Steps: changed}, s)
	require.Zero(t, v.Exact)
	require.Equal(t, 2, v.Server)
	require.Equal(t, 3, v.Index)
	require.Equal(t, "TRUNC", v.Real)
	require.Equal(t, real[2][3], v.Simulated)
	require.Equal(t, 3+6+3, v.Matched, "s3 and s1 whole, s2 up to the changed step")
}

// TestCollapse: a loop is written once and marked, however many times it turned; a single
// occurrence is not a loop.
func TestCollapse(t *testing.T) {
	d, e := "decided LEADING 3", "epoch-wait-timeout"
	require.Equal(t, []string{"start", d, e, repeated, "quorum of NEWLEADER acks 4"},
		collapse([]string{"start", d, e, d, e, d, e, "quorum of NEWLEADER acks 4"}))
	require.Equal(t, []string{"start", "decided FOLLOWING 3", repeated}, collapse([]string{"start", "decided FOLLOWING 3", "decided FOLLOWING 3", "decided FOLLOWING 3"}))
	require.Equal(t, []string{"start", d, e}, collapse([]string{"start", d, e}))
	require.Empty(t, collapse(nil))
}

// TestStepsUntil: a seed's steps after the real run's end are left out of the comparison.
func TestStepsUntil(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	s := Steps{1: {"start", "decided LEADING 1", "epoch-wait-timeout"}}
	at := map[int][]time.Duration{1: {ms(700), ms(950), ms(3000)}}
	require.Equal(t, []string{"start", "decided LEADING 1"}, s.Until(at, ms(2000))[1])
	require.Equal(t, s[1], s.Until(at, 0)[1], "0: a simulated run, nothing cut")
	require.Empty(t, s.Until(at, ms(100))[1])
}
