package scenarios

import (
	"fmt"
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
					sameHistory(r, 12, 1, 2, 3))
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
			Name: "write-during-sync-4394", Family: "writes", Knobs: []string{"CommitAfterNewLeaderNPE"},
			Description: "as write-during-sync with ZOOKEEPER-4394 restored: at NEWLEADER the learner logs the committed txns and drops the proposals not yet committed, so the next COMMIT names a proposal it no longer has",
			Reference:   "ZOOKEEPER-4394, shared/spec/bug-knobs.md",
			Build: func(seed uint64) *sim.RunSpec {
				return writeDuringSync().Knob("CommitAfterNewLeaderNPE").StopWhenStable().Spec("write-during-sync-4394", seed)
			},
			Expect: func(r *checker.Report) error {
				return violationsInclude(r, checker.CommitInSyncWellFormed)
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

// answeredOK expects n writes answered ok.
func answeredOK(r *checker.Report, n int) error {
	if got := r.Probes[protocol.ProbeClientWriteCommitted]; got != n {
		return fmt.Errorf("%d writes answered ok, want %d", got, n)
	}
	return nil
}

// sameHistory expects each of ids to end with the same durable history of n txns, in zxid order,
// holding each write value 1..n once.
func sameHistory(r *checker.Report, n int, ids ...protocol.ServerID) error {
	first, _ := r.Server(ids[0])
	seen := make(map[uint64]bool)
	for _, t := range first.History {
		seen[t.Value] = true
	}
	if len(first.History) != n || len(seen) != n {
		return fmt.Errorf("server %d ends with %d txns (%d values), want %d", ids[0], len(first.History), len(seen), n)
	}
	for _, id := range ids[1:] {
		s, _ := r.Server(id)
		if fmt.Sprint(s.History) != fmt.Sprint(first.History) {
			return fmt.Errorf("server %d ends with history %v, server %d with %v", id, s.History, ids[0], first.History)
		}
	}
	return nil
}
