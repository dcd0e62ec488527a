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
			Description: "voter 1 has currentEpoch 2 and a txn of epoch 2; the assigned leader 3 has currentEpoch 1. Voter 1's ACKEPOCH is ahead, so only its handler ends (\"Follower is ahead of the leader\"); the leader establishes epoch 3 with voter 2 (started 100 ms later), and voter 1 then rejoins as a late joiner, which is not checked. Its last zxid is past the leader's committed log and of another epoch, so it gets a SNAP of the leader's history (ZooKeeper would send TRUNC 0x100000001 here: see the TruncAcrossEpochs knob)",
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
			Name: "learner-behind-diff", Family: "epochs",
			Description: "voter 1 misses the last two txns of epoch 1: the leader DIFFs it with two PROPOSAL/COMMIT pairs, which it logs before writing currentEpoch and acking NEWLEADER",
			Reference:   "spec §5.6 rule 4, §6.4 NEWLEADER, ZOOKEEPER-3911",
			Build: func(seed uint64) *sim.RunSpec {
				return AssignedCluster(3, 0).Disk(1, 1, 1, z(1, 1)).Disk(2, 1, 1, z(1, 1), z(1, 2), z(1, 3)).Disk(3, 1, 1, z(1, 1), z(1, 2), z(1, 3)).
					StopWhenStable().Spec("learner-behind-diff", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), established(r, 3, 2, 0, 300*time.Millisecond), synced(r, 3, 1, 2, "DIFF"),
					allEpochs(r, 2, 1, 2, 3), lastZxid(r, 1, z(1, 3)))
			},
		},
	)
}
