package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// FollowerEpochGate (8): a learner acks LEADERINFO(e) only if e is above its durable
// acceptedEpoch, answers -1 only if e equals it, and never follows an epoch below it
// (Learner.registerWithLeader). Source: ZOOKEEPER-582.
const FollowerEpochGate = "FollowerEpochGate"

type followerEpochGate struct{ stateless }

func (followerEpochGate) event(x *env, e *sim.TraceEvent) { // TrNote, TrSend
	i := x.srv
	switch {
	case e.Kind == sim.TrNote && e.Note.Kind == protocol.NoteSynced:
		if acc := x.Disk(i).AcceptedEpoch; e.Note.Epoch < acc {
			x.fail(FollowerEpochGate, e.At, fmt.Sprintf("server %d follows epoch %d below its acceptedEpoch %d", e.Server, e.Note.Epoch, acc), e.Server)
		}
	case e.Kind == sim.TrSend && e.Msg.Type == protocol.ACKEPOCH:
		lg := &x.t.learners[i]
		ep, acc := lg.leaderInfoEpoch, lg.accAtLeaderInfo
		switch {
		case e.Msg.Epoch == -1 && ep != acc:
			x.fail(FollowerEpochGate, e.At, fmt.Sprintf("server %d answered LEADERINFO(%d) with -1 but its acceptedEpoch on disk was %d", e.Server, ep, acc), e.Server, e.Peer)
		case e.Msg.Epoch != -1 && ep <= acc:
			x.fail(FollowerEpochGate, e.At, fmt.Sprintf("server %d acked LEADERINFO(%d) with acceptedEpoch %d on disk", e.Server, ep, acc), e.Server, e.Peer)
		}
	}
}
