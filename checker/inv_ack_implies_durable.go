package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// AckImpliesDurable (9): when a follower sends the NEWLEADER ACK, currentEpoch = e and the
// history it was synced (the tracker's syncedThrough) are durable (Learner.syncWithLeader).
// Sources: ZOOKEEPER-1136, 1282, 3911, 3023, 4646, 4643, 4785.
const AckImpliesDurable = "AckImpliesDurable"

type ackImpliesDurable struct{ stateless }

func (ackImpliesDurable) event(x *env, e *sim.TraceEvent) { // TrSend
	if e.Msg.Type != protocol.ACK {
		return
	}
	i := x.srv
	lg := &x.t.learners[i]
	if lg.newLeaderEpoch < 0 || e.Msg.Zxid != protocol.MakeZxid(lg.newLeaderEpoch, 0) {
		return
	}
	d := x.Disk(i)
	if d.CurrentEpoch != lg.newLeaderEpoch {
		x.fail(AckImpliesDurable, e.At, fmt.Sprintf("server %d acked NEWLEADER(%d) with currentEpoch %d on disk", e.Server, lg.newLeaderEpoch, d.CurrentEpoch), e.Server, e.Peer)
	}
	if x.cfg.IsParticipant(e.Server) && d.LastZxid() < lg.syncedThrough {
		x.fail(AckImpliesDurable, e.At, fmt.Sprintf("server %d acked NEWLEADER(%d) with history only through %s on disk, synced through %s", e.Server, lg.newLeaderEpoch, d.LastZxid(), lg.syncedThrough), e.Server, e.Peer)
	}
}
