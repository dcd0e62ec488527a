package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// NonVotersNeverLead (24): an observer is never elected (under Fast Leader Election), never
// LEADING, and never counted in the epoch, epoch-ack, NEWLEADER or tick quorum.
// FLEZeroWeightTest; ZOOKEEPER-769.
const NonVotersNeverLead = "NonVotersNeverLead"

type nonVotersNeverLead struct{ stateless }

func (nonVotersNeverLead) event(x *env, e *sim.TraceEvent) { // TrState, TrNote
	if e.Kind == sim.TrState {
		if e.State == protocol.LEADING && !x.cfg.IsParticipant(e.Server) {
			x.fail(NonVotersNeverLead, e.At, fmt.Sprintf("non-voter %d is LEADING", e.Server), e.Server)
		}
		return
	}
	n := &e.Note
	switch n.Kind {
	case protocol.NoteElected:
		if !x.cfg.Election.Assigned && !x.cfg.IsParticipant(n.Peer) {
			x.fail(NonVotersNeverLead, e.At, fmt.Sprintf("server %d elected non-voter %d", e.Server, n.Peer), e.Server, n.Peer)
		}
	case protocol.NoteEpochDecided, protocol.NoteEpochAcked, protocol.NoteNewLeaderQuorum, protocol.NoteTickSynced:
		for _, s := range n.Sids {
			if !x.cfg.IsParticipant(s) {
				x.fail(NonVotersNeverLead, e.At, fmt.Sprintf("leader %d counted non-voter %d in %s", e.Server, s, n.Kind), e.Server, s)
			}
		}
	}
}
