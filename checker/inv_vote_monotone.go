package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// VoteMonotone (22): within one round, a server's proposal only moves to a strictly greater vote
// under (peerEpoch, zxid, sid): lookForLeader with totalOrderPredicate. Judged under Fast Leader
// Election only, from the tracker's last proposal of the round. Sources: ZOOKEEPER-1419, 275.
const VoteMonotone = "VoteMonotone"

type voteMonotone struct{ stateless }

func (voteMonotone) event(x *env, e *sim.TraceEvent) { // TrNote
	n := &e.Note
	if x.cfg.Election.Assigned || n.Kind != protocol.NoteProposal {
		return
	}
	g := &x.t.elections[x.srv]
	if !g.hasProposal || n.Round != g.round {
		return // the first proposal of a round
	}
	same := n.Peer == g.proposal.Leader && n.Zxid == g.proposal.Zxid && n.Epoch == g.proposal.PeerEpoch
	if !same && !protocol.VoteBeats(n.Peer, n.Zxid, n.Epoch, g.proposal.Leader, g.proposal.Zxid, g.proposal.PeerEpoch) {
		x.fail(VoteMonotone, e.At, fmt.Sprintf("server %d moved its round-%d proposal from (leader %d, zxid %s, peerEpoch %d) to the lower (leader %d, zxid %s, peerEpoch %d)",
			e.Server, n.Round, g.proposal.Leader, g.proposal.Zxid, g.proposal.PeerEpoch, n.Peer, n.Zxid, n.Epoch), e.Server)
	}
}
