package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// LeaderCompleteness (18): a leader of epoch e whose NEWLEADER quorum forms, and so enters
// BROADCAST, holds every txn of C from the epochs before e, durably and in its database: what
// it lacks, its followers are about to be truncated or snapshotted out of.
// (commitCompleteness / LeaderLogCompleteness.) Txns of later epochs are not its to hold: a
// leader paused while its NEWLEADER ACKs queued can form its quorum after a later epoch
// committed, and then commits nothing, since those followers have moved on.
const LeaderCompleteness = "LeaderCompleteness"

type leaderCompleteness struct{ stateless }

func (leaderCompleteness) event(x *env, e *sim.TraceEvent) { // TrNote
	if e.Note.Kind != protocol.NoteNewLeaderQuorum {
		return
	}
	c := x.t.hist.committed
	for i, t := range c {
		if t.Zxid.Epoch() >= e.Note.Epoch {
			c = c[:i]
			break
		}
	}
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
