package checker

import (
	"fmt"
	"slices"

	"zabsim/protocol"
	"zabsim/sim"
)

// FreshEpoch (3): the epoch getEpochToPropose decides comes from a voter quorum that contains
// the leader, and exceeds the acceptedEpoch of the leader and of every voter of that quorum
// that registered before the decision (Leader.getEpochToPropose). Sources: ZOOKEEPER-1270,
// 1343, 1291.
const FreshEpoch = "FreshEpoch"

type freshEpoch struct{ stateless }

func (freshEpoch) event(x *env, e *sim.TraceEvent) { // TrNote
	n := &e.Note
	if n.Kind != protocol.NoteEpochDecided {
		return
	}
	a := &x.t.attempts[x.srv]
	if !slices.Contains(n.Sids, e.Server) {
		x.fail(FreshEpoch, e.At, fmt.Sprintf("leader %d decided epoch %d from %v, without itself", e.Server, n.Epoch, n.Sids), e.Server)
	}
	if !x.voterQuorum(n.Sids) {
		x.fail(FreshEpoch, e.At, fmt.Sprintf("leader %d decided epoch %d from %v, not a voter quorum", e.Server, n.Epoch, n.Sids), e.Server)
	}
	if a.active && n.Epoch <= a.accAtStart {
		x.fail(FreshEpoch, e.At, fmt.Sprintf("leader %d decided epoch %d but had accepted epoch %d", e.Server, n.Epoch, a.accAtStart), e.Server)
	}
	for _, s := range a.infoAcc {
		if slices.Contains(n.Sids, s.sid) && x.cfg.IsParticipant(s.sid) && n.Epoch <= s.e {
			x.fail(FreshEpoch, e.At, fmt.Sprintf("leader %d decided epoch %d but voter %d had accepted epoch %d", e.Server, n.Epoch, s.sid, s.e), e.Server, s.sid)
		}
	}
}
