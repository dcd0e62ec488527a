package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// HistoryConsistency (20): in BROADCAST, a follower's log is a prefix of its leader's (applied
// and outstanding) history of the same epoch: every txn it logs and the one before it are the
// leader's, and every txn it applies is in the leader's database. Sources: ZOOKEEPER-4712,
// 2845.
const HistoryConsistency = "HistoryConsistency"

type historyConsistency struct{ stateless }

func (historyConsistency) event(x *env, e *sim.TraceEvent) { // TrPersist, TrNote
	i := x.srv
	r, _ := x.Role(i)
	if r.State != protocol.FOLLOWING || !r.Synced {
		return
	}
	li := x.Index(r.Leader)
	if lr, up := x.Role(li); !up || lr.State != protocol.LEADING || lr.Epoch != r.Epoch {
		return
	}
	check := func(t protocol.Txn, what string) bool {
		if lt, ok := x.LeaderTxn(li, t.Zxid); !ok || lt != t {
			x.fail(HistoryConsistency, e.At, fmt.Sprintf("server %d %s %s (value %d), which its leader %d does not have", e.Server, what, t.Zxid, t.Value, r.Leader), e.Server, r.Leader)
			return false
		}
		return true
	}
	switch {
	case e.Kind == sim.TrPersist && e.Write.Kind == protocol.WriteTxns:
		d := x.Disk(i)
		if k := len(d.Txns) - len(e.Write.Txns) - 1; k >= 0 && !check(d.Txns[k], "logs after") {
			return
		}
		for _, t := range e.Write.Txns {
			if !check(t, "logged") {
				return
			}
		}
	case e.Kind == sim.TrNote && e.Note.Kind == protocol.NoteApplied:
		if t, ok := protocol.FindTxn(x.Database(i), e.Note.Zxid); ok {
			check(t, "applied")
		}
	}
}
