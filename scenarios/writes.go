package scenarios

import (
	"fmt"
	"slices"
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/sim"
)

// Client writes: the broadcast phase, and writes that meet a sync or a crash.

func init() {
	register(
		Scenario{
			Name: "writes-committed-everywhere", Family: "writes",
			Description: "a cold start of three, then twelve writes asked of all three servers in bursts 1 ms apart: followers forward theirs to leader 3 (REQUEST), every write is answered ok, and every server logs and applies all twelve in the leader's zxid order",
			Reference:   "Leader.propose, tryToCommit; FollowerRequestProcessor; spec §5.9",
			Build: func(seed uint64) *sim.RunSpec {
				b := AssignedCluster(3, 0)
				for i := range 4 {
					t := time.Second + time.Duration(i)*100*time.Millisecond
					b.Writes(1, t).Writes(2, t+time.Millisecond).Writes(3, t+2*time.Millisecond)
				}
				return b.StopWhenStable().Spec("writes-committed-everywhere", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), probe(r, protocol.ProbeClientWriteCommitted), answeredOK(r, 12),
					sameHistory(r, 12, 1, 2, 3), appliedByAll(r, 1, 2, 3))
			},
		},
		Scenario{
			Name: "leader-crash-after-proposal", Family: "writes",
			Description: "leader 3 proposes a write and crashes before its own log write: both followers log the PROPOSAL and ACK into a closed socket, and nobody commits it. When their roles end, each fast-forwards its database over the log, so both report 0x100000001, leader 2 of epoch 2 holds it, and its NEWLEADER quorum commits it: a txn a quorum logged survives its leader",
			Reference:   "ZooKeeperServer.shutdown, ZKDatabase.fastForwardDataBase (ZOOKEEPER-2845's fix)",
			Build: func(seed uint64) *sim.RunSpec {
				return crashAfterProposal().StopWhenStable().Spec("leader-crash-after-proposal", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), established(r, 2, 2, time.Second, 1500*time.Millisecond),
					holds(r, 1, z(1, 1)), holds(r, 2, z(1, 1)), lastZxid(r, 2, z(1, 1)))
			},
		},
		Scenario{
			Name: "leader-crash-after-proposal-2845", Family: "writes", Knobs: []string{"RetainDbWithoutFastForward"},
			Description: "as leader-crash-after-proposal with ZOOKEEPER-2845 restored: the followers keep their databases as they are when their roles end, without the txn they logged, and their votes report 0x0 while their logs hold 0x100000001",
			Reference:   "ZOOKEEPER-2845, shared/spec/bug-knobs.md",
			Build: func(seed uint64) *sim.RunSpec {
				return crashAfterProposal().Knob("RetainDbWithoutFastForward").StopWhenStable().Spec("leader-crash-after-proposal-2845", seed)
			},
			Expect: func(r *checker.Report) error {
				return violationsInclude(r, checker.ReportedZxidIsTrue)
			},
		},
		Scenario{
			Name: "write-during-sync", Family: "writes",
			Description: "voter 1 starts 1 s late, and a burst of writes to leader 3 meets its sync: proposals not yet committed follow the DIFF on its connection ahead of NEWLEADER, COMMITs come in between, and after UPTODATE voter 1 logs, ACKs and applies them in order, ending with all 40",
			Reference:   "LearnerHandler.syncFollower (startForwarding), Learner.syncWithLeader (packetsNotLogged, packetsCommitted)",
			Build: func(seed uint64) *sim.RunSpec {
				return writeDuringSync().StopWhenStable().Spec("write-during-sync", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), probe(r, protocol.ProbeWriteDuringSync), answeredOK(r, 40), sameHistory(r, 40, 1, 2, 3))
			},
		},
		Scenario{
			Name: "follower-misses-writes-diff", Family: "writes",
			Description: "voter 1 is down while four writes commit on leader 3 and voter 2; when it restarts, the leader DIFFs the four from its committedLog, and all three end with the same five txns",
			Reference:   "LearnerHandler.syncFollower (DIFF from the committedLog), Zab1_0Test.testNormalFollowerRun",
			Build: func(seed uint64) *sim.RunSpec {
				return AssignedCluster(3, 0).Writes(3, time.Second).Crash(1, 1500*time.Millisecond).
					Writes(2, 2*time.Second, 2001*time.Millisecond).Writes(3, 2002*time.Millisecond, 2003*time.Millisecond).
					Restart(1, 3*time.Second).StopWhenStable().Spec("follower-misses-writes-diff", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), synced2(r, 3, 1, 1, "DIFF"), answeredOK(r, 5), sameHistory(r, 5, 1, 2, 3))
			},
		},
		Scenario{
			Name: "old-leader-uncommitted-tail-trunc", Family: "writes",
			Description: "leader 3 logs writes 3 and 4 after both followers died, and dies too; voters 1 and 2 come back and form epoch 2 under leader 2 with writes 1-2, and when 3 returns before any write of epoch 2 its two-txn tail of epoch 1 is TRUNCated away",
			Reference:   "LearnerHandler.syncFollower (TRUNC), Learner.syncWithLeader; QuorumPeerMainTest.testHighestZxidJoinLate, first half",
			Build: func(seed uint64) *sim.RunSpec {
				return uncommittedTail().Restart(3, 5*time.Second).StopWhenStable().Spec("old-leader-uncommitted-tail-trunc", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), synced(r, 2, 3, 2, "TRUNC"), probe(r, protocol.ProbeTruncMultiTxn), answeredOK(r, 2),
					sameHistory(r, 2, 1, 2, 3))
			},
		},
		Scenario{
			Name: "highest-zxid-joins-late", Family: "writes",
			Description: "as old-leader-uncommitted-tail-trunc, but epoch 2 commits write 5 before 3 returns: the tail of epoch 1 would need a TRUNC across an epoch boundary, which syncFollower refuses, so 3 gets a SNAP, loses writes 3 and 4 and gains write 5",
			Reference:   "QuorumPeerMainTest.testHighestZxidJoinLate (ZOOKEEPER-1154, 1156); LearnerHandler.queueCommittedProposals (\"Cannot send TRUNC to peer ... different epoch\")",
			Build: func(seed uint64) *sim.RunSpec {
				return uncommittedTail().Writes(2, 4*time.Second).Restart(3, 5*time.Second).StopWhenStable().Spec("highest-zxid-joins-late", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), synced(r, 2, 3, 2, "SNAP"), probe(r, protocol.ProbeSnapFromRefusedTrunc), answeredOK(r, 3),
					sameHistory(r, 3, 1, 2, 3))
			},
		},
		Scenario{
			Name: "isolated-leader-failed-txn", Family: "writes",
			Description: "leader 3 of a cold start loses both followers, logs write 3 alone before it notices, and goes LOOKING with the txn in its log and database; a partition keeps it away while voters 1 and 2 restart and form epoch 2 under 2. After the heal (its dial cut by the partition first times out, and its poll waits have grown) it follows 2 and the failed txn is TRUNCated, and stays gone across a restart of 3",
			Reference:   "QuorumPeerMainTest.testFailedTxnAsPartOfQuorumLoss (ZOOKEEPER-2845)",
			Build: func(seed uint64) *sim.RunSpec {
				return Cluster(3, 0).Writes(3, time.Second, 1001*time.Millisecond).Crash(1, 2*time.Second).Crash(2, 2*time.Second).
					Writes(3, 2050*time.Millisecond).Partition(2500*time.Millisecond, 4*time.Second, []protocol.ServerID{3}, []protocol.ServerID{1, 2}).
					Restart(1, 3*time.Second).Restart(2, 3*time.Second).Crash(3, 25*time.Second).Restart(3, 25500*time.Millisecond).
					StopWhenStable().Spec("isolated-leader-failed-txn", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), truncBefore(r, 2, 3, 2, 25*time.Second), lacks(r, 3, z(1, 3)), answeredOK(r, 2),
					sameHistory(r, 2, 1, 2, 3))
			},
		},
		Scenario{
			Name: "write-during-sync-4394", Family: "writes", Knobs: []string{"CommitAfterNewLeaderNPE"},
			Description: "as write-during-sync with ZOOKEEPER-4394 restored: at NEWLEADER the learner logs the committed txns and drops the proposals not yet committed, so the next COMMIT names a proposal it no longer has (during the sync: CommitInSyncWellFormed; just after UPTODATE: the follower exits)",
			Reference:   "ZOOKEEPER-4394, shared/spec/bug-knobs.md",
			Build: func(seed uint64) *sim.RunSpec {
				return writeDuringSync().Knob("CommitAfterNewLeaderNPE").StopWhenStable().Spec("write-during-sync-4394", seed)
			},
			Expect: func(r *checker.Report) error {
				// Usually the COMMIT comes before UPTODATE and CommitInSyncWellFormed sees it;
				// when it comes just after, the follower exits on it (UNMATCHED_TXN_COMMIT,
				// the NPE's place in master's code), a few runs in a thousand.
				if err := violationsInclude(r, checker.CommitInSyncWellFormed); err != nil {
					if roleEnd(r, 1, "FOLLOWING", 0, "exit: Committing zxid", time.Second, 2*time.Second) != nil {
						return err
					}
				}
				return nil
			},
		},
	)
}

// crashAfterProposal: a cold start of three; at 1 s a client asks leader 3 for a write, and 3
// crashes before its own log write of it (its PROPOSALs are already on the wire). Leader 2 is
// assigned from then on.
func crashAfterProposal() *Builder {
	return AssignedCluster(3, 0).Writes(3, time.Second).CrashPoint(3, time.Second, protocol.WriteTxns, 1, sim.CrashBefore).
		LeaderChange(time.Second, 2)
}

// writeDuringSync: voter 1 starts 1 s late; from 1.19 s a client asks leader 3 for 40 writes,
// 1 ms apart, across voter 1's election, registration and sync.
func writeDuringSync() *Builder {
	b := AssignedCluster(3, 0).StartAt(1, time.Second)
	for i := range 40 {
		b.Writes(3, 1190*time.Millisecond+time.Duration(i)*time.Millisecond)
	}
	return b
}

// uncommittedTail: writes 1-2 commit on a cold start of three; both followers crash at 2 s and
// leader 3 logs writes 3 and 4 alone (it notices the lost quorum only at its next tick), then
// crashes at 2.5 s. Voters 1 and 2 restart at 3 s under leader 2.
func uncommittedTail() *Builder {
	return AssignedCluster(3, 0).Writes(3, time.Second, 1001*time.Millisecond).Crash(1, 2*time.Second).Crash(2, 2*time.Second).
		Writes(3, 2050*time.Millisecond, 2051*time.Millisecond).Crash(3, 2500*time.Millisecond).
		LeaderChange(2500*time.Millisecond, 2).Restart(1, 3*time.Second).Restart(2, 3*time.Second)
}

// synced2 expects a sync of learner by leader in epoch with mode, any of them (not only the
// first).
func synced2(r *checker.Report, leader, learner protocol.ServerID, epoch protocol.Epoch, mode string) error {
	for _, s := range r.Syncs {
		if s.Leader == leader && s.Learner == learner && s.Epoch == epoch && s.Mode == mode {
			return nil
		}
	}
	return fmt.Errorf("leader %d never synced learner %d in epoch %d with %s (syncs: %+v)", leader, learner, epoch, mode, r.Syncs)
}

// truncBefore expects learner to be TRUNCated by leader in epoch before t.
func truncBefore(r *checker.Report, leader, learner protocol.ServerID, epoch protocol.Epoch, t time.Duration) error {
	for _, s := range r.Syncs {
		if s.Leader == leader && s.Learner == learner && s.Epoch == epoch && s.Mode == "TRUNC" && s.At < protocol.Time(t) {
			return nil
		}
	}
	return fmt.Errorf("leader %d did not TRUNC learner %d in epoch %d before %s (syncs: %+v)", leader, learner, epoch, t, r.Syncs)
}

// syncedTwice expects two syncs of learner by leader in epoch with mode.
func syncedTwice(r *checker.Report, leader, learner protocol.ServerID, epoch protocol.Epoch, mode string) error {
	n := 0
	for _, s := range r.Syncs {
		if s.Leader == leader && s.Learner == learner && s.Epoch == epoch && s.Mode == mode {
			n++
		}
	}
	if n < 2 {
		return fmt.Errorf("leader %d synced learner %d in epoch %d with %s %d times, want 2 (syncs: %+v)", leader, learner, epoch, mode, n, r.Syncs)
	}
	return nil
}

// appliedByAll expects every write to have been applied in broadcast by each of ids.
func appliedByAll(r *checker.Report, ids ...protocol.ServerID) error {
	for _, w := range r.Writes {
		if !slices.Equal(w.AppliedBy, ids) {
			return fmt.Errorf("write %d applied by %v, want %v", w.Value, w.AppliedBy, ids)
		}
	}
	return nil
}

// answeredOK expects n writes answered ok.
func answeredOK(r *checker.Report, n int) error {
	if got := r.Probes[protocol.ProbeClientWriteCommitted]; got != n {
		return fmt.Errorf("%d writes answered ok, want %d", got, n)
	}
	return nil
}

// sameHistory expects each of ids to end with the same durable history of n txns, in zxid order
// (the report's histories are), whose values are exactly the answered writes' (each once).
func sameHistory(r *checker.Report, n int, ids ...protocol.ServerID) error {
	first, _ := r.Server(ids[0])
	var want []uint64
	for _, w := range r.Writes {
		if w.Answer == "ok" {
			want = append(want, w.Value)
		}
	}
	var got []uint64
	for _, t := range first.History {
		got = append(got, t.Value)
	}
	slices.Sort(want)
	slices.Sort(got)
	if len(first.History) != n || !slices.Equal(got, want) {
		return fmt.Errorf("server %d ends with values %v, want the %d answered ok: %v", ids[0], got, n, want)
	}
	for _, id := range ids[1:] {
		s, _ := r.Server(id)
		if fmt.Sprint(s.History) != fmt.Sprint(first.History) {
			return fmt.Errorf("server %d ends with history %v, server %d with %v", id, s.History, ids[0], first.History)
		}
	}
	return nil
}

// staleAck: five voters, leader 5, one write committed everywhere. A second write to the leader reaches voter 1 at once, but the
// learner port from 5 to voters 2-4 holds everything for 1.5 s (TCP retransmitting), so only
// 5 and 1 log and ack it. Voter 1 crashes and restarts while the proposal waits; its
// FOLLOWERINFO reports the proposal, which is past the leader's committedLog, so the leader
// TRUNCs it to 0x100000001, and voter 1 dies again just after the truncation. When the held
// PROPOSALs arrive, voter 2 acks first, then 3 and 4.
func staleAck() *Builder {
	const w = 2 * time.Second
	b := AssignedCluster(5, 0).ExactTiming().Writes(5, time.Second, w)
	for _, held := range []struct {
		to   []protocol.ServerID
		heal time.Duration
	}{{[]protocol.ServerID{2}, 1500 * time.Millisecond}, {[]protocol.ServerID{3, 4}, 1600 * time.Millisecond}} {
		b.fault(sim.Fault{Kind: sim.FaultPartition, At: at(w - time.Millisecond), Heal: at(w + held.heal),
			OneWay: true, Port: sim.PortLearner, Groups: [][]protocol.ServerID{{5}, held.to}})
	}
	return b.Crash(1, w+40*time.Millisecond).Restart(1, w+100*time.Millisecond).
		CrashPoint(1, w+100*time.Millisecond, protocol.WriteTruncate, 1, sim.CrashAfter)
}

func init() {
	register(
		Scenario{
			Name: "resync-drops-stale-ack", Family: "writes",
			Description: "a proposal acked by leader 5 and voter 1 only; voter 1 restarts, is TRUNCated below it and dies after the truncation. The leader forgets voter 1's ack at the TRUNC, so the proposal commits only when the third real ack reaches it (voter 3's or 4's, 100 ms after voter 2's)",
			Reference:   "LearnerHandler.syncFollower; Leader.removeLearnerHandler keeps the acks (the AcksKeptAcrossResync knob)",
			Build: func(seed uint64) *sim.RunSpec {
				return staleAck().StopWhenStable().Spec("resync-drops-stale-ack", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), probe(r, protocol.ProbeResyncDroppedAck), probe(r, protocol.ProbeSyncTRUNC), answeredOK(r, 2))
			},
		},
		Scenario{
			Name: "stale-ack-after-trunc", Family: "writes", Knobs: []string{"AcksKeptAcrossResync"},
			Description: "as resync-drops-stale-ack with ZooKeeper's ack sets: the leader still counts voter 1's ack after the TRUNC removed the txn from its log, so voter 2's ack makes three and the proposal commits while only voters 5 and 2 hold it: a crash of both now loses a txn C promised",
			Reference:   "Leader.removeLearnerHandler, Leader.processAck, LearnerHandler.syncFollower (found by zabsim)",
			Build: func(seed uint64) *sim.RunSpec {
				return staleAck().Knob("AcksKeptAcrossResync").StopWhenStable().Spec("stale-ack-after-trunc", seed)
			},
			Expect: func(r *checker.Report) error {
				return violationsInclude(r, checker.CommittedDurability)
			},
		},
	)
}
