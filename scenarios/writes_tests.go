package scenarios

import (
	"fmt"
	"slices"
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/sim"
)

// ZooKeeper's own tests of the sync under client writes, restated.

// txnLoss is DIFFSyncTest.testTxnLoss_FailToPersistAndCommitTxns with S0, S1, S2 as voters 1,
// 2, 3 (leader 3). Two writes; voter 1 goes down; a third write; voter 2 goes down; voter 1
// restarts and is DIFFed the third write, and the first txn-log write after its NEWLEADER ACK
// fails (the test's MockSyncRequestProcessor); leader 3 goes down; voter 2 restarts; a write
// to voter 2; leader 3 restarts.
func txnLoss() *Builder {
	return Cluster(3, 0).Writes(3, time.Second, 1100*time.Millisecond).Crash(1, 1500*time.Millisecond).
		Writes(3, 2*time.Second).Crash(2, 2500*time.Millisecond).
		Restart(1, 3*time.Second).DiskFault(1, 3*time.Second, protocol.WriteTxns, 1).
		Crash(3, 5*time.Second).Restart(2, 6*time.Second).Writes(2, 9*time.Second).Restart(3, 10*time.Second)
}

// newLeaderOrder is QuorumPeerMainTest.testInconsistentDueToNewLeaderOrder: follower 1 is down
// while a write commits, so it returns to a SNAP; a burst of writes meets that sync (the test
// writes from startForwarding and from the snapshot's start); follower 1 dies right after the
// last write of its NEWLEADER step, before its ACK; it restarts. The model sends the snapshot
// as the database was at syncFollower; ZooKeeper serializes it later, so it can already hold
// some of the forwarded proposals, which the model does not reproduce.
func newLeaderOrder() *Builder {
	b := Cluster(3, 0).Crash(1, 1500*time.Millisecond).Writes(3, 2*time.Second).Restart(1, 3*time.Second)
	for i := range 300 {
		b.Writes(3, 2990*time.Millisecond+time.Duration(i)*time.Millisecond)
	}
	return b.CrashPoint(1, 3*time.Second, protocol.WriteClearUpdatingEpochMarker, 1, sim.CrashAfter).Restart(1, 5*time.Second)
}

func init() {
	register(
		Scenario{
			Name: "txn-loss-diff-sync", Family: "writes",
			Description: "DIFFSyncTest.testTxnLoss_FailToPersistAndCommitTxns: voter 1 is DIFFed the write it missed, and its txn-log write fails; since it logs the DIFF's txns before it writes currentEpoch and ACKs, the failure leaves it LOOKING with currentEpoch 1, voter 2 (with the write) leads epoch 3 once leader 3 is down, and every write survives",
			Reference:   "DIFFSyncTest.testTxnLoss_FailToPersistAndCommitTxns; Learner.syncWithLeader (ZOOKEEPER-4643, 4785)",
			Build: func(seed uint64) *sim.RunSpec {
				return txnLoss().StopWhenStable().Spec("txn-loss-diff-sync", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), synced2(r, 3, 1, 2, "DIFF"), answeredOK(r, 4), sameHistory(r, 4, 1, 2, 3))
			},
		},
		Scenario{
			Name: "txn-loss-diff-sync-4643", Family: "writes", Knobs: []string{"CurrentEpochBeforeTxnsDurable"},
			Description: "txn-loss-diff-sync with 3.8.0's NEWLEADER: voter 1 writes currentEpoch 2 and ACKs before the DIFF's txn is logged, the write then fails, and voter 1, with the higher currentEpoch and without the write, wins against voter 2 and TRUNCates it: the third write is lost",
			Reference:   "ZOOKEEPER-4643, DIFFSyncTest.testTxnLoss_FailToPersistAndCommitTxns",
			Build: func(seed uint64) *sim.RunSpec {
				return txnLoss().Knob("CurrentEpochBeforeTxnsDurable").StopWhenStable().Spec("txn-loss-diff-sync-4643", seed)
			},
			Expect: func(r *checker.Report) error {
				return violationsInclude(r, checker.AckImpliesDurable)
			},
		},
		Scenario{
			Name: "newleader-order-snap", Family: "writes",
			Description: "QuorumPeerMainTest.testInconsistentDueToNewLeaderOrder: follower 1 returns to a SNAP while 300 writes meet its sync, dies after its NEWLEADER step's writes and before its ACK, and restarts: it loads the snapshot it took at NEWLEADER and is synced again, and all three end with the same history of every answered write",
			Reference:   "QuorumPeerMainTest.testInconsistentDueToNewLeaderOrder; LearnerHandler.run (SNAP before NEWLEADER), Learner.syncWithLeader",
			Build: func(seed uint64) *sim.RunSpec {
				return newLeaderOrder().StopWhenStable().Spec("newleader-order-snap", seed)
			},
			Expect: func(r *checker.Report) error {
				n := r.Probes[protocol.ProbeClientWriteCommitted]
				return all(violations(r), synced2(r, 3, 1, 1, "SNAP"), probe(r, protocol.ProbeWriteDuringSync), sameHistory(r, n, 1, 2, 3))
			},
		},
	)
}

func init() {
	register(Scenario{
		Name: "observer-run-with-proposals", Family: "writes",
		Description: "Zab1_0Test.testNormalObserverRun with writes: a first write reaches observer 4 by INFORM; it goes down while three more commit, so when it returns its sync is a DIFF of committed PROPOSAL/COMMIT pairs; then two writes are asked of the observer, which forwards them to leader 3 (REQUEST), learns each commit by INFORM, logs and applies it, and answers ok; the observer never acks and is never counted",
		Reference:   "Zab1_0Test.testNormalObserverRun; Leader.commit (INFORM), ObserverZooKeeperServer.commitRequest, Observer.processPacket",
		Build: func(seed uint64) *sim.RunSpec {
			return AssignedCluster(3, 1).Writes(3, 500*time.Millisecond).Crash(4, 800*time.Millisecond).
				Writes(3, time.Second, 1001*time.Millisecond, 1002*time.Millisecond).Restart(4, 2*time.Second).
				Writes(4, 3*time.Second, 3001*time.Millisecond).StopWhenStable().Spec("observer-run-with-proposals", seed)
		},
		Expect: func(r *checker.Report) error {
			for _, w := range r.Writes {
				if slices.Contains(w.Acks, 4) {
					return fmt.Errorf("write %d counted observer 4's ack: %v", w.Value, w.Acks)
				}
			}
			return all(violations(r), synced2(r, 3, 4, 1, "DIFF"), answeredOK(r, 6), sameHistory(r, 6, 1, 2, 3, 4))
		},
	})
}
