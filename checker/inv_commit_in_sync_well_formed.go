package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// CommitInSyncWellFormed (11): every COMMIT a follower receives while it syncs names the oldest
// proposal it holds and has not committed, or one it has already applied. A COMMIT for a
// proposal the learner no longer holds is a committed txn it will never apply. Source:
// ZOOKEEPER-4394 (commitConsistent).
const CommitInSyncWellFormed = "CommitInSyncWellFormed"

type commitInSyncWellFormed struct{ stateless }

func (commitInSyncWellFormed) event(x *env, e *sim.TraceEvent) { // TrRecv: the learner has not read it yet
	if e.Msg.Type != protocol.COMMIT || !x.t.hist.syncs[x.srv].inSync {
		return
	}
	v, _ := x.View(x.srv)
	if v.State != protocol.FOLLOWING || e.Msg.Zxid <= v.LastZxid {
		return
	}
	next, ok := x.NextToCommit(x.srv)
	if !ok {
		x.fail(CommitInSyncWellFormed, e.At, fmt.Sprintf("server %d got COMMIT %s during sync holding no proposal to commit (applied through %s)", e.Server, e.Msg.Zxid, v.LastZxid), e.Server, e.Peer)
	} else if next != e.Msg.Zxid {
		x.fail(CommitInSyncWellFormed, e.At, fmt.Sprintf("server %d got COMMIT %s during sync; its oldest uncommitted proposal is %s", e.Server, e.Msg.Zxid, next), e.Server, e.Peer)
	}
}
