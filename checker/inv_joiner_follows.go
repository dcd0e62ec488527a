package checker

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"zabsim/protocol"
)

// JoinerFollows (26, liveness): once a leader has a synced voter quorum, no live voter stays
// LOOKING longer than JoinBound without a reason ZooKeeper gives. Judged under Fast Leader
// Election at the end of the run (Finish, judgeJoiners), from the tracker's election ghosts;
// the voters left out for a reason ZooKeeper gives are reported as outsiders. Source:
// ZOOKEEPER-1732 (StrictOutOfElectionVoteEquality).
const JoinerFollows = "JoinerFollows"

// Outsider is a live participant that stayed outside the established ensemble: a report, not an
// invariant failure, because ZooKeeper itself leaves such servers out (a learner whose accepted
// epoch is above the leader's, say).
type Outsider struct {
	Server protocol.ServerID `json:"server"`
	Leader protocol.ServerID `json:"leader"`
	Since  protocol.Time     `json:"since"`
	Kind   string            `json:"kind"`
	Reason string            `json:"reason"`
}

// Kinds of outsider, for summaries across runs.
const (
	OutsiderRefused        = "refused"          // the leader's epoch is below its acceptedEpoch
	OutsiderWouldBeRefused = "would-be-refused" // LOOKING, and would be refused if it decided
	OutsiderPollStarved    = "poll-starved"     // LOOKING, its poll restarted by refused voters
	OutsiderStuck          = "stuck-looking"    // LOOKING for no reason ZooKeeper gives: JoinerFollows
	OutsiderOther          = "other"            // left its last ensemble for another reason
)

// JoinBound is how long a live voter may take to join an established leader: an election with
// the notification back-off at its maximum, the finalize wait, one connect budget and one
// activation wait (a late joiner passes the three waits at once).
func JoinBound(cfg *protocol.Config) time.Duration {
	return cfg.Election.MaxNotificationInterval + cfg.Election.FinalizeWait + cfg.Election.Delay +
		2*cfg.InitLimitTime() + time.Second
}

// judgeJoiners runs at the end of a run whose faults healed and that has an established leader:
// every live voter that is not synced to it either never decided an election while the
// ensemble was reachable (JoinerFollows, 26) or is reported as an outsider with its reason.
func judgeJoiners(x *env, end protocol.Time) []Outsider {
	li := -1
	var lr protocol.Role
	for i := 0; i < x.ServerCount(); i++ {
		if r, up := x.Role(i); up && r.State == protocol.LEADING && r.Zab == protocol.BROADCAST {
			li, lr = i, r
		}
	}
	if li < 0 {
		return nil
	}
	var out []Outsider
	bound := JoinBound(x.cfg)
	for i := 0; i < x.ServerCount(); i++ {
		id := x.ServerAt(i)
		r, up := x.Role(i)
		if !up || i == li || !x.cfg.IsParticipant(id) || (r.Synced && r.Leader == lr.Leader && r.Epoch == lr.Epoch) {
			continue
		}
		g := &x.t.elections[i]
		since := max(g.upSince, x.t.healAt, x.t.livenessAt)
		if time.Duration(end-since) <= bound {
			continue
		}
		kind, reason := OutsiderOther, g.lastReason
		if g.lastLeft == protocol.LeftEpochRefused {
			kind = OutsiderRefused
		}
		if r.State == protocol.LOOKING && !x.cfg.Election.Assigned && g.lookingFrom >= 0 && time.Duration(end-max(g.lookingFrom, since)) > bound {
			switch v, _ := x.View(i); {
			case v.AcceptedEpoch > lr.Epoch:
				// Deciding would not help: registerWithLeader refuses a leader whose epoch is
				// below the learner's acceptedEpoch, so ZooKeeper leaves this voter out.
				kind, reason = OutsiderWouldBeRefused, fmt.Sprintf("LOOKING, and would be refused: Leaders epoch, %d is less than accepted epoch, %d", lr.Epoch, v.AcceptedEpoch)
			case g.fedBy != 0 && time.Duration(end-g.fedLast) < g.fedTimeout &&
				time.Duration(end-g.fedSince) > bound && outsideEnsemble(x, g.fedBy|g.fedByBefore, lr):
				// lookForLeader re-sends its vote (and so hears the ensemble's FOLLOWING and
				// LEADING replies) only when its poll times out, and every notification from a
				// voter restarts the poll: LOOKING voters that announce faster than the poll's
				// minimum interval (refused voters that go LOOKING again at once) starve it.
				// This is ZooKeeper's behaviour, reported, not a violation (README, Joining).
				kind, reason = OutsiderPollStarved, starvedReason(x, g, lr)
			default:
				kind = OutsiderStuck
				x.fail(JoinerFollows, end, fmt.Sprintf("voter %d has been LOOKING since %s without deciding while leader %d leads epoch %d", id, g.lookingFrom, lr.Leader, lr.Epoch), id, lr.Leader)
				reason = "LOOKING: no election decided"
			}
		}
		out = append(out, Outsider{Server: id, Leader: lr.Leader, Since: since, Kind: kind, Reason: reason})
	}
	return out
}

// starvedReason names why a starved voter cannot join: the flood that keeps restarting its poll,
// and why the replies it did get were no help: discarded from its full receive queue (a burst
// after a pause), or votes for the leader that disagree on peerEpoch (members move it to the
// new epoch at UPTODATE, spec §4.6), so that no group of them is a quorum.
func starvedReason(x *env, g *electionGhost, lr protocol.Role) string {
	b := []byte("LOOKING: poll starved by a flood of LOOKING notifications from ")
	b = appendServers(b, x, g.fedBy|g.fedByBefore)
	b = fmt.Appendf(b, ", each sooner than its poll timeout (notTimeout, now %v) after the last, so it never times out to send its vote again", g.fedTimeout)
	if g.droppedReplies > 0 {
		b = fmt.Appendf(b, "; %d FOLLOWING/LEADING replies (of %d notifications) were discarded from its full receive queue", g.droppedReplies, g.recvDropped)
	}
	var epochs []protocol.Epoch
	for _, h := range g.heard {
		if h.v.Leader == lr.Leader && h.v.State != protocol.LOOKING && !slices.Contains(epochs, h.v.PeerEpoch) {
			epochs = append(epochs, h.v.PeerEpoch)
		}
	}
	if len(epochs) > 1 {
		slices.Sort(epochs)
		b = fmt.Appendf(b, "; the FOLLOWING/LEADING votes it heard for leader %d disagree on peerEpoch %v, so no group of them is a quorum", lr.Leader, epochs)
	}
	return string(b)
}

// outsideEnsemble: none of the servers in mask is synced to the established leader, so their
// LOOKING notifications are not part of joining it.
func outsideEnsemble(x *env, mask uint64, lr protocol.Role) bool {
	for j := 0; j < x.ServerCount() && j < 64; j++ {
		if mask&(1<<j) == 0 {
			continue
		}
		if r, up := x.Role(j); up && r.Synced && r.Leader == lr.Leader {
			return false
		}
	}
	return true
}

// appendServers appends the ids of the servers whose indexes are set in mask, as "s1,s4".
func appendServers(b []byte, x *env, mask uint64) []byte {
	first := true
	for j := 0; j < x.ServerCount() && j < 64; j++ {
		if mask&(1<<j) != 0 {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, 's')
			b = strconv.AppendInt(b, int64(x.ServerAt(j)), 10)
		}
	}
	return b
}
