package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// AcceptedBeforeAnnounced (4): no LEADERINFO(e) leaves the leader before acceptedEpoch = e is
// durable on it: lead() writes acceptedEpoch inside getEpochToPropose, before any handler
// announces the epoch. Source: ZOOKEEPER-1291.
const AcceptedBeforeAnnounced = "AcceptedBeforeAnnounced"

type acceptedBeforeAnnounced struct{ stateless }

func (acceptedBeforeAnnounced) event(x *env, e *sim.TraceEvent) { // TrSend
	if e.Msg.Type != protocol.LEADERINFO {
		return
	}
	ep := e.Msg.Zxid.Epoch()
	if acc := x.Disk(x.srv).AcceptedEpoch; acc != ep {
		x.fail(AcceptedBeforeAnnounced, e.At, fmt.Sprintf("leader %d sent LEADERINFO(%d) with acceptedEpoch %d on disk", e.Server, ep, acc), e.Server)
	}
}
