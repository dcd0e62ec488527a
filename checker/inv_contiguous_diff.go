package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// ContiguousDiff (15): the proposals a learner receives after its DIFF, TRUNC or SNAP continue
// its history without a gap: each is the zxid after the last, or the first of a higher epoch.
// A hole is a committed txn the learner never gets. Source: ZOOKEEPER-4925.
const ContiguousDiff = "ContiguousDiff"

type contiguousDiff struct{ stateless }

func (contiguousDiff) event(x *env, e *sim.TraceEvent) { // TrRecv
	if e.Msg.Type != protocol.PROPOSAL {
		return
	}
	s := &x.t.hist.syncs[x.srv]
	if !s.streamSet {
		return
	}
	z, last := e.Msg.Zxid, s.streamLast
	if z == last+1 || z.Epoch() > last.Epoch() && z.Counter() == 1 {
		return
	}
	x.fail(ContiguousDiff, e.At, fmt.Sprintf("server %d got PROPOSAL %s after %s from its leader", e.Server, z, last), e.Server, e.Peer)
}
