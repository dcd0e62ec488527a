package checker_test

import (
	"testing"
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/scenarios"
	"zabsim/sim"
)

// These tests break the protocol on purpose, through a sim.Mutator, and expect the checker to
// name the invariant that the breakage violates. Invariants that a historical bug knob breaks
// are shown in scenarios/ (the *-NNNN scenarios) and in the knob sweep test of harness/.

func runMutated(t *testing.T, spec *sim.RunSpec, m *sim.Mutator) *checker.Report {
	t.Helper()
	rep, err := checker.Run(spec, checker.Options{Mutator: m})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func expectOnly(t *testing.T, rep *checker.Report, inv string) {
	t.Helper()
	if !rep.HasViolation(inv) {
		t.Fatalf("expected %s, got %v", inv, rep.ViolationNames())
	}
}

func dropEffects(pred func(id protocol.ServerID, e *protocol.Effect) bool) *sim.Mutator {
	return &sim.Mutator{Effects: func(id protocol.ServerID, effects []protocol.Effect) []protocol.Effect {
		out := effects[:0]
		for i := range effects {
			if !pred(id, &effects[i]) {
				out = append(out, effects[i])
			}
		}
		return out
	}}
}

// TestCleanRunsStayClean guards the mutation tests: without a mutator the same runs are clean.
// Reference: shared/spec/invariants.md.
func TestCleanRunsStayClean(t *testing.T) {
	for _, s := range []*sim.RunSpec{
		scenarios.AssignedCluster(3, 0).StopWhenStable().Spec("clean", 1),
		scenarios.AssignedCluster(3, 0).Disk(1, 2, 2, protocol.MakeZxid(1, 1), protocol.MakeZxid(2, 1)).Disk(2, 2, 1, protocol.MakeZxid(1, 1)).
			Disk(3, 2, 1, protocol.MakeZxid(1, 1)).StartAt(2, 100*time.Millisecond).StopWhenStable().Spec("ahead", 1),
	} {
		if rep := runMutated(t, s, nil); len(rep.Violations) > 0 {
			t.Fatalf("%s: %v", s.Scenario, rep.ViolationNames())
		}
	}
}

// TestAcceptedBeforeAnnouncedFires: the leader "forgets" to persist acceptedEpoch before its
// LEADERINFO leaves. Reference: invariant 4, ZOOKEEPER-1291, spec §2.4 leader step 3.
func TestAcceptedBeforeAnnouncedFires(t *testing.T) {
	m := dropEffects(func(id protocol.ServerID, e *protocol.Effect) bool {
		return id == 3 && e.Kind == protocol.EffectPersist && e.Write.Kind == protocol.WriteAcceptedEpoch
	})
	expectOnly(t, runMutated(t, scenarios.AssignedCluster(3, 0).StopWhenStable().Spec("mut-4", 1), m), checker.AcceptedBeforeAnnounced)
}

// TestOneLeaderPerEpochFires: no epoch file is ever written (a disk that lies), so after a full
// restart a different leader proposes epoch 1 again. Reference: invariant 5, spec §9.1.5.
func TestOneLeaderPerEpochFires(t *testing.T) {
	spec := scenarios.AssignedCluster(3, 0).Crash(1, 2*time.Second).Crash(2, 2*time.Second).Crash(3, 2*time.Second).
		Restart(1, 3*time.Second).Restart(2, 3*time.Second).Restart(3, 3*time.Second).Until(10*time.Second).Spec("mut-5", 1)
	spec.Config.Election.Changes = []protocol.LeaderChange{{At: protocol.Time(2500 * time.Millisecond), Leader: 2}}
	m := dropEffects(func(_ protocol.ServerID, e *protocol.Effect) bool {
		return e.Kind == protocol.EffectPersist && (e.Write.Kind == protocol.WriteAcceptedEpoch || e.Write.Kind == protocol.WriteCurrentEpoch)
	})
	expectOnly(t, runMutated(t, spec, m), checker.OneLeaderPerEpoch)
}

// TestLeaderNotBehindFires: the leader's handler sees a tamed ACKEPOCH from the follower that is
// ahead (the checker saw the real one), so the leader counts a follower ahead of it.
// Reference: invariant 7, spec §5.5 step 2a, Zab1_0Test.testLeaderBehind.
func TestLeaderNotBehindFires(t *testing.T) {
	spec := scenarios.AssignedCluster(3, 0).Disk(1, 2, 2, protocol.MakeZxid(1, 1), protocol.MakeZxid(2, 1)).Disk(2, 2, 1, protocol.MakeZxid(1, 1)).
		Disk(3, 2, 1, protocol.MakeZxid(1, 1)).StartAt(2, 100*time.Millisecond).StopWhenStable().Spec("mut-7", 1)
	m := &sim.Mutator{Input: func(id protocol.ServerID, in *protocol.Input) bool {
		if id == 3 && in.Kind == protocol.InputMessage && in.Msg.Type == protocol.ACKEPOCH && in.From == 1 {
			in.Msg.Epoch, in.Msg.Zxid = 1, protocol.MakeZxid(1, 1)
		}
		return true
	}}
	expectOnly(t, runMutated(t, spec, m), checker.LeaderNotBehind)
}

// TestFollowerEpochGateFires: a learner that had already accepted the epoch answers with a real
// ACKEPOCH instead of -1. Reference: invariant 8, spec §6.3 step 4.
func TestFollowerEpochGateFires(t *testing.T) {
	spec := scenarios.AssignedCluster(3, 0).Disk(1, 0, 0).Disk(2, 0, 0).Disk(3, 0, 0).
		CrashPoint(1, 0, protocol.WriteAcceptedEpoch, 1, sim.CrashAfter).Restart(1, time.Second).StopWhenStable().Spec("mut-8", 1)
	m := &sim.Mutator{Effects: func(id protocol.ServerID, effects []protocol.Effect) []protocol.Effect {
		for i := range effects {
			if e := &effects[i]; id == 1 && e.Kind == protocol.EffectSend && e.Msg.Type == protocol.ACKEPOCH && e.Msg.Epoch == -1 {
				e.Msg.Epoch = 0
			}
		}
		return effects
	}}
	expectOnly(t, runMutated(t, spec, m), checker.FollowerEpochGate)
}

// TestMessageLegalFires: the leader sends a second LEADERINFO after UPTODATE.
// Reference: invariant 21 (MessageLegal / StateConsistent).
func TestMessageLegalFires(t *testing.T) {
	m := &sim.Mutator{Effects: func(id protocol.ServerID, effects []protocol.Effect) []protocol.Effect {
		for i := range effects {
			if e := effects[i]; id == 3 && e.Kind == protocol.EffectSend && e.Msg.Type == protocol.UPTODATE {
				return append(effects, protocol.Effect{Kind: protocol.EffectSend, Conn: e.Conn,
					Msg: protocol.Message{Type: protocol.LEADERINFO, Zxid: protocol.MakeZxid(1, 0)}})
			}
		}
		return effects
	}}
	expectOnly(t, runMutated(t, scenarios.AssignedCluster(3, 0).StopWhenStable().Spec("mut-21", 1), m), checker.MessageLegal)
}

// TestElectionTerminatesFires: the leader never reads a NEWLEADER ACK, so no attempt ever
// completes; after the liveness bound the checker reports it. Reference: invariant 25.
func TestElectionTerminatesFires(t *testing.T) {
	spec := scenarios.AssignedCluster(3, 0).Until(150*time.Second).Spec("mut-25", 1)
	m := &sim.Mutator{Input: func(id protocol.ServerID, in *protocol.Input) bool {
		return !(id == 3 && in.Kind == protocol.InputMessage && in.Msg.Type == protocol.ACK)
	}}
	rep := runMutated(t, spec, m)
	expectOnly(t, rep, checker.ElectionTerminates)
	if rep.HasViolation(checker.FalseLeaderAbdicates) {
		t.Fatalf("the leader gave up at its deadlines; got %v", rep.ViolationNames())
	}
}

// TestSelfElectionRoundCheckFires: a server claims a vote it never received (its decision note
// lists a supporter that voted for someone else), which the checker re-derives from the
// notifications actually delivered. Reference: invariant 23, spec §4.5.
func TestSelfElectionRoundCheckFires(t *testing.T) {
	m := &sim.Mutator{Effects: func(id protocol.ServerID, effects []protocol.Effect) []protocol.Effect {
		for i := range effects {
			if e := &effects[i]; id == 1 && e.Kind == protocol.EffectNote && e.Note.Kind == protocol.NoteElected {
				e.Note.Sids = []protocol.ServerID{1, 2, 4}
			}
		}
		return effects
	}}
	spec := scenarios.Cluster(5, 0).Disk(1, 1, 1, protocol.MakeZxid(1, 2)).StartAt(4, time.Hour).StartAt(5, time.Hour).
		Until(5*time.Second).Spec("mut-23", 1)
	expectOnly(t, runMutated(t, spec, m), checker.SelfElectionRoundCheck)
}

// TestVoteMonotoneAndJoinerFollowsAreQuietWhenFaithful: the same election scenarios the knobs
// break are clean without the knobs (the checks are not trigger-happy).
// Reference: invariants 22 and 26.
func TestVoteMonotoneAndJoinerFollowsAreQuietWhenFaithful(t *testing.T) {
	for _, name := range []string{"higher-epoch-wins", "join-inconsistent-rounds"} {
		s, err := scenarios.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		for seed := uint64(1); seed <= 10; seed++ {
			if rep := runMutated(t, s.Build(seed), nil); len(rep.Violations) > 0 {
				t.Fatalf("%s seed %d: %v", name, seed, rep.ViolationNames())
			}
		}
	}
}
