package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// LeaderCompleteness (18): a leader whose NEWLEADER quorum forms, and so enters BROADCAST, holds
// all of C, durably and in its database: what it lacks, its followers are about to be
// truncated or snapshotted out of. (commitCompleteness / LeaderLogCompleteness.)
const LeaderCompleteness = "LeaderCompleteness"

type leaderCompleteness struct{ stateless }

func (leaderCompleteness) event(x *env, e *sim.TraceEvent) { // TrNote
	if e.Note.Kind != protocol.NoteNewLeaderQuorum {
		return
	}
	c := x.t.hist.committed
	d := x.Disk(x.srv)
	for _, h := range [2][]protocol.Txn{d.Txns, x.Database(x.srv)} {
		if !isPrefixOf(c, h) {
			k := 0
			for k < len(h) && k < len(c) && h[k] == c[k] {
				k++
			}
			x.fail(LeaderCompleteness, e.At, fmt.Sprintf("leader %d of epoch %d lacks committed %s (value %d): its history has %d txns through %s",
				e.Server, e.Note.Epoch, c[k].Zxid, c[k].Value, len(h), lastOf(h)), e.Server)
			return
		}
	}
}
