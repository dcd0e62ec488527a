package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// MessageLegal (21): per connection, packets follow the handshake grammar (FOLLOWERINFO,
// LEADERINFO, ACKEPOCH, sync, NEWLEADER, ACK, UPTODATE); LEADERINFO only after the epoch is
// decided; sync packets only after the epoch-ack quorum; a leader-bound packet is processed
// only by a leader and a learner-bound one only by its learner. The phase structure of
// LearnerHandler.run (StateConsistent).
const MessageLegal = "MessageLegal"

// messageLegal keeps each connection's place in the grammar.
type messageLegal struct {
	stages []connStage // by ConnID
}

type connStage struct {
	leader  uint8 // 0 nothing, 1 LEADERINFO, 2 sync start, 3 NEWLEADER, 4 UPTODATE
	learner uint8 // 0 nothing, 1 *INFO, 2 ACKEPOCH, 3 NEWLEADER ACK
}

func (j *messageLegal) reset(int) { j.stages = j.stages[:0] }

func (j *messageLegal) event(x *env, e *sim.TraceEvent) { // TrSend, TrRecv
	i := x.srv
	if e.Kind == sim.TrRecv {
		if g := x.t.conn(e.Conn); g.known {
			v, _ := x.View(i)
			if e.Server == g.leader && v.State != protocol.LEADING {
				x.fail(MessageLegal, e.At, fmt.Sprintf("%s from %d processed by %d in %s, not as leader", e.Msg.Type, e.Peer, e.Server, v.State), e.Server, e.Peer)
			}
			if e.Server == g.learner && (v.State == protocol.LOOKING || v.State == protocol.LEADING || v.Leader != e.Peer) {
				x.fail(MessageLegal, e.At, fmt.Sprintf("%s from %d processed by %d in %s, not as its learner", e.Msg.Type, e.Peer, e.Server, v.State), e.Server, e.Peer)
			}
		}
		return
	}
	for int(e.Conn) >= len(j.stages) {
		j.stages = append(j.stages, connStage{})
	}
	s := &j.stages[e.Conn]
	a := &x.t.attempts[i]
	switch e.Msg.Type {
	case protocol.FOLLOWERINFO, protocol.OBSERVERINFO:
		stage(x, e, &s.learner, 0, 1)
	case protocol.LEADERINFO:
		stage(x, e, &s.leader, 0, 1)
		if ep := e.Msg.Zxid.Epoch(); !a.active || a.epoch != ep {
			x.fail(MessageLegal, e.At, fmt.Sprintf("leader %d sent LEADERINFO(%d) before deciding that epoch", e.Server, ep), e.Server)
		}
	case protocol.ACKEPOCH:
		stage(x, e, &s.learner, 1, 2)
	case protocol.DIFFPKT, protocol.TRUNCPKT, protocol.SNAPPKT:
		stage(x, e, &s.leader, 1, 2)
		if !a.active || !a.epochAcked {
			x.fail(MessageLegal, e.At, fmt.Sprintf("leader %d sent %s before a quorum acked epoch %d", e.Server, e.Msg.Type, a.epoch), e.Server, e.Peer)
		}
	case protocol.NEWLEADER:
		stage(x, e, &s.leader, 2, 3)
	case protocol.UPTODATE:
		stage(x, e, &s.leader, 3, 4)
	case protocol.ACK:
		if lg := &x.t.learners[i]; lg.newLeaderEpoch >= 0 && e.Msg.Zxid == protocol.MakeZxid(lg.newLeaderEpoch, 0) {
			stage(x, e, &s.learner, 2, 3)
		}
	}
}

// stage advances a connection's grammar: a packet that needs stage `from` moves it to `to`.
func stage(x *env, e *sim.TraceEvent, s *uint8, from, to uint8) {
	if *s != from {
		x.fail(MessageLegal, e.At, fmt.Sprintf("%d sent %s to %d out of order on connection %d", e.Server, e.Msg.Type, e.Peer, e.Conn), e.Server, e.Peer)
	}
	*s = to
}
