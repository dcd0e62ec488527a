package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// SelfElectionRoundCheck (23): an FLE decision rests on a voter quorum of servers that really
// sent that vote (the election's own quorum check, redone from the notifications the tracker
// saw delivered); a server follows another only on that server's own LEADING vote; it leads on
// others' FOLLOWING/LEADING votes only in its own round (checkLeader). Judged under Fast Leader
// Election only. Sources: ZOOKEEPER-1514, 480, 975.
const SelfElectionRoundCheck = "SelfElectionRoundCheck"

type selfElectionRoundCheck struct{ stateless }

func (selfElectionRoundCheck) event(x *env, e *sim.TraceEvent) { // TrNote
	n := &e.Note
	if x.cfg.Election.Assigned || n.Kind != protocol.NoteElected {
		return
	}
	g := &x.t.elections[x.srv]
	if !x.voterQuorum(n.Sids) {
		x.fail(SelfElectionRoundCheck, e.At, fmt.Sprintf("server %d decided for %d on the votes of %v, not a voter quorum", e.Server, n.Peer, n.Sids), e.Server)
	}
	lookingPath := n.How == protocol.HowLookingQuorum
	for _, s := range n.Sids {
		if s == e.Server && lookingPath {
			continue // its own proposal
		}
		if !g.votedFor(s, n.Peer) {
			x.fail(SelfElectionRoundCheck, e.At, fmt.Sprintf("server %d counted %d for leader %d, but heard no such vote from it", e.Server, s, n.Peer), e.Server, s)
		}
	}
	switch {
	case !lookingPath && n.Peer != e.Server && !g.saidLeading(n.Peer):
		x.fail(SelfElectionRoundCheck, e.At, fmt.Sprintf("server %d follows %d without a LEADING vote from it", e.Server, n.Peer), e.Server, n.Peer)
	case !lookingPath && n.Peer == e.Server && (!g.hasProposal || n.Round != g.round):
		// checkLeader: lead on others' FOLLOWING/LEADING votes only if the deciding vote is of
		// my current round (ZOOKEEPER-1514/975); the others are compared on leader and epoch.
		x.fail(SelfElectionRoundCheck, e.At, fmt.Sprintf("server %d leads on votes of round %d, but its own round is %d", e.Server, n.Round, g.round), e.Server)
	}
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
