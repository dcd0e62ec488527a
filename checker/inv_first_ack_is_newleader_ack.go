package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// FirstAckIsNewLeaderAck (10): a syncing follower acks no proposal before its NEWLEADER ACK, and
// the zxids of its proposal ACKs increase strictly. The leader counts an ACK as durable
// agreement: one sent ahead of NEWLEADER's is counted for a history the follower has not
// accepted yet. Source: ZOOKEEPER-4685 (the ackConsistent property of its TLA+ spec).
const FirstAckIsNewLeaderAck = "FirstAckIsNewLeaderAck"

type firstAckIsNewLeaderAck struct{ stateless }

func (firstAckIsNewLeaderAck) event(x *env, e *sim.TraceEvent) { // TrSend
	if e.Msg.Type != protocol.ACK || e.Msg.Zxid.Counter() == 0 {
		return
	}
	if r, _ := x.Role(x.srv); r.State != protocol.FOLLOWING {
		return
	}
	s := &x.t.hist.syncs[x.srv]
	switch {
	case !s.newLeaderAcked:
		x.fail(FirstAckIsNewLeaderAck, e.At, fmt.Sprintf("server %d acked proposal %s before it acked NEWLEADER", e.Server, e.Msg.Zxid), e.Server, e.Peer)
	case e.Msg.Zxid <= s.lastAck:
		x.fail(FirstAckIsNewLeaderAck, e.At, fmt.Sprintf("server %d acked %s after it had acked %s", e.Server, e.Msg.Zxid, s.lastAck), e.Server, e.Peer)
	}
}
