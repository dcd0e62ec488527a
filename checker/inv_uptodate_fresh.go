package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// UptodateFresh (12): when the leader reads a learner's ACK of UPTODATE, the learner has applied
// everything the leader had applied (committed) when it sent UPTODATE: a learner that serves
// reads from a state older than what its leader had already committed breaks sequential
// consistency. Source: ZOOKEEPER-3023 (stateConsistent).
const UptodateFresh = "UptodateFresh"

type uptodateFresh struct{ stateless }

func (uptodateFresh) event(x *env, e *sim.TraceEvent) { // TrRecv at the leader
	h := &x.t.hist
	if e.Msg.Type != protocol.ACK || e.Msg.Zxid.Counter() != 0 || int(e.Conn) >= len(h.uptodate) || h.uptodate[e.Conn] < 0 {
		return
	}
	j := x.Index(e.Peer)
	lv, _ := x.Role(x.srv)
	v, up := x.View(j)
	// A learner that has since died or moved on is not what the ACK speaks for.
	if !up || !v.Synced || v.Leader != e.Server || v.Epoch != lv.Epoch {
		return
	}
	if v.LastZxid < h.uptodate[e.Conn] {
		x.fail(UptodateFresh, e.At, fmt.Sprintf("server %d acked UPTODATE having applied through %s; the leader had committed through %s when it sent UPTODATE", e.Peer, v.LastZxid, h.uptodate[e.Conn]), e.Server, e.Peer)
	}
}
