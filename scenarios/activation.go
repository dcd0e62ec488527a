package scenarios

import (
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/sim"
)

// Cold starts where every learner arrives in time, and learners that arrive late.

func init() {
	register(
		onTime("all-on-time-3", 3, 0),
		onTime("all-on-time-5", 5, 0),
		onTime("observers-3+2", 3, 2),
		onTime("observers-5+2", 5, 2),
		Scenario{
			Name: "delayed-learner-in-time", Family: "activation",
			Description: "3 voters; voter 1 never starts and voter 2 starts 15 s late, inside initLimit*tickTime (20 s): the leader's getEpochToPropose waits for it and activation completes",
			Reference:   "spec §5.3 (per-waiter deadline), Zab1_0Test.testLeaderInConnectingFollowers",
			Build: func(seed uint64) *sim.RunSpec {
				return AssignedCluster(3, 0).ExactTiming().StartAt(1, time.Hour).StartAt(2, 15*time.Second).Spec("delayed-learner-in-time", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), noRoleEnds(r),
					established(r, 3, 1, 15200*time.Millisecond, 15300*time.Millisecond),
					allEpochs(r, 1, 2, 3), epochs(r, 1, -1, -1), synced(r, 3, 2, 1, "DIFF"))
			},
		},
		Scenario{
			Name: "delayed-learner-too-late", Family: "activation",
			Description: "3 voters; voter 1 never starts and voter 2 starts 25 s late: the leader's own getEpochToPropose times out at exactly 0.2 s + initLimit*tickTime = 20.2 s and it goes back to LOOKING; the next attempt succeeds once voter 2 is up",
			Reference:   "spec §5.3, §7 (getEpochToPropose timeout), Zab1_0Test.testLeaderBehind",
			Build: func(seed uint64) *sim.RunSpec {
				return AssignedCluster(3, 0).ExactTiming().StartAt(1, time.Hour).StartAt(2, 25*time.Second).Spec("delayed-learner-too-late", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r),
					roleEnd(r, 3, "LEADING", 0, "Timeout while waiting for epoch from quorum", 20200*time.Millisecond, 20200*time.Millisecond),
					probe(r, protocol.ProbeLeaderEpochTimeout),
					established(r, 3, 1, 25200*time.Millisecond, 25300*time.Millisecond),
					establishedCount(r, 1), allEpochs(r, 1, 2, 3))
			},
		},
	)
}

func onTime(name string, participants, observers int) Scenario {
	return Scenario{
		Name: name, Family: "activation",
		Description: "cold start, every server on time: the highest sid leads epoch 1, every learner is DIFF-synced and everyone ends with acceptedEpoch = currentEpoch = 1",
		Reference:   "spec §5.1-§5.8, Zab1_0Test.testNormalFollowerRun",
		Build: func(seed uint64) *sim.RunSpec {
			return AssignedCluster(participants, observers).StopWhenStable().Spec(name, seed)
		},
		Expect: func(r *checker.Report) error {
			leader := protocol.ServerID(participants)
			errs := []error{violations(r), noRoleEnds(r), live(r), establishedCount(r, 1),
				established(r, leader, 1, 200*time.Millisecond, 300*time.Millisecond)}
			for id := protocol.ServerID(1); id <= protocol.ServerID(participants+observers); id++ {
				errs = append(errs, epochs(r, id, 1, 1))
				if id != leader {
					errs = append(errs, syncedByArrival(r, leader, id, 1))
					want := "FOLLOWING"
					if id > protocol.ServerID(participants) {
						want = "OBSERVING"
					}
					errs = append(errs, role(r, id, want, leader))
				}
			}
			return all(errs...)
		},
	}
}
