package scenarios

import (
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/sim"
)

// Who counts in a quorum: the leader itself in the first two, never an observer.

func leaderNotInQuorum(name string, knob bool) *Builder {
	b := AssignedCluster(3, 0).ExactTiming().SelfRegisterDelay(50*time.Millisecond).
		Disk(3, 5, 0).Disk(1, 0, 0).Disk(2, 0, 0).StopWhenStable()
	if knob {
		b.Knob("EpochQuorumIgnoresLeader")
	}
	return b
}

func init() {
	register(
		Scenario{
			Name: "leader-not-in-quorum", Family: "quorum",
			Description: "the leader (acceptedEpoch 5) registers in getEpochToPropose 50 ms after both followers (acceptedEpoch 0): their two FOLLOWERINFOs are a voter quorum without the leader, so the epoch waits for it and is 6",
			Reference:   "spec §5.3 step 4, ZOOKEEPER-1270, Zab1_0Test.testLeaderInConnectingFollowers",
			Build: func(seed uint64) *sim.RunSpec {
				return leaderNotInQuorum("leader-not-in-quorum", false).Spec("leader-not-in-quorum", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), noRoleEnds(r), established(r, 3, 6, 250*time.Millisecond, 300*time.Millisecond),
					allEpochs(r, 6, 1, 2, 3))
			},
		},
		Scenario{
			Name: "leader-not-in-quorum-1270", Family: "quorum", Knobs: []string{"EpochQuorumIgnoresLeader"},
			Description: "as leader-not-in-quorum with ZOOKEEPER-1270 restored: the followers' quorum decides epoch 1 before the leader registers, below the leader's acceptedEpoch 5",
			Reference:   "ZOOKEEPER-1270, shared/spec/bug-knobs.md",
			Build: func(seed uint64) *sim.RunSpec {
				return leaderNotInQuorum("", true).Spec("leader-not-in-quorum-1270", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r, checker.FreshEpoch, checker.EpochMonotone), established(r, 3, 1, 0, 0))
			},
		},
		Scenario{
			Name: "observer-cannot-complete-quorum", Family: "quorum",
			Description: "3 voters and an observer; voter 1 never starts and voter 2 starts at 25 s: the leader and the observer are not a quorum, so the leader times out at 20.2 s; once voter 2 is up the epoch is established without counting the observer",
			Reference:   "spec §6.5, ZOOKEEPER-1294",
			Build: func(seed uint64) *sim.RunSpec {
				return AssignedCluster(3, 1).ExactTiming().StartAt(1, time.Hour).StartAt(2, 25*time.Second).Spec("observer-cannot-complete-quorum", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r),
					roleEnd(r, 3, "LEADING", 0, "Timeout while waiting for epoch from quorum", 20200*time.Millisecond, 20200*time.Millisecond),
					established(r, 3, 1, 25200*time.Millisecond, 25300*time.Millisecond), establishedCount(r, 1),
					allEpochs(r, 1, 2, 3, 4), role(r, 4, "OBSERVING", 3), probe(r, protocol.ProbeObserverRegistered))
			},
		},
		Scenario{
			Name: "observer-cannot-complete-quorum-1294", Family: "quorum", Knobs: []string{"CountObservers"},
			Description: "as observer-cannot-complete-quorum with observers counted (ZOOKEEPER-1294): leader 3 and observer 4 establish epoch 1 without a voter quorum",
			Reference:   "ZOOKEEPER-1294 / 2959 / 769",
			Build: func(seed uint64) *sim.RunSpec {
				return AssignedCluster(3, 1).ExactTiming().StartAt(1, time.Hour).StartAt(2, 25*time.Second).Knob("CountObservers").Spec("observer-cannot-complete-quorum-1294", seed)
			},
			Expect: func(r *checker.Report) error {
				// Voter 2 arrives at 25 s and gives the leader a real quorum, before the
				// abdication bound of (initLimit+syncLimit+1) ticks runs out.
				return all(violations(r, checker.FreshEpoch, checker.NonVotersNeverLead, checker.ActivationNeedsVoterQuorum),
					established(r, 3, 1, 0, 300*time.Millisecond))
			},
		},
		Scenario{
			Name: "followers-stop-observers-remain", Family: "quorum",
			Description: "3 voters and 2 observers; both followers crash at 5 s for good: the leader's tick check counts only voters, so it abdicates within syncLimit ticks",
			Reference:   "spec §5.9, ZOOKEEPER-1294, testElectionFraud",
			Build: func(seed uint64) *sim.RunSpec {
				return AssignedCluster(3, 2).Crash(1, 5*time.Second).Crash(2, 5*time.Second).Until(60*time.Second).Spec("followers-stop-observers-remain", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), established(r, 3, 1, 0, time.Second),
					roleEnd(r, 3, "LEADING", 0, "Not sufficient followers synced", 5*time.Second, 5*time.Second+2*2*time.Second),
					probe(r, protocol.ProbeTickQuorumLost))
			},
		},
		Scenario{
			Name: "followers-stop-observers-remain-1294", Family: "quorum", Knobs: []string{"CountObservers"},
			Description: "as followers-stop-observers-remain with observers counted: the leader keeps BROADCAST with only observers behind it",
			Reference:   "ZOOKEEPER-1294, shared/spec/bug-knobs.md",
			Build: func(seed uint64) *sim.RunSpec {
				return AssignedCluster(3, 2).Crash(1, 5*time.Second).Crash(2, 5*time.Second).Until(60*time.Second).Knob("CountObservers").Spec("followers-stop-observers-remain-1294", seed)
			},
			Expect: func(r *checker.Report) error {
				// Counting observers also lets them complete the cold start's quorums when they
				// register before a follower does; which of those fire depends on the seed.
				return all(violationsInclude(r, checker.FalseLeaderAbdicates), role(r, 3, "LEADING", 3))
			},
		},
	)
}
