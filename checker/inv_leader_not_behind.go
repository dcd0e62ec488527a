package checker

import (
	"fmt"
	"slices"

	"zabsim/protocol"
	"zabsim/sim"
)

// LeaderNotBehind (7): no ACKEPOCH summary (currentEpoch, lastZxid) counted in the epoch-ack
// quorum is more recent than the leader's own: waitForEpochAck rejects "Follower is ahead of the
// leader" (Zab1_0Test.testLeaderBehind).
const LeaderNotBehind = "LeaderNotBehind"

type leaderNotBehind struct{ stateless }

func (leaderNotBehind) event(x *env, e *sim.TraceEvent) { // TrNote
	n := &e.Note
	if n.Kind != protocol.NoteEpochAcked {
		return
	}
	a := &x.t.attempts[x.srv]
	for _, s := range a.ackEpoch {
		if slices.Contains(n.Sids, s.sid) && s.ss.CurrentEpoch != -1 && s.ss.IsMoreRecentThan(a.summary) {
			x.fail(LeaderNotBehind, e.At, fmt.Sprintf("leader %d (%d, %s) is behind follower %d (%d, %s)", e.Server,
				a.summary.CurrentEpoch, a.summary.LastZxid, s.sid, s.ss.CurrentEpoch, s.ss.LastZxid), e.Server, s.sid)
		}
	}
}
