package checker_test

import (
	"testing"
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/scenarios"
	"zabsim/sim"
)

// Mutation tests for the client-transaction invariants (10-20 of docs/invariants.md): each breaks
// the protocol on purpose and expects the checker to name the invariant. The faithful versions
// of the same runs are clean (TestHistoryRunsStayClean).

// writesAt adds client writes to server id at each time.
func writesAt(spec *sim.RunSpec, id protocol.ServerID, at ...time.Duration) *sim.RunSpec {
	for _, t := range at {
		spec.Writes = append(spec.Writes, sim.ClientWrite{At: protocol.Time(t), Server: id})
	}
	return spec
}

// behind: servers 2 and 3 hold 1:1, 1:2 and 1:3; server 1 holds only 1:1, and leader 3 DIFFs
// it 1:2 and 1:3 from its committedLog.
func behind() *sim.RunSpec {
	one, two, three := protocol.MakeZxid(1, 1), protocol.MakeZxid(1, 2), protocol.MakeZxid(1, 3)
	return scenarios.AssignedCluster(3, 0).Disk(1, 1, 1, one).Disk(2, 1, 1, one, two, three).Disk(3, 1, 1, one, two, three).
		StopWhenStable().Spec("behind", 1)
}

// withWrites: a cold start of three, then five writes to the leader.
func withWrites() *sim.RunSpec {
	return writesAt(scenarios.AssignedCluster(3, 0).Until(5*time.Second).Spec("writes", 1), 3,
		time.Second, 1100*time.Millisecond, 1200*time.Millisecond, 1300*time.Millisecond, 1400*time.Millisecond)
}

func TestHistoryRunsStayClean(t *testing.T) {
	for _, s := range []*sim.RunSpec{behind(), withWrites()} {
		rep := runMutated(t, s, nil)
		if len(rep.Violations) > 0 {
			t.Fatalf("%s: %v", s.Scenario, rep.ViolationNames())
		}
	}
	rep := runMutated(t, withWrites(), nil)
	if rep.Probes[protocol.ProbeClientWriteCommitted] == 0 {
		t.Fatal("no write was committed: the write tests would judge nothing")
	}
}

// A follower acks a proposal ahead of its NEWLEADER ACK (ZOOKEEPER-4685's order).
func TestFirstAckIsNewLeaderAckFires(t *testing.T) {
	m := &sim.Mutator{Effects: func(id protocol.ServerID, effects []protocol.Effect) []protocol.Effect {
		for i := range effects {
			e := effects[i]
			if id == 1 && e.Kind == protocol.EffectSend && e.Msg.Type == protocol.ACK && e.Msg.Zxid.Counter() == 0 && e.Msg.Zxid.Epoch() > 0 {
				early := e
				early.Msg.Zxid = protocol.MakeZxid(e.Msg.Zxid.Epoch(), 1)
				return append(append(effects[:i:i], early), effects[i:]...)
			}
		}
		return effects
	}}
	expectOnly(t, runMutated(t, behind(), m), checker.FirstAckIsNewLeaderAck)
}

// The leader slips a COMMIT for a zxid it never proposed into a sync (the learner holds no
// proposal for it, as after ZOOKEEPER-4394's NEWLEADER).
func TestCommitInSyncWellFormedFires(t *testing.T) {
	m := &sim.Mutator{Effects: func(id protocol.ServerID, effects []protocol.Effect) []protocol.Effect {
		for i := range effects {
			e := effects[i]
			if id == 3 && e.Kind == protocol.EffectSend && e.Msg.Type == protocol.NEWLEADER {
				bogus := e
				bogus.Msg = protocol.Message{Type: protocol.COMMIT, Zxid: protocol.MakeZxid(1, 9)}
				return append(append(effects[:i:i], bogus), effects[i:]...)
			}
		}
		return effects
	}}
	expectOnly(t, runMutated(t, behind(), m), checker.CommitInSyncWellFormed)
}

// dropSyncTxns drops the leader's PROPOSAL and COMMIT packets of a sync for zxids z matching
// pred (the DIFF stream: before the leader is in BROADCAST).
func dropSyncTxns(pred func(protocol.Zxid) bool) *sim.Mutator {
	return dropEffects(func(id protocol.ServerID, e *protocol.Effect) bool {
		return id == 3 && e.Kind == protocol.EffectSend && (e.Msg.Type == protocol.PROPOSAL || e.Msg.Type == protocol.COMMIT) &&
			e.Msg.Zxid.Epoch() == 1 && pred(e.Msg.Zxid)
	})
}

// The DIFF says "in sync" but its txns never leave: the learner acks UPTODATE behind what the
// leader had committed (ZOOKEEPER-3023's stateConsistent).
func TestUptodateFreshFires(t *testing.T) {
	spec := behind()
	spec.StopWhenStable, spec.Until = false, protocol.Time(2*time.Second) // let the UPTODATE ACK arrive
	expectOnly(t, runMutated(t, spec, dropSyncTxns(func(protocol.Zxid) bool { return true })), checker.UptodateFresh)
}

// A hole in the DIFF stream: 1:2 is dropped, 1:3 arrives (ZOOKEEPER-4925).
func TestContiguousDiffFires(t *testing.T) {
	m := dropSyncTxns(func(z protocol.Zxid) bool { return z == protocol.MakeZxid(1, 2) })
	expectOnly(t, runMutated(t, behind(), m), checker.ContiguousDiff)
}

// dropFollowerLogs makes the followers' txn-log writes vanish (a disk that lies about fsync):
// they ACK, the leader commits and answers, but only the leader holds the txns.
func dropFollowerLogs() *sim.Mutator {
	return dropEffects(func(id protocol.ServerID, e *protocol.Effect) bool {
		return id != 3 && e.Kind == protocol.EffectPersist && e.Write.Kind == protocol.WriteTxns
	})
}

// Writes answered ok end up on one voter of three.
func TestCommittedDurabilityFires(t *testing.T) {
	expectOnly(t, runMutated(t, withWrites(), dropFollowerLogs()), checker.CommittedDurability)
}

// Then every server crashes, and the two followers, which never really logged the writes,
// restart and form the next ensemble: its leader lacks committed txns.
func TestLeaderCompletenessFires(t *testing.T) {
	spec := withWrites()
	for _, id := range []protocol.ServerID{1, 2, 3} {
		spec.Faults = append(spec.Faults, sim.Fault{Kind: sim.FaultCrash, At: protocol.Time(2 * time.Second), Server: id})
	}
	for _, id := range []protocol.ServerID{1, 2} {
		spec.Faults = append(spec.Faults, sim.Fault{Kind: sim.FaultRestart, At: protocol.Time(2200 * time.Millisecond), Server: id})
	}
	spec.Config.Election.Changes = []protocol.LeaderChange{{At: protocol.Time(2100 * time.Millisecond), Leader: 2}}
	spec.Until = protocol.Time(8 * time.Second)
	expectOnly(t, runMutated(t, spec, dropFollowerLogs()), checker.LeaderCompleteness)
}

// A learner's ACKEPOCH claims less than its database holds (0 instead of 1:1).
func TestReportedZxidIsTrueFires(t *testing.T) {
	m := &sim.Mutator{Effects: func(id protocol.ServerID, effects []protocol.Effect) []protocol.Effect {
		for i := range effects {
			if e := &effects[i]; id == 1 && e.Kind == protocol.EffectSend && e.Msg.Type == protocol.ACKEPOCH {
				e.Msg.Zxid = 0
			}
		}
		return effects
	}}
	expectOnly(t, runMutated(t, behind(), m), checker.ReportedZxidIsTrue)
}

// tamperLogged makes server id's txn-log writes put value 77 on disk for zxid z (a disk that
// corrupts what it stores); its memory keeps the true txn.
func tamperLogged(id protocol.ServerID, z protocol.Zxid) *sim.Mutator {
	return &sim.Mutator{Effects: func(sid protocol.ServerID, effects []protocol.Effect) []protocol.Effect {
		for i := range effects {
			e := &effects[i]
			if sid != id || e.Kind != protocol.EffectPersist || e.Write.Kind != protocol.WriteTxns {
				continue
			}
			txns := append([]protocol.Txn(nil), e.Write.Txns...) // the effect shares the peer's slice
			for k := range txns {
				if txns[k].Zxid == z {
					txns[k].Value = 77
				}
			}
			e.Write.Txns = txns
		}
		return effects
	}}
}

// The learner's NEWLEADER step logs 1:2 with another value: it acks NEWLEADER with a durable
// history that is not a prefix of its leader's.
func TestSyncChoiceSoundFires(t *testing.T) {
	expectOnly(t, runMutated(t, behind(), tamperLogged(1, protocol.MakeZxid(1, 2))), checker.SyncChoiceSound)
}

// The leader's first snapshot is labelled 1:2 though it holds 1:3.
func TestSnapshotLabelExactFires(t *testing.T) {
	m := &sim.Mutator{Effects: func(id protocol.ServerID, effects []protocol.Effect) []protocol.Effect {
		for i := range effects {
			if e := &effects[i]; id == 3 && e.Kind == protocol.EffectPersist && e.Write.Kind == protocol.WriteSnapshot {
				e.Write.Zxid = protocol.MakeZxid(1, 2)
			}
		}
		return effects
	}}
	expectOnly(t, runMutated(t, behind(), m), checker.SnapshotLabelExact)
}

// The leader's INFORM to observer 4 carries the first write's value for the second: the observer
// delivers a txn that is not the committed one (HistoryConsistency judges only followers).
func TestZabOrderFires(t *testing.T) {
	spec := writesAt(scenarios.AssignedCluster(3, 1).Until(5*time.Second).Spec("writes-observer", 1), 3,
		time.Second, 1100*time.Millisecond, 1200*time.Millisecond)
	m := &sim.Mutator{Effects: func(id protocol.ServerID, effects []protocol.Effect) []protocol.Effect {
		for i := range effects {
			e := &effects[i]
			if id == 3 && e.Kind == protocol.EffectSend && e.Msg.Type == protocol.INFORM && e.Msg.Zxid.Counter() == 2 {
				e.Msg.Txn.Value = 1 // the first write's value: a real write, at the wrong zxid
			}
		}
		return effects
	}}
	rep := runMutated(t, spec, m)
	expectOnly(t, rep, checker.ZabOrder)
	if rep.HasViolation(checker.HistoryConsistency) {
		t.Fatalf("an observer's delivery is ZabOrder's alone, got %v", rep.ViolationNames())
	}
}

// A follower's disk stores the third write with another value while its memory has the
// leader's: in BROADCAST it logs a txn its leader does not have.
func TestHistoryConsistencyFires(t *testing.T) {
	rep := runMutated(t, withWrites(), tamperLogged(1, protocol.MakeZxid(1, 3)))
	expectOnly(t, rep, checker.HistoryConsistency)
}
