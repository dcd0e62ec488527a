package scenarios

import (
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/sim"
)

// Learners whose epochs or histories disagree with the leader's.

func init() {
	register(
		Scenario{
			Name: "follower-ahead-of-leader", Family: "epochs",
			Description: "voter 1 has currentEpoch 2 and a txn of epoch 2; the assigned leader 3 has currentEpoch 1. Voter 1's ACKEPOCH is ahead, so only its handler ends (\"Follower is ahead of the leader\"); the leader establishes epoch 3 with voter 2 (started 100 ms later), and voter 1 then rejoins as a late joiner, which is not checked. Its last zxid is past the leader's committed log and of another epoch, so it gets a SNAP of the leader's history (ZooKeeper would send TRUNC 0x100000001 here: see the TruncToZxidNotHeld knob)",
			Reference:   "spec §5.5 step 2a, §5.6 rule 3, Zab1_0Test.testLeaderBehind",
			Build: func(seed uint64) *sim.RunSpec {
				return AssignedCluster(3, 0).StartAt(2, 100*time.Millisecond).
					Disk(1, 2, 2, z(1, 1), z(2, 1)).Disk(2, 2, 1, z(1, 1)).Disk(3, 2, 1, z(1, 1)).
					StopWhenStable().Spec("follower-ahead-of-leader", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r),
					roleEnd(r, 3, "LearnerHandler", 1, "Follower is ahead of the leader", 200*time.Millisecond, 250*time.Millisecond),
					probe(r, protocol.ProbeFollowerAhead),
					established(r, 3, 3, 300*time.Millisecond, 400*time.Millisecond),
					synced(r, 3, 2, 3, "DIFF"), synced(r, 3, 1, 3, "SNAP"),
					allEpochs(r, 3, 1, 2, 3), lastZxid(r, 1, z(3, 0)))
			},
		},
		Scenario{
			Name: "old-leader-uncommitted-txn-snap", Family: "epochs",
			Description: "leader 3 of epoch 1 logged 0x100000001 alone and died, and voters 1 and 2 formed epoch 2 without it; now voter 2 leads epoch 3, and 3 joins while 2 activates (lastProcessedZxid 0; voter 1 starts 100 ms late). Its last zxid is past the leader's committed log and of another epoch, so it gets a SNAP of the leader's empty history and loses the uncommitted txn, also after a restart. ZooKeeper sends TRUNC 0x0 here (phantom-txn-after-trunc)",
			Reference:   "LearnerHandler.syncFollower; measured on ZooKeeper 3.8.0 (docs/knobs.md, TruncToZxidNotHeld)",
			Build: func(seed uint64) *sim.RunSpec {
				// The restart pins the model's assumption that a SNAP's learner does not replay
				// its older log files (README, Modelling choices).
				return phantomTrunc().Crash(3, time.Second).Restart(3, 1500*time.Millisecond).StopWhenStable().Spec("old-leader-uncommitted-txn-snap", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), established(r, 2, 3, 200*time.Millisecond, 300*time.Millisecond),
					syncedByArrival(r, 2, 1, 3), synced(r, 2, 3, 3, "SNAP"), probe(r, protocol.ProbeSnapFromRefusedTrunc),
					lacks(r, 3, z(1, 1)), allEpochs(r, 3, 1, 2, 3))
			},
		},
		Scenario{
			Name: "phantom-txn-after-trunc", Family: "epochs", Knobs: []string{"TruncToZxidNotHeld"},
			Description: "as old-leader-uncommitted-txn-snap with ZooKeeper's own rule: leader 2 sends TRUNC 0x0, FileTxnLog.truncate keeps 0x100000001 (the first txn above the target), and server 3 writes it into the NEWLEADER snapshot labelled 0x0 and serves it: a txn no leader of epoch 2 has",
			Reference:   "LearnerHandler.syncFollower, FileTxnLog.truncate; reproduced on ZooKeeper 3.8.0 (docs/knobs.md, TruncToZxidNotHeld)",
			Build: func(seed uint64) *sim.RunSpec {
				return phantomTrunc().Knob("TruncToZxidNotHeld").StopWhenStable().Spec("phantom-txn-after-trunc", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violationsInclude(r, checker.SyncChoiceSound, checker.SnapshotLabelExact), synced(r, 2, 3, 3, "TRUNC"),
					lastZxid(r, 3, z(1, 1)), holds(r, 3, z(1, 1)))
			},
		},
		Scenario{
			Name: "snap-synced-learner-trunc", Family: "epochs",
			Description: "voter 1 was SNAP-synced at 0x100000002 (its log starts above it) and then logged 0x100000003, which its leader never made durable; leaders 3 and 2 hold 0x100000002. Voter 1 comes back after 3 leads epoch 2 and gets TRUNC 0x100000002, a zxid its log lacks (it is in the snapshot): the model's exact cut leaves it the leader's history",
			Reference:   "LearnerHandler.syncFollower, FileTxnLog.truncate, FileTxnIterator.init",
			Build: func(seed uint64) *sim.RunSpec {
				return snapSyncedTrunc().StopWhenStable().Spec("snap-synced-learner-trunc", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), synced(r, 3, 1, 2, "TRUNC"), probe(r, protocol.ProbeTruncTargetNotLogged),
					lastZxid(r, 1, z(1, 2)), allEpochs(r, 2, 1, 2, 3))
			},
		},
		Scenario{
			Name: "phantom-txn-after-snap-trunc", Family: "epochs", Knobs: []string{"TruncToZxidNotHeld"},
			Description: "as snap-synced-learner-trunc with ZooKeeper's truncate: the iterator stops at 0x100000003, the first logged txn at or above the target, and the file is cut after it, so voter 1 keeps the uncommitted 0x100000003 in epoch 2. No epoch boundary is crossed: the leader's rule is not to blame, the truncation is",
			Reference:   "FileTxnLog.truncate, FileTxnIterator.init (docs/knobs.md, TruncToZxidNotHeld)",
			Build: func(seed uint64) *sim.RunSpec {
				return snapSyncedTrunc().Knob("TruncToZxidNotHeld").StopWhenStable().Spec("phantom-txn-after-snap-trunc", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violationsInclude(r, checker.SyncChoiceSound), synced(r, 3, 1, 2, "TRUNC"), holds(r, 1, z(1, 3)))
			},
		},
		Scenario{
			Name: "learner-accepted-epoch-higher", Family: "epochs",
			Description: "voter 1 (acceptedEpoch 7) starts 1 s late, after leader 3 and voter 2 settled on epoch 1: LEADERINFO(1) is below its acceptedEpoch, so it logs \"Leaders epoch, 1 is less than accepted epoch, 7\" and goes back to LOOKING, again and again; its epochs never change",
			Reference:   "spec §6.3 step 4, Zab1_0Test.testFollowerConversation",
			Build: func(seed uint64) *sim.RunSpec {
				return AssignedCluster(3, 0).StartAt(1, time.Second).Disk(1, 7, 0).Until(5*time.Second).Spec("learner-accepted-epoch-higher", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), established(r, 3, 1, 200*time.Millisecond, 300*time.Millisecond),
					roleEnd(r, 1, "FOLLOWING", 0, "Leaders epoch, 1 is less than accepted epoch, 7", time.Second, 1300*time.Millisecond),
					probe(r, protocol.ProbeEpochRejected),
					epochs(r, 1, 7, 0), allEpochs(r, 1, 2, 3))
			},
		},
		Scenario{
			Name: "learner-accepted-epoch-higher-registers-first", Family: "epochs",
			Description: "voter 1 (acceptedEpoch 7) registers before the epoch is decided: every caller raises the epoch, so the leader proposes 8 and everyone accepts it",
			Reference:   "spec §5.3 step 2",
			Build: func(seed uint64) *sim.RunSpec {
				return AssignedCluster(3, 0).ExactTiming().SelfRegisterDelay(50*time.Millisecond).StartAt(2, time.Second).Disk(1, 7, 0).
					StopWhenStable().Spec("learner-accepted-epoch-higher-registers-first", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), noRoleEnds(r), established(r, 3, 8, 0, 300*time.Millisecond), allEpochs(r, 8, 1, 2, 3))
			},
		},
		Scenario{
			Name: "stale-learner-snap", Family: "epochs",
			Description: "leader 3 and voter 2 hold three txns of epoch 1 and their txn log was purged up to the second; fresh voter 1 cannot be DIFFed from the log and gets a SNAP",
			Reference:   "spec §5.6 rules 5-6",
			Build: func(seed uint64) *sim.RunSpec {
				d := protocol.Disk{AcceptedEpoch: 1, CurrentEpoch: 1, CurrentEpochTmp: -1, Txns: protocol.TxnsOf(z(1, 1), z(1, 2), z(1, 3)), SnapshotZxid: z(1, 2), LogStart: z(1, 2)}
				return AssignedCluster(3, 0).RawDisk(3, d).RawDisk(2, d).StopWhenStable().Spec("stale-learner-snap", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), established(r, 3, 2, 0, 300*time.Millisecond), synced(r, 3, 1, 2, "SNAP"),
					synced(r, 3, 2, 2, "DIFF"), allEpochs(r, 2, 1, 2, 3), probe(r, protocol.ProbeSyncSNAP))
			},
		},
		Scenario{
			Name: "late-learner-ahead-trunc", Family: "epochs",
			Description: "voter 1 logged 0x100000003, which leaders 3 and 2 never got, and comes back 1 s late: as a late joiner its ACKEPOCH is not checked for being ahead, and it gets TRUNC 0x100000002, which drops the txn",
			Reference:   "spec §5.6 rule 3, LearnerHandler.syncFollower",
			Build: func(seed uint64) *sim.RunSpec {
				return lateLearnerAhead().StopWhenStable().Spec("late-learner-ahead-trunc", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), synced(r, 3, 1, 2, "TRUNC"), lastZxid(r, 1, z(1, 2)), allEpochs(r, 2, 1, 2, 3))
			},
		},
		Scenario{
			Name: "late-learner-ahead-diff-1154", Family: "epochs", Knobs: []string{"DiffInsteadOfTrunc"},
			Description: "as late-learner-ahead-trunc with ZOOKEEPER-1154 restored: the leader sends an empty DIFF instead of the TRUNC, and voter 1 acks NEWLEADER still holding 0x100000003, a txn its leader does not have",
			Reference:   "ZOOKEEPER-1154, shared/spec/bug-knobs.md",
			Build: func(seed uint64) *sim.RunSpec {
				return lateLearnerAhead().Knob("DiffInsteadOfTrunc").StopWhenStable().Spec("late-learner-ahead-diff-1154", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violationsInclude(r, checker.SyncChoiceSound), holds(r, 1, z(1, 3)))
			},
		},
		Scenario{
			Name: "learner-behind-diff-4685", Family: "epochs", Knobs: []string{"AsyncSyncAck"},
			Description: "as learner-behind-diff with ZOOKEEPER-4685 restored: the logging thread logs the DIFF's proposals and ACKs them before the learner's thread sends the NEWLEADER ACK, so the leader reads proposal ACKs first",
			Reference:   "ZOOKEEPER-4685, shared/spec/bug-knobs.md",
			Build: func(seed uint64) *sim.RunSpec {
				return learnerBehind().Knob("AsyncSyncAck").StopWhenStable().Spec("learner-behind-diff-4685", seed)
			},
			Expect: func(r *checker.Report) error {
				return violationsInclude(r, checker.FirstAckIsNewLeaderAck)
			},
		},
		Scenario{
			Name: "learners-behind-diff-1136", Family: "epochs", Knobs: []string{"NewLeaderSentUnqueued"},
			Description: "leader 3 alone holds 0x100000002-3, and both voters are DIFFed them; with ZOOKEEPER-1136 restored NEWLEADER is written to the socket ahead of the queued DIFF, so a voter acks it before it has the txns, and the NEWLEADER quorum makes committed two txns only the leader holds",
			Reference:   "ZOOKEEPER-1136, shared/spec/bug-knobs.md",
			Build: func(seed uint64) *sim.RunSpec {
				return AssignedCluster(3, 0).Disk(1, 1, 1, z(1, 1)).Disk(2, 1, 1, z(1, 1)).Disk(3, 1, 1, z(1, 1), z(1, 2), z(1, 3)).
					Knob("NewLeaderSentUnqueued").StopWhenStable().Spec("learners-behind-diff-1136", seed)
			},
			Expect: func(r *checker.Report) error {
				return violationsInclude(r, checker.CommittedDurability)
			},
		},
		Scenario{
			Name: "learner-behind-diff", Family: "epochs",
			Description: "voter 1 misses the last two txns of epoch 1: the leader DIFFs it with two PROPOSAL/COMMIT pairs, which it logs before writing currentEpoch and acking NEWLEADER",
			Reference:   "spec §5.6 rule 4, §6.4 NEWLEADER, ZOOKEEPER-3911",
			Build: func(seed uint64) *sim.RunSpec {
				return learnerBehind().StopWhenStable().Spec("learner-behind-diff", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), established(r, 3, 2, 0, 300*time.Millisecond), synced(r, 3, 1, 2, "DIFF"),
					allEpochs(r, 2, 1, 2, 3), lastZxid(r, 1, z(1, 3)))
			},
		},
	)
}

// phantomTrunc is the run measured on ZooKeeper 3.8.0: leader 3 of epoch 1 logged 0x100000001
// while its followers were down and died; voters 1 and 2 formed epoch 2 without it (empty
// histories). Now leader 2 is assigned and voter 1 starts 100 ms late, so 2 needs 3 for its
// quorum: 3's ACKEPOCH (currentEpoch 1) is not ahead of the leader's 2, and 3 syncs while 2
// activates with an empty history (lastProcessedZxid 0).
func phantomTrunc() *Builder {
	return AssignedCluster(3, 0).Leader(2).StartAt(1, 100*time.Millisecond).Disk(1, 2, 2).Disk(2, 2, 2).Disk(3, 1, 1, z(1, 1))
}

// snapSyncedTrunc: voter 1's snapshot holds 0x100000001-2 (a SNAP sync) and its log only the
// uncommitted 0x100000003, which epoch 1's leader 2 proposed and crashed before logging.
// Voter 1 starts 1 s late, a late joiner of leader 3's epoch 2.
func snapSyncedTrunc() *Builder {
	return AssignedCluster(3, 0).StartAt(1, time.Second).
		RawDisk(1, protocol.Disk{AcceptedEpoch: 1, CurrentEpoch: 1, CurrentEpochTmp: -1,
			Txns: protocol.TxnsOf(z(1, 1), z(1, 2), z(1, 3)), SnapshotZxid: z(1, 2), LogStart: z(1, 3)}).
		Disk(2, 1, 1, z(1, 1), z(1, 2)).Disk(3, 1, 1, z(1, 1), z(1, 2))
}

// learnerBehind: voter 1 misses the last two txns of epoch 1 that leader 3 and voter 2 hold.
func learnerBehind() *Builder {
	return AssignedCluster(3, 0).Disk(1, 1, 1, z(1, 1)).Disk(2, 1, 1, z(1, 1), z(1, 2), z(1, 3)).Disk(3, 1, 1, z(1, 1), z(1, 2), z(1, 3))
}

// lateLearnerAhead: voter 1 holds 0x100000003, which leaders 3 and 2 lack, and starts 1 s late.
func lateLearnerAhead() *Builder {
	return AssignedCluster(3, 0).StartAt(1, time.Second).Disk(1, 1, 1, z(1, 1), z(1, 2), z(1, 3)).
		Disk(2, 1, 1, z(1, 1), z(1, 2)).Disk(3, 1, 1, z(1, 1), z(1, 2))
}
