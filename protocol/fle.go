package protocol

import (
	"math"
	"time"
)

// Fast Leader Election (FastLeaderElection.java, spec §4) as states and timers: the poll of
// lookForLeader becomes a poll timer (notTimeout, doubling up to the maximum), its finalize wait
// a finalize timer, and WorkerReceiver's replies happen as each notification arrives.

const (
	// noVote is Long.MIN_VALUE: an observer's proposed leader, zxid and epoch (spec §4.1).
	noVote ServerID = math.MinInt64
	noZxid Zxid     = math.MinInt64
	noEpo  Epoch    = math.MinInt64
	// notificationVersion is what buildMsg puts on the wire.
	notificationVersion int32 = 2
)

// voteEntry is one entry of recvset or outofelection.
type voteEntry struct {
	sid ServerID
	v   Vote
}

// fleState is one FastLeaderElection instance. logicalclock survives across elections (one
// instance per process); everything else belongs to the current lookForLeader call.
type fleState struct {
	logicalclock   int64
	running        bool
	finalizing     bool
	proposedLeader ServerID
	proposedZxid   Zxid
	proposedEpoch  Epoch
	notTimeout     time.Duration
	// The poll and the finalize wait restart with every notification taken. Rather than a
	// timer per restart, one timer stays armed and, when it fires early, re-arms for the rest.
	pollDeadline     Time
	finalizeDeadline Time
	pollArmed        bool
	finalizeArmed    bool
	pollGen          uint32
	finalizeGen      uint32
	recvset          []voteEntry
	outofelection    []voteEntry
}

func putVote(set []voteEntry, sid ServerID, v Vote) []voteEntry {
	for i := range set {
		if set[i].sid == sid {
			set[i].v = v
			return set
		}
	}
	return append(set, voteEntry{sid, v})
}

func findVote(set []voteEntry, sid ServerID) (Vote, bool) {
	for i := range set {
		if set[i].sid == sid {
			return set[i].v, true
		}
	}
	return Vote{}, false
}

// initVote is getInitId/getInitLastLoggedZxid/getPeerEpoch: a participant proposes itself, an
// observer nobody.
func (p *QuorumPeer) initVote() (ServerID, Zxid, Epoch) {
	if p.learnerType != PARTICIPANT {
		return noVote, noZxid, noEpo
	}
	return p.id, p.lastProcessedZxid, p.currentEpoch
}

// totalOrderPredicate is FastLeaderElection.totalOrderPredicate (spec §4.2): lexicographic on
// (peerEpoch, zxid, sid); a candidate that is not a voter never wins. VoteOrderPrecedenceBug
// restores ZOOKEEPER-1419's predicate, whose sid tie-break ignores the epoch.
func (p *QuorumPeer) totalOrderPredicate(newID ServerID, newZxid Zxid, newEpoch Epoch, curID ServerID, curZxid Zxid, curEpoch Epoch) bool {
	if !p.cfg.IsParticipant(newID) {
		return false
	}
	if p.cfg.Knobs.VoteOrderPrecedenceBug {
		return newEpoch > curEpoch || (newEpoch == curEpoch && newZxid > curZxid) || (newZxid == curZxid && newID > curID)
	}
	return newEpoch > curEpoch || (newEpoch == curEpoch && (newZxid > curZxid || (newZxid == curZxid && newID > curID)))
}

// VoteBeats is the faithful total order on votes, for checkers: does (id, zxid, epoch) beat
// (curID, curZxid, curEpoch)?
func VoteBeats(id ServerID, zxid Zxid, epoch Epoch, curID ServerID, curZxid Zxid, curEpoch Epoch) bool {
	return epoch > curEpoch || (epoch == curEpoch && (zxid > curZxid || (zxid == curZxid && id > curID)))
}

// voteEquals is Vote.equals (spec §4.3). StrictOutOfElectionVoteEquality restores the
// comparison of zxid and round for votes of servers out of election (before ZOOKEEPER-1732).
func (p *QuorumPeer) voteEquals(a, b Vote) bool {
	if a.State == LOOKING || b.State == LOOKING || p.cfg.Knobs.StrictOutOfElectionVoteEquality {
		return a.Leader == b.Leader && a.Zxid == b.Zxid && a.ElectionEpoch == b.ElectionEpoch && a.PeerEpoch == b.PeerEpoch
	}
	if (a.Version > 0) != (b.Version > 0) {
		return a.Leader == b.Leader
	}
	return a.Leader == b.Leader && a.PeerEpoch == b.PeerEpoch
}

// voteQuorum is getVoteTracker(votes, target).hasAllQuorums(): the voters whose vote equals
// target form a quorum. It returns them for the checker.
func (p *QuorumPeer) voteQuorum(set []voteEntry, target Vote) (bool, []ServerID) {
	sids := p.fleScratch[:0]
	for i := range set {
		if p.cfg.IsParticipant(set[i].sid) && p.voteEquals(set[i].v, target) {
			sids = append(sids, set[i].sid)
		}
	}
	p.fleScratch = sids
	return p.cfg.ContainsQuorum(sids), sids
}

// checkLeader is FastLeaderElection.checkLeader: follow another server only if its own vote
// says LEADING; lead from others' votes only if they carry my current round.
func (p *QuorumPeer) checkLeader(set []voteEntry, leader ServerID, electionEpoch int64) bool {
	if leader != p.id {
		v, ok := findVote(set, leader)
		return ok && v.State == LEADING
	}
	return p.fle.logicalclock == electionEpoch
}

// fleLookForLeader starts FastLeaderElection.lookForLeader: a new round, the initial vote,
// notifications to every voter (myself included), and the first poll.
func (p *QuorumPeer) fleLookForLeader(now Time, out []Effect) []Effect {
	f := &p.fle
	f.logicalclock++
	f.running, f.finalizing = true, false
	f.pollArmed, f.finalizeArmed = false, false
	f.recvset, f.outofelection = f.recvset[:0], f.outofelection[:0]
	f.notTimeout = p.cfg.Election.MinNotificationInterval
	l, z, e := p.initVote()
	out = p.updateProposal(l, z, e, out)
	out = p.sendNotifications(out)
	return p.armPoll(now, out)
}

func (p *QuorumPeer) updateProposal(leader ServerID, zxid Zxid, epoch Epoch, out []Effect) []Effect {
	f := &p.fle
	f.proposedLeader, f.proposedZxid, f.proposedEpoch = leader, zxid, epoch
	return note(out, Note{Kind: NoteProposal, Peer: leader, Zxid: zxid, Epoch: epoch, Round: f.logicalclock})
}

// armPoll (re)starts the poll wait: recvqueue.poll(notTimeout).
func (p *QuorumPeer) armPoll(now Time, out []Effect) []Effect {
	f := &p.fle
	f.pollDeadline = now.Add(f.notTimeout)
	if !f.pollArmed {
		f.pollArmed = true
		f.pollGen, out = p.newTimer(TimerElection, 0, f.notTimeout, 0, out)
	}
	return out
}

// armFinalize (re)starts the finalize wait.
func (p *QuorumPeer) armFinalize(now Time, out []Effect) []Effect {
	f := &p.fle
	f.finalizeDeadline = now.Add(p.cfg.Election.FinalizeWait)
	if !f.finalizeArmed {
		f.finalizeArmed = true
		f.finalizeGen, out = p.newTimer(TimerFLEFinalize, 0, p.cfg.Election.FinalizeWait, 0, out)
	}
	return out
}

// pollTimerFired: the poll wait really expired, or re-arm for what is left of it.
func (p *QuorumPeer) pollTimerFired(now Time, haveDelivered bool, out []Effect) []Effect {
	f := &p.fle
	f.pollArmed = false
	if f.finalizing {
		return out // the main loop is in the finalize wait, not polling
	}
	if now < f.pollDeadline {
		f.pollArmed = true
		f.pollGen, out = p.newTimer(TimerElection, 0, time.Duration(f.pollDeadline-now), 0, out)
		return out
	}
	return p.flePollExpired(now, haveDelivered, out)
}

// finalizeTimerFired: the finalize wait passed with nothing better, or re-arm for the rest.
func (p *QuorumPeer) finalizeTimerFired(now Time, out []Effect) []Effect {
	f := &p.fle
	f.finalizeArmed = false
	if !f.finalizing {
		return out
	}
	if now < f.finalizeDeadline {
		f.finalizeArmed = true
		f.finalizeGen, out = p.newTimer(TimerFLEFinalize, 0, time.Duration(f.finalizeDeadline-now), 0, out)
		return out
	}
	return p.fleFinalize(now, out)
}

// sendNotifications sends my proposal to every voter, myself included (spec §4.4).
func (p *QuorumPeer) sendNotifications(out []Effect) []Effect {
	f := &p.fle
	v := Vote{Leader: f.proposedLeader, Zxid: f.proposedZxid, ElectionEpoch: f.logicalclock, PeerEpoch: f.proposedEpoch,
		State: LOOKING, Version: notificationVersion}
	for _, s := range p.cfg.Servers {
		if s.Type == PARTICIPANT {
			out = append(out, Effect{Kind: EffectNotify, To: s.ID, Msg: Message{Type: NOTIFICATION, Sid: p.id, Vote: v}})
		}
	}
	return out
}

func (p *QuorumPeer) notify(to ServerID, v Vote, out []Effect) []Effect {
	v.Version = notificationVersion
	return append(out, Effect{Kind: EffectNotify, To: to, Msg: Message{Type: NOTIFICATION, Sid: p.id, Vote: v}})
}

// receiveNotification is Messenger.WorkerReceiver (spec §4.4), in every state: answer
// observers and LOOKING servers, and hand the notification to lookForLeader while LOOKING.
func (p *QuorumPeer) receiveNotification(now Time, from ServerID, n Vote, out []Effect) []Effect {
	cur := p.vote
	if !p.cfg.IsParticipant(from) {
		// A non-voter learns only from these replies: my last decided vote and my state.
		return p.notify(from, Vote{Leader: cur.Leader, Zxid: cur.Zxid, ElectionEpoch: p.fle.logicalclock, PeerEpoch: cur.PeerEpoch, State: p.state}, out)
	}
	if p.state != LOOKING {
		if n.State != LOOKING {
			return out
		}
		// The reply carries the state of now; a leader that quits on this notification
		// (reportLookingSid) goes LOOKING after it, on its own thread.
		out = p.notify(from, Vote{Leader: cur.Leader, Zxid: cur.Zxid, ElectionEpoch: cur.ElectionEpoch, PeerEpoch: cur.PeerEpoch, State: p.state}, out)
		if p.state == LEADING {
			out = p.reportLookingSid(now, from, out)
		}
		return out
	}
	f := &p.fle
	if n.State == LOOKING && n.ElectionEpoch < f.logicalclock {
		out = p.notify(from, Vote{Leader: f.proposedLeader, Zxid: f.proposedZxid, ElectionEpoch: f.logicalclock, PeerEpoch: f.proposedEpoch, State: LOOKING}, out)
	}
	if !f.running {
		return out // an observer pausing before its election; ZooKeeper's queue would hold it
	}
	return p.fleHandle(now, from, n, out)
}

// fleHandle is one pass of lookForLeader's loop with notification n from sender `from`.
func (p *QuorumPeer) fleHandle(now Time, from ServerID, n Vote, out []Effect) []Effect {
	f := &p.fle
	if f.finalizing {
		if !p.totalOrderPredicate(n.Leader, n.Zxid, n.PeerEpoch, f.proposedLeader, f.proposedZxid, f.proposedEpoch) {
			// Not better: discarded, and the finalize wait starts over.
			return p.armFinalize(now, out)
		}
		// A better vote: back to the queue, and the main loop goes on with it.
		f.finalizing = false
		out = probe(out, ProbeFinalizeVoteChange)
	}
	if !p.cfg.IsParticipant(from) || !p.cfg.IsParticipant(n.Leader) {
		return p.armPoll(now, out)
	}
	switch n.State {
	case LOOKING:
		out = p.fleLooking(now, from, n, out)
	case FOLLOWING, LEADING:
		out = p.receivedFollowingNotification(now, from, n, out)
	}
	if f.running && !f.finalizing {
		out = p.armPoll(now, out)
	}
	return out
}

// fleLooking handles a notification from a LOOKING sender (spec §4.5, LOOKING).
func (p *QuorumPeer) fleLooking(now Time, from ServerID, n Vote, out []Effect) []Effect {
	f := &p.fle
	switch {
	case n.ElectionEpoch > f.logicalclock:
		f.logicalclock = n.ElectionEpoch
		f.recvset = f.recvset[:0]
		il, iz, ie := p.initVote()
		if p.totalOrderPredicate(n.Leader, n.Zxid, n.PeerEpoch, il, iz, ie) {
			out = p.updateProposal(n.Leader, n.Zxid, n.PeerEpoch, out)
		} else {
			out = p.updateProposal(il, iz, ie, out)
		}
		out = p.sendNotifications(out)
	case n.ElectionEpoch < f.logicalclock:
		return out
	case p.totalOrderPredicate(n.Leader, n.Zxid, n.PeerEpoch, f.proposedLeader, f.proposedZxid, f.proposedEpoch):
		out = p.updateProposal(n.Leader, n.Zxid, n.PeerEpoch, out)
		out = p.sendNotifications(out)
	}
	f.recvset = putVote(f.recvset, from, Vote{Leader: n.Leader, Zxid: n.Zxid, ElectionEpoch: n.ElectionEpoch, PeerEpoch: n.PeerEpoch, State: LOOKING})
	target := Vote{Leader: f.proposedLeader, Zxid: f.proposedZxid, ElectionEpoch: f.logicalclock, PeerEpoch: f.proposedEpoch, State: LOOKING}
	if ok, _ := p.voteQuorum(f.recvset, target); ok {
		f.finalizing = true
		out = p.armFinalize(now, out)
	}
	return out
}

// receivedFollowingNotification handles a FOLLOWING or LEADING sender (spec §4.5): same round
// first, then the out-of-election votes by which a server joins an established ensemble.
func (p *QuorumPeer) receivedFollowingNotification(now Time, from ServerID, n Vote, out []Effect) []Effect {
	f := &p.fle
	target := n
	if n.ElectionEpoch == f.logicalclock {
		stored := n
		stored.Version = 0 // recvset entries carry no version (spec §4.3 MARK)
		f.recvset = putVote(f.recvset, from, stored)
		if ok, sids := p.voteQuorum(f.recvset, target); ok && p.checkLeader(f.recvset, n.Leader, n.ElectionEpoch) {
			return p.fleDecide(now, n, sids, HowSameRound, out)
		}
	}
	f.outofelection = putVote(f.outofelection, from, n)
	if ok, sids := p.voteQuorum(f.outofelection, target); ok && p.checkLeader(f.outofelection, n.Leader, n.ElectionEpoch) {
		f.logicalclock = n.ElectionEpoch
		return p.fleDecide(now, n, sids, HowOutOfElection, out)
	}
	return out
}

// fleFinalize: the finalize wait passed with no better vote; decide my proposal.
func (p *QuorumPeer) fleFinalize(now Time, out []Effect) []Effect {
	f := &p.fle
	f.finalizing = false
	v := Vote{Leader: f.proposedLeader, Zxid: f.proposedZxid, ElectionEpoch: f.logicalclock, PeerEpoch: f.proposedEpoch, State: LOOKING}
	_, sids := p.voteQuorum(f.recvset, v)
	return p.fleDecide(now, v, sids, HowLookingQuorum, out)
}

// ElectionHow is the way FLE decided (Note.How); its String is the note's Reason.
type ElectionHow uint8

// The ways lookForLeader decides.
const (
	HowLookingQuorum ElectionHow = iota + 1 // finalize wait passed on a LOOKING quorum
	HowSameRound                            // FOLLOWING/LEADING quorum of my round
	HowOutOfElection                        // FOLLOWING/LEADING quorum outside the election
)

var howText = [...]string{HowLookingQuorum: "quorum of LOOKING votes",
	HowSameRound: "same-round FOLLOWING/LEADING quorum", HowOutOfElection: "out-of-election FOLLOWING/LEADING quorum"}

func (h ElectionHow) String() string { return howText[h] }

// fleDecide ends lookForLeader: the end vote becomes currentVote and the peer takes its role.
func (p *QuorumPeer) fleDecide(now Time, v Vote, supporters []ServerID, how ElectionHow, out []Effect) []Effect {
	f := &p.fle
	f.running, f.finalizing = false, false
	f.pollArmed, f.finalizeArmed = false, false
	f.pollGen++
	f.finalizeGen++
	p.vote = Vote{Leader: v.Leader, Zxid: v.Zxid, ElectionEpoch: v.ElectionEpoch, PeerEpoch: v.PeerEpoch}
	st := FOLLOWING
	switch {
	case v.Leader == p.id:
		st = LEADING
	case p.learnerType == OBSERVER:
		st = OBSERVING
	}
	out = note(out, Note{Kind: NoteElected, Peer: v.Leader, Zxid: v.Zxid, Epoch: v.PeerEpoch, Round: v.ElectionEpoch,
		Sids: cloneSids(supporters), Reason: how.String(), How: how, State: st})
	return p.decide(now, v.Leader, out)
}

// flePollExpired: no notification within notTimeout. If some election send queue is empty
// (haveDelivered) the proposal is sent again, else connectAll dials every peer with a queued
// message; the timeout doubles either way (spec §4.5).
func (p *QuorumPeer) flePollExpired(now Time, haveDelivered bool, out []Effect) []Effect {
	f := &p.fle
	if haveDelivered {
		out = p.sendNotifications(out)
	} else {
		out = append(out, Effect{Kind: EffectConnectAll})
	}
	f.notTimeout = min(2*f.notTimeout, p.cfg.Election.MaxNotificationInterval)
	return p.armPoll(now, out)
}

func cloneSids(s []ServerID) []ServerID {
	if len(s) == 0 {
		return nil
	}
	return append([]ServerID(nil), s...)
}
