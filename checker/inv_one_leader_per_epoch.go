package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// OneLeaderPerEpoch (5): over the whole run at most one server reaches SYNCHRONIZATION as leader
// of an epoch (the tracker's leaderOf): Zab's Leadership property (spec §9.1.5).
const OneLeaderPerEpoch = "OneLeaderPerEpoch"

type oneLeaderPerEpoch struct{ stateless }

func (oneLeaderPerEpoch) event(x *env, e *sim.TraceEvent) { // TrState
	if e.State != protocol.LEADING || e.Zab != protocol.SYNCHRONIZATION {
		return
	}
	a := &x.t.attempts[x.srv]
	if !a.active {
		return
	}
	for _, el := range x.t.leaderOf {
		if el.epoch == a.epoch && el.leader != e.Server {
			x.fail(OneLeaderPerEpoch, e.At, fmt.Sprintf("servers %d and %d both lead epoch %d", el.leader, e.Server, a.epoch), el.leader, e.Server)
		}
	}
}
