package checker

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"zabsim/protocol"
	"zabsim/sim"
)

// Election invariants (shared/spec/invariants.md 22-24, 26), judged from the notifications each
// server received and the proposals and decisions it announced.

const (
	VoteMonotone           = "VoteMonotone"           // 22
	SelfElectionRoundCheck = "SelfElectionRoundCheck" // 23
	JoinerFollows          = "JoinerFollows"          // 26 (liveness)
)

// heard is one notification a server received during its current election.
type heard struct {
	from protocol.ServerID
	v    protocol.Vote
}

// electionGhost follows one server's elections.
type electionGhost struct {
	round       int64
	proposal    protocol.Vote // the last proposal announced in round
	hasProposal bool
	heard       []heard // notifications received since this election started
	lookingFrom protocol.Time
	upSince     protocol.Time
	lastReason  string
	// fedSince is when the current streak of LOOKING notifications from other voters began,
	// each arriving before the last one's minNotificationInterval ran out, so lookForLeader's
	// poll never timed out in it; fedLast is the latest. fedBy marks (by server index) who sent
	// them lately: since fedMark, and in the span before it.
	fedSince, fedLast, fedMark protocol.Time
	fedBy, fedByBefore         uint64
	// recvDropped counts the notifications its receive queue discarded since it started
	// LOOKING; droppedReplies those of them that were FOLLOWING or LEADING votes.
	recvDropped, droppedReplies int
}

func (c *Checker) onProposal(w *sim.World, e *sim.TraceEvent) {
	g := &c.elections[w.Index(e.Server)]
	n := &e.Note
	if n.Round != g.round {
		g.round, g.hasProposal = n.Round, false
	}
	same := g.hasProposal && n.Peer == g.proposal.Leader && n.Zxid == g.proposal.Zxid && n.Epoch == g.proposal.PeerEpoch
	if g.hasProposal && !same && !protocol.VoteBeats(n.Peer, n.Zxid, n.Epoch, g.proposal.Leader, g.proposal.Zxid, g.proposal.PeerEpoch) {
		c.fail(VoteMonotone, e.At, fmt.Sprintf("server %d moved its round-%d proposal from (leader %d, zxid %s, peerEpoch %d) to the lower (leader %d, zxid %s, peerEpoch %d)",
			e.Server, n.Round, g.proposal.Leader, g.proposal.Zxid, g.proposal.PeerEpoch, n.Peer, n.Zxid, n.Epoch), e.Server)
	}
	g.proposal = protocol.Vote{Leader: n.Peer, Zxid: n.Zxid, PeerEpoch: n.Epoch}
	g.hasProposal = true
}

func (c *Checker) onNotificationRecv(w *sim.World, e *sim.TraceEvent) {
	g := &c.elections[w.Index(e.Server)]
	v := e.Msg.Vote
	if v.State == protocol.LOOKING && e.Peer != e.Server && c.cfg.IsParticipant(e.Peer) {
		if g.fedBy == 0 || time.Duration(e.At-g.fedLast) >= c.cfg.Election.MinNotificationInterval {
			g.fedSince, g.fedMark, g.fedBy, g.fedByBefore = e.At, e.At, 0, 0
		}
		if time.Duration(e.At-g.fedMark) > fedSpan {
			g.fedMark, g.fedByBefore, g.fedBy = e.At, g.fedBy, 0
		}
		g.fedLast = e.At
		if j := w.Index(e.Peer); j >= 0 && j < 64 {
			g.fedBy |= 1 << j
		}
	}
	for _, h := range g.heard { // a long election repeats itself: keep each distinct vote once
		if h.from == e.Peer && h.v.Leader == v.Leader && h.v.State == v.State && h.v.ElectionEpoch == v.ElectionEpoch {
			return
		}
	}
	g.heard = append(g.heard, heard{from: e.Peer, v: v})
}

// onElected checks a decision: the leader is a voter (24); the votes it counted are a voter
// quorum of servers that did vote for that leader (the election's own quorum check, redone
// from the notifications actually received); it follows another server only on that server's
// own LEADING vote, and leads on others' FOLLOWING/LEADING votes only in its own round (23).
func (c *Checker) onElected(w *sim.World, e *sim.TraceEvent) {
	i := w.Index(e.Server)
	g := &c.elections[i]
	n := &e.Note
	if !c.cfg.IsParticipant(n.Peer) {
		c.fail(NonVotersNeverLead, e.At, fmt.Sprintf("server %d elected non-voter %d", e.Server, n.Peer), e.Server, n.Peer)
	}
	if !c.voterQuorum(n.Sids) {
		c.fail(SelfElectionRoundCheck, e.At, fmt.Sprintf("server %d decided for %d on the votes of %v, not a voter quorum", e.Server, n.Peer, n.Sids), e.Server)
	}
	lookingPath := n.Reason == "quorum of LOOKING votes"
	for _, s := range n.Sids {
		if s == e.Server && lookingPath {
			continue // its own proposal
		}
		if !g.votedFor(s, n.Peer) {
			c.fail(SelfElectionRoundCheck, e.At, fmt.Sprintf("server %d counted %d for leader %d, but heard no such vote from it", e.Server, s, n.Peer), e.Server, s)
		}
	}
	switch {
	case !lookingPath && n.Peer != e.Server && !g.saidLeading(n.Peer):
		c.fail(SelfElectionRoundCheck, e.At, fmt.Sprintf("server %d follows %d without a LEADING vote from it", e.Server, n.Peer), e.Server, n.Peer)
	case !lookingPath && n.Peer == e.Server && (!g.hasProposal || n.Round != g.round):
		// checkLeader: lead on others' FOLLOWING/LEADING votes only if the deciding vote is of
		// my current round (ZOOKEEPER-1514/975); the others are compared on leader and epoch.
		c.fail(SelfElectionRoundCheck, e.At, fmt.Sprintf("server %d leads on votes of round %d, but its own round is %d", e.Server, n.Round, g.round), e.Server)
	}
	g.heard = g.heard[:0]
}

func (g *electionGhost) votedFor(from, leader protocol.ServerID) bool {
	for _, h := range g.heard {
		if h.from == from && h.v.Leader == leader {
			return true
		}
	}
	return false
}

func (g *electionGhost) saidLeading(leader protocol.ServerID) bool {
	for _, h := range g.heard {
		if h.from == leader && h.v.Leader == leader && h.v.State == protocol.LEADING {
			return true
		}
	}
	return false
}

// onRoleChange keeps, per server, since when it has been outside an ensemble and why.
func (c *Checker) onRoleChange(w *sim.World, e *sim.TraceEvent) {
	g := &c.elections[w.Index(e.Server)]
	switch e.Kind {
	case sim.TrStart:
		g.upSince, g.lookingFrom, g.lastReason = e.At, e.At, "LOOKING since it started"
		g.fedBy, g.fedByBefore = 0, 0
		g.recvDropped, g.droppedReplies = 0, 0
		g.heard = g.heard[:0]
		g.round, g.hasProposal = 0, false
	case sim.TrState:
		if e.State == protocol.LOOKING {
			// A new lookForLeader: its rounds may repeat numbers of an earlier one, since an
			// out-of-election decision sets logicalclock back to the leader's round.
			g.heard = g.heard[:0]
			g.hasProposal = false
			g.recvDropped, g.droppedReplies = 0, 0
		}
	case sim.TrNote:
		if e.Note.Kind == protocol.NoteLearnerLeft || e.Note.Kind == protocol.NoteLeaderShutdown {
			g.lastReason = e.Note.Reason
		}
	}
}

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
func (c *Checker) judgeJoiners(w *sim.World, end protocol.Time) []Outsider {
	li := -1
	var lr protocol.Role
	for i := 0; i < w.ServerCount(); i++ {
		if r, up := w.Role(i); up && r.State == protocol.LEADING && r.Zab == protocol.BROADCAST {
			li, lr = i, r
		}
	}
	if li < 0 {
		return nil
	}
	var out []Outsider
	bound := JoinBound(c.cfg)
	for i := 0; i < w.ServerCount(); i++ {
		id := w.ServerAt(i)
		r, up := w.Role(i)
		if !up || i == li || !c.cfg.IsParticipant(id) || (r.Synced && r.Leader == lr.Leader && r.Epoch == lr.Epoch) {
			continue
		}
		g := &c.elections[i]
		since := max(g.upSince, c.healAt, c.livenessAt)
		if time.Duration(end-since) <= bound {
			continue
		}
		kind := OutsiderOther
		if strings.HasPrefix(g.lastReason, "Leaders epoch") {
			kind = OutsiderRefused
		}
		if r.State == protocol.LOOKING && !c.cfg.Election.Assigned && g.lookingFrom >= 0 && time.Duration(end-max(g.lookingFrom, since)) > bound {
			switch v := w.Peer(i).View(); {
			case v.AcceptedEpoch > lr.Epoch:
				// Deciding would not help: registerWithLeader refuses a leader whose epoch is
				// below the learner's acceptedEpoch, so ZooKeeper leaves this voter out.
				kind, g.lastReason = OutsiderWouldBeRefused, fmt.Sprintf("LOOKING, and would be refused: Leaders epoch, %d is less than accepted epoch, %d", lr.Epoch, v.AcceptedEpoch)
			case g.fedBy != 0 && time.Duration(end-g.fedLast) < c.cfg.Election.MinNotificationInterval &&
				time.Duration(end-g.fedSince) > bound && c.outsideEnsemble(w, g.fedBy|g.fedByBefore, lr):
				// lookForLeader re-sends its vote (and so hears the ensemble's FOLLOWING and
				// LEADING replies) only when its poll times out, and every notification from a
				// voter restarts the poll: LOOKING voters that announce faster than the poll's
				// minimum interval (refused voters that go LOOKING again at once) starve it.
				// This is ZooKeeper's behaviour, reported, not a violation (README, Joining).
				kind, g.lastReason = OutsiderPollStarved, c.starvedReason(w, g, lr)
			default:
				kind = OutsiderStuck
				c.fail(JoinerFollows, end, fmt.Sprintf("voter %d has been LOOKING since %s without deciding while leader %d leads epoch %d", id, g.lookingFrom, lr.Leader, lr.Epoch), id, lr.Leader)
				g.lastReason = "LOOKING: no election decided"
			}
		}
		out = append(out, Outsider{Server: id, Leader: lr.Leader, Since: since, Kind: kind, Reason: g.lastReason})
	}
	return out
}

// starvedReason names why a starved voter cannot join: the flood that keeps restarting its poll,
// and why the replies it did get were no help: discarded from its full receive queue (a burst
// after a pause), or votes for the leader that disagree on peerEpoch (members move it to the
// new epoch at UPTODATE, spec §4.6), so that no group of them is a quorum.
func (c *Checker) starvedReason(w *sim.World, g *electionGhost, lr protocol.Role) string {
	b := []byte("LOOKING: poll starved by a flood of LOOKING notifications from ")
	b = appendServers(b, w, g.fedBy|g.fedByBefore)
	b = fmt.Appendf(b, ", each sooner than minNotificationInterval (%v) after the last, so it never times out to send its vote again", c.cfg.Election.MinNotificationInterval)
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

// electionTrace routes the trace events the election checks need.
func (c *Checker) electionTrace(w *sim.World, e *sim.TraceEvent) {
	switch e.Kind {
	case sim.TrRecv:
		if e.Msg.Type == protocol.NOTIFICATION {
			c.onNotificationRecv(w, e)
		}
	case sim.TrRecvQueueDrop:
		g := &c.elections[w.Index(e.Server)]
		g.recvDropped++
		if e.Msg.Vote.State == protocol.FOLLOWING || e.Msg.Vote.State == protocol.LEADING {
			g.droppedReplies++
		}
	case sim.TrNote:
		switch e.Note.Kind {
		case protocol.NoteProposal:
			c.onProposal(w, e)
		case protocol.NoteElected:
			c.onElected(w, e)
			c.elections[w.Index(e.Server)].lookingFrom = -1
		}
		c.onRoleChange(w, e)
	case sim.TrStart, sim.TrState:
		c.onRoleChange(w, e)
		if e.Kind == sim.TrState && e.State == protocol.LOOKING {
			g := &c.elections[w.Index(e.Server)]
			g.lookingFrom = e.At
		}
	}
}

// fedSpan is how far back the senders of a starving streak of notifications are remembered.
const fedSpan = 10 * time.Second

// outsideEnsemble: none of the servers in mask is synced to the established leader, so their
// LOOKING notifications are not part of joining it.
func (c *Checker) outsideEnsemble(w *sim.World, mask uint64, lr protocol.Role) bool {
	for j := 0; j < w.ServerCount() && j < 64; j++ {
		if mask&(1<<j) == 0 {
			continue
		}
		if r, up := w.Role(j); up && r.Synced && r.Leader == lr.Leader {
			return false
		}
	}
	return true
}

// appendServers appends the ids of the servers whose indexes are set in mask, as "s1,s4".
func appendServers(b []byte, w *sim.World, mask uint64) []byte {
	first := true
	for j := 0; j < w.ServerCount() && j < 64; j++ {
		if mask&(1<<j) != 0 {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, 's')
			b = strconv.AppendInt(b, int64(w.ServerAt(j)), 10)
		}
	}
	return b
}
