package scenarios

import (
	"fmt"
	"strings"
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/sim"
)

// Fast Leader Election: every server starts LOOKING and the ensemble elects its leader.

// elected expects every listed server to have decided leader (as role) in a time window.
func elected(r *checker.Report, leader protocol.ServerID, from, to time.Duration, ids ...protocol.ServerID) error {
	var errs []error
	for _, id := range ids {
		found := false
		for _, e := range r.Elections {
			if e.Server == id && e.Leader == leader && e.At >= at(from) && (to == 0 || e.At <= at(to)) {
				found = true
				break
			}
		}
		if !found {
			errs = append(errs, fmt.Errorf("server %d never elected %d within [%v, %v]; elections: %+v", id, leader, from, to, r.Elections))
		}
	}
	return all(errs...)
}

// establishedAny expects one of leaders to establish epoch within [from, to].
func establishedAny(r *checker.Report, epoch protocol.Epoch, from, to time.Duration, leaders ...protocol.ServerID) error {
	for _, e := range r.Established {
		for _, l := range leaders {
			if e.Leader == l && e.Epoch == epoch && e.At >= at(from) && e.At <= at(to) {
				return nil
			}
		}
	}
	return fmt.Errorf("none of %v established epoch %d within [%v, %v]; established: %+v", leaders, epoch, from, to, r.Established)
}

// joinedBy expects server id to have decided (joined) the running leader within [from, to].
func joinedBy(r *checker.Report, id protocol.ServerID, from, to time.Duration) error {
	for _, e := range r.Elections {
		if e.Server == id && e.At >= at(from) && e.At <= at(to) && e.Leader != id {
			return nil
		}
	}
	return fmt.Errorf("server %d did not join a leader within [%v, %v]; elections: %+v", id, from, to, r.Elections)
}

// noElection expects no election to have decided at all.
func noElection(r *checker.Report) error {
	if len(r.Elections) > 0 {
		return fmt.Errorf("unexpected elections: %+v", r.Elections)
	}
	return nil
}

// outsider expects server id to be reported outside the ensemble with a reason containing why.
func outsider(r *checker.Report, id protocol.ServerID, why string) error {
	for _, o := range r.Outsiders {
		if o.Server == id && strings.Contains(o.Reason, why) {
			return nil
		}
	}
	return fmt.Errorf("server %d not reported outside with %q; outsiders: %+v", id, why, r.Outsiders)
}

func ids(n int) []protocol.ServerID {
	out := make([]protocol.ServerID, n)
	for i := range out {
		out[i] = protocol.ServerID(i + 1)
	}
	return out
}

// established windows: a follower can decide a few ms before its leader's finalize wait ends,
// find its learner port closed, and retry 100 ms later (spec §6.2), so activation completes
// between 0.2 s and about 0.35 s after the election started.
const retrySlack = 150 * time.Millisecond

func coldStart(name string, n int, stagger time.Duration) Scenario {
	desc := fmt.Sprintf("cold start of %d voters, all at once: every server proposes itself, adopts the highest sid's vote, and decides after the 200 ms finalize wait; the highest sid leads epoch 1", n)
	if stagger > 0 {
		desc = fmt.Sprintf("cold start of %d voters started %v apart in sid order: the first quorum elects its highest sid, and the later servers join it from its LEADING and its followers' FOLLOWING votes", n, stagger)
	}
	quorum := n/2 + 1
	return Scenario{
		Name: name, Family: "election", Description: desc,
		Reference: "spec §4.5, FLETest.testLE, FLETest.testJoin",
		Build: func(seed uint64) *sim.RunSpec {
			b := Cluster(n, 0).StopWhenStable()
			for i := 2; i <= n && stagger > 0; i++ {
				b.StartAt(protocol.ServerID(i), time.Duration(i-1)*stagger)
			}
			return b.Spec(name, seed)
		},
		Expect: func(r *checker.Report) error {
			if stagger == 0 {
				leader := protocol.ServerID(n)
				return all(violations(r), live(r), establishedCount(r, 1), established(r, leader, 1, 200*time.Millisecond, 300*time.Millisecond+retrySlack),
					elected(r, leader, 200*time.Millisecond, 250*time.Millisecond, ids(n)...), allEpochs(r, 1, ids(n)...))
			}
			leader := protocol.ServerID(quorum)
			first := time.Duration(quorum-1) * stagger
			return all(violations(r), live(r), establishedCount(r, 1),
				established(r, leader, 1, first+200*time.Millisecond, first+300*time.Millisecond+retrySlack),
				elected(r, leader, first, 0, ids(n)...), allEpochs(r, 1, ids(n)...))
		},
	}
}

func init() {
	register(
		coldStart("cold-start-3", 3, 0),
		coldStart("cold-start-5", 5, 0),
		coldStart("cold-start-7", 7, 0),
		coldStart("cold-start-5-staggered", 5, time.Second),
		coldStart("cold-start-7-staggered", 7, 500*time.Millisecond),
		Scenario{
			Name: "leader-crash-reelection", Family: "election",
			Description: "leader 3 crashes at 2 s: its followers see the reset, go LOOKING in round 2, and elect 2 (equal histories and epochs, higher sid), which leads epoch 2",
			Reference:   "spec §2.2, §4.5",
			Build: func(seed uint64) *sim.RunSpec {
				return Cluster(3, 0).Crash(3, 2*time.Second).Until(30*time.Second).Spec("leader-crash-reelection", seed)
			},
			Expect: func(r *checker.Report) error {
				// 1 and 2 have equal epochs; whichever joined epoch 1 late holds the SNAP label
				// 1<<32 as its last zxid and wins, else the higher sid, 2. A notification that
				// reaches a server still FOLLOWING is answered, not kept, so the two may need one
				// or two poll timeouts (200 ms, then 400 ms) before they agree.
				return all(violations(r), established(r, 3, 1, 0, 300*time.Millisecond+retrySlack),
					establishedAny(r, 2, 2200*time.Millisecond, 3*time.Second, 1, 2), allEpochs(r, 2, 1, 2), epochs(r, 3, 1, 1))
			},
		},
		Scenario{
			Name: "crashed-leader-rejoins", Family: "election",
			Description: "as leader-crash-reelection, and 3 restarts at 5 s: its own vote (peerEpoch 1) loses to the ensemble's, it learns the leader from 2's LEADING and 1's FOLLOWING notifications and joins as a follower of epoch 2",
			Reference:   "spec §4.5 (outofelection), FLETest.testJoin",
			Build: func(seed uint64) *sim.RunSpec {
				return Cluster(3, 0).Crash(3, 2*time.Second).Restart(3, 5*time.Second).StopWhenStable().Spec("crashed-leader-rejoins", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), live(r), establishedAny(r, 2, 2200*time.Millisecond, 3*time.Second, 1, 2),
					role(r, 3, "FOLLOWING", -1), allEpochs(r, 2, 1, 2, 3), joinedBy(r, 3, 5*time.Second, 5100*time.Millisecond))
			},
		},
		Scenario{
			Name: "late-joiner-after-initLimit", Family: "election",
			Description: "voters 2 and 3 elect 3 and establish epoch 1; voter 1 starts at 25 s, after initLimit*tickTime (20 s): nothing waits for it any more, it learns the leader from the LEADING and FOLLOWING replies to its notifications and joins epoch 1",
			Reference:   "spec §4.5 (outofelection), §5.2; issue 11's conformance set",
			Build: func(seed uint64) *sim.RunSpec {
				return Cluster(3, 0).StartAt(1, 25*time.Second).StopWhenStable().Until(time.Minute).Spec("late-joiner-after-initLimit", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), live(r), established(r, 3, 1, 200*time.Millisecond, 2*time.Second), establishedCount(r, 1),
					role(r, 1, "FOLLOWING", 3), allEpochs(r, 1, 1, 2, 3), joinedBy(r, 1, 25*time.Second, 25200*time.Millisecond))
			},
		},
		Scenario{
			Name: "lone-server-looking", Family: "election",
			Description: "only server 1 of 3 runs: it never has a quorum, stays LOOKING, and its notification timeout doubles from 200 ms to the 60 s cap",
			Reference:   "spec §4.5 (notTimeout back-off), §9.2",
			Build: func(seed uint64) *sim.RunSpec {
				return Cluster(3, 0).StartAt(2, time.Hour).StartAt(3, time.Hour).Until(5*time.Minute).Spec("lone-server-looking", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), noElection(r), establishedCount(r, 0), role(r, 1, "LOOKING", -1))
			},
		},
		Scenario{
			Name: "leader-unreachable-by-learners", Family: "election",
			Description: "the learner port of 3 is cut off from 1 and 2 while elections still get through: 3 wins the election, cannot be reached by its followers, and times out initLimit*tickTime after it starts leading; the cycle repeats until 1 and 2 happen to go LOOKING while 3 is still LEADING and elect 2 among themselves",
			Reference:   "spec §5.3 (getEpochToPropose timeout), §6.2, §7",
			Build: func(seed uint64) *sim.RunSpec {
				b := Cluster(3, 0).Until(70 * time.Second)
				b.spec.Faults = append(b.spec.Faults, sim.Fault{Kind: sim.FaultPartition, Groups: [][]protocol.ServerID{{3}, {1, 2}}, Port: sim.PortLearner})
				return b.Spec("leader-unreachable-by-learners", seed)
			},
			Expect: func(r *checker.Report) error {
				errs := []error{violations(r), timeoutsAfterLeading(r, 3), elected(r, 3, 200*time.Millisecond, 250*time.Millisecond, 1, 2, 3),
					roleEnd(r, 3, "LEADING", 0, "Timeout while waiting for epoch from quorum", 20*time.Second, 20300*time.Millisecond)}
				for _, e := range r.Established {
					if e.Leader == 3 {
						errs = append(errs, fmt.Errorf("unreachable leader 3 established epoch %d", e.Epoch))
					}
				}
				return all(errs...)
			},
		},
		Scenario{
			Name: "participant-and-observer-only", Family: "election",
			Description: "of 3 voters and 1 observer only voter 1 and observer 4 run: the observer votes for nobody and learns nothing it can follow, no leader is ever established",
			Reference:   "spec §4.1 (observer votes), §6.5",
			Build: func(seed uint64) *sim.RunSpec {
				return Cluster(3, 1).StartAt(2, time.Hour).StartAt(3, time.Hour).Until(2*time.Minute).Spec("participant-and-observer-only", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), establishedCount(r, 0), role(r, 1, "LOOKING", -1))
			},
		},
		Scenario{
			Name: "observers-follow-elected-leader", Family: "election",
			Description: "3 voters and 2 observers cold start: observers propose nobody, learn the leader from the voters' replies to their own notifications, and observe epoch 1",
			Reference:   "spec §4.4 (replies to non-voters), §6.5",
			Build: func(seed uint64) *sim.RunSpec {
				return Cluster(3, 2).StopWhenStable().Spec("observers-follow-elected-leader", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), live(r), established(r, 3, 1, 0, 300*time.Millisecond+retrySlack), elected(r, 3, 0, time.Second, 4, 5),
					role(r, 4, "OBSERVING", 3), role(r, 5, "OBSERVING", 3), allEpochs(r, 1, 1, 2, 3, 4, 5))
			},
		},
		Scenario{
			Name: "participant-accepted-epoch-higher", Family: "election",
			Description: "voter 1 (acceptedEpoch 7, currentEpoch 0) starts 1 s after 2 and 3 settled on epoch 1: it keeps electing 3 and keeps refusing LEADERINFO(1), and is reported outside the ensemble with ZooKeeper's reason",
			Reference:   "spec §6.3 step 4, §9.2",
			Build: func(seed uint64) *sim.RunSpec {
				return Cluster(3, 0).StartAt(1, time.Second).Disk(1, 7, 0).Until(2*time.Minute).Spec("participant-accepted-epoch-higher", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), live(r), established(r, 3, 1, 0, 300*time.Millisecond+retrySlack), epochs(r, 1, 7, 0),
					outsider(r, 1, "Leaders epoch, 1 is less than accepted epoch, 7"))
			},
		},
		Scenario{
			Name: "longer-log-wins", Family: "election",
			Description: "voter 1 has one more txn of epoch 1 than 2 and 3: its vote beats theirs on zxid, so 1 leads epoch 2 and DIFFs the others",
			Reference:   "spec §4.2 (total order), §5.6",
			Build: func(seed uint64) *sim.RunSpec {
				return Cluster(3, 0).Disk(1, 1, 1, z(1, 1), z(1, 2)).Disk(2, 1, 1, z(1, 1)).Disk(3, 1, 1, z(1, 1)).StopWhenStable().Spec("longer-log-wins", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), live(r), elected(r, 1, 200*time.Millisecond, 250*time.Millisecond, 1, 2, 3),
					established(r, 1, 2, 0, 300*time.Millisecond+retrySlack), synced(r, 1, 2, 2, "DIFF"), allEpochs(r, 2, 1, 2, 3), lastZxid(r, 3, z(1, 2)))
			},
		},
		Scenario{
			Name: "higher-epoch-wins", Family: "election",
			Description: "voter 1's currentEpoch is 2 (it wrote it in a failed activation) while all logs end at the same zxid: peerEpoch comes first in the order, so 1 leads",
			Reference:   "spec §4.2, §7 (waitForNewLeaderAck timeout leaves currentEpoch = e)",
			Build: func(seed uint64) *sim.RunSpec {
				return Cluster(3, 0).Disk(1, 2, 2, z(1, 1)).Disk(2, 1, 1, z(1, 1)).Disk(3, 1, 1, z(1, 1)).StopWhenStable().Spec("higher-epoch-wins", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), live(r), elected(r, 1, 200*time.Millisecond, 250*time.Millisecond, 1, 2, 3),
					established(r, 1, 3, 0, 300*time.Millisecond+retrySlack), allEpochs(r, 3, 1, 2, 3))
			},
		},
		Scenario{
			Name: "equal-logs-highest-sid", Family: "election",
			Description: "all three voters hold the same history and epochs: the sid breaks the tie and 3 leads epoch 2",
			Reference:   "spec §4.2",
			Build: func(seed uint64) *sim.RunSpec {
				return Cluster(3, 0).Disk(1, 1, 1, z(1, 1)).Disk(2, 1, 1, z(1, 1)).Disk(3, 1, 1, z(1, 1)).StopWhenStable().Spec("equal-logs-highest-sid", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), live(r), elected(r, 3, 200*time.Millisecond, 250*time.Millisecond, 1, 2, 3),
					established(r, 3, 2, 0, 300*time.Millisecond+retrySlack), allEpochs(r, 2, 1, 2, 3))
			},
		},
	)
}

// timeoutsAfterLeading expects every "Timeout while waiting for epoch from quorum" of server id
// to come initLimit*tickTime (20 s) after it started leading, within the self-registration gap.
func timeoutsAfterLeading(r *checker.Report, id protocol.ServerID) error {
	var errs []error
	var led protocol.Time = -1
	ei, ri := 0, 0
	for ri < len(r.RoleEnds) {
		e := r.RoleEnds[ri]
		for ei < len(r.Elections) && r.Elections[ei].At <= e.At {
			if el := r.Elections[ei]; el.Server == id && el.Leader == id {
				led = el.At
			}
			ei++
		}
		ri++
		if e.Server != id || e.Role != "LEADING" || !strings.Contains(e.Reason, "Timeout while waiting for epoch from quorum") {
			continue
		}
		d := time.Duration(e.At - led)
		if led < 0 || d < 20*time.Second || d > 20*time.Second+3*time.Millisecond {
			errs = append(errs, fmt.Errorf("leader %d timed out at %s, %v after it started leading at %s; want 20 s (+ the 0-2 ms self-registration gap)", id, e.At, d, led))
		}
	}
	return all(errs...)
}

// votePrecedence: voter 1 went through a failed activation (currentEpoch 2) while 2 and 3 still
// have currentEpoch 1; all logs end at the same zxid. 1 must win on peerEpoch.
func votePrecedence() *Builder {
	return Cluster(3, 0).Disk(1, 2, 2, z(1, 1)).Disk(2, 1, 1, z(1, 1)).Disk(3, 1, 1, z(1, 1)).Until(20 * time.Millisecond)
}

func init() {
	register(
		Scenario{
			Name: "vote-order-1419", Family: "election", Knobs: []string{"VoteOrderPrecedenceBug"},
			Description: "as higher-epoch-wins with ZOOKEEPER-1419's predicate: with equal zxids a higher sid beats a higher peerEpoch, so 3's vote beats 1's and 1's beats 3's; proposals move to lower votes",
			Reference:   "ZOOKEEPER-1419, shared/spec/bug-knobs.md",
			Build: func(seed uint64) *sim.RunSpec {
				return votePrecedence().Knob("VoteOrderPrecedenceBug").Spec("vote-order-1419", seed)
			},
			Expect: func(r *checker.Report) error { return violationsInclude(r, checker.VoteMonotone) },
		},
	)
}

// inconsistentRounds leaves leader 3's ensemble with members that report different election
// rounds (ZOOKEEPER-1818's story): voter 2 restarts while its learner port to 3 is cut, decides
// to follow 3 from round-1 votes and keeps trying to connect; 3 crashes and is re-elected by 1 in
// round 2; when the cut heals 2 connects and syncs, still reporting round 1. Then 1 restarts and
// must join from 3's round-2 LEADING vote and 2's round-1 FOLLOWING vote.
func inconsistentRounds() *Builder {
	// Equal one-txn histories: late joiners are DIFFed, so no SNAP label (e<<32) makes one
	// voter's zxid beat another's, and 3 wins every election on its sid.
	b := Cluster(3, 0).Disk(1, 1, 1, z(1, 1)).Disk(2, 1, 1, z(1, 1)).Disk(3, 1, 1, z(1, 1)).
		Crash(2, 4*time.Second).Restart(2, 6*time.Second).
		Crash(3, 8*time.Second).Restart(3, 9*time.Second).
		Crash(1, 20*time.Second).Restart(1, 21*time.Second).Until(3 * time.Minute)
	b.spec.Faults = append(b.spec.Faults, sim.Fault{Kind: sim.FaultPartition, At: at(5 * time.Second), Heal: at(12 * time.Second),
		Groups: [][]protocol.ServerID{{2}, {1, 3}}, Port: sim.PortLearner})
	// 2's stale FOLLOWING reply must not reach the restarted 3 before 1's round-2 vote does,
	// or 3 would take the lead again in round 1 on that stale vote (a race of its own).
	b.spec.Faults = append(b.spec.Faults, sim.Fault{Kind: sim.FaultPartition, At: at(8500 * time.Millisecond), Heal: at(9500 * time.Millisecond),
		Groups: [][]protocol.ServerID{{2}, {3}}, OneWay: true, Port: sim.PortElection})
	return b
}

func init() {
	register(
		Scenario{
			Name: "join-inconsistent-rounds", Family: "election",
			Description: "members of leader 3's ensemble report different election rounds (voter 2 joined from round-1 votes while 3 was re-elected in round 2); a restarted voter still joins, because votes of servers out of election are compared on leader and peerEpoch only",
			Reference:   "spec §4.3, ZOOKEEPER-1732/1818, FLETest.testJoinInconsistentEnsemble",
			Build:       func(seed uint64) *sim.RunSpec { return inconsistentRounds().Spec("join-inconsistent-rounds", seed) },
			Expect: func(r *checker.Report) error {
				return all(violations(r), live(r), joinedBy(r, 1, 21*time.Second, 25*time.Second), role(r, 1, "FOLLOWING", 3))
			},
		},
		Scenario{
			Name: "join-inconsistent-rounds-1732", Family: "election", Knobs: []string{"StrictOutOfElectionVoteEquality"},
			Description: "as join-inconsistent-rounds with the strict comparison of ZOOKEEPER-1732: the restarted voter never sees a quorum of equal votes and stays LOOKING while 3 leads",
			Reference:   "ZOOKEEPER-1732/1818, shared/spec/bug-knobs.md",
			Build: func(seed uint64) *sim.RunSpec {
				return inconsistentRounds().Knob("StrictOutOfElectionVoteEquality").Spec("join-inconsistent-rounds-1732", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violationsInclude(r, checker.JoinerFollows), role(r, 1, "LOOKING", -1))
			},
		},
	)
}
