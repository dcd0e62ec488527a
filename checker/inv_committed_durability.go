package checker

import (
	"fmt"
	"slices"

	"zabsim/protocol"
	"zabsim/sim"
)

// CommittedDurability (17): a txn joins C only when a voter quorum holds it durably (a leader's
// commit, a NEWLEADER quorum), and no txn of C is ever removed from the durable histories of so
// many voters that fewer than a quorum hold it. (A log agreeing with C is HistoryConsistency's and
// ZabOrder's: a stale leader still in BROADCAST may log an uncommitted txn below C's last.) At the end of the run, every write a client was told succeeded is in C,
// durable on a voter quorum, and applied at its place in C by every synced server that has
// applied that far. Sources: ZOOKEEPER-1154, 2845, 3911, 4643, 4646, 4785, 4925, 3642.
const CommittedDurability = "CommittedDurability"

type committedDurability struct{ stateless }

func (committedDurability) event(x *env, e *sim.TraceEvent) { // TrPersist, TrNote
	h := &x.t.hist
	if e.Kind == sim.TrNote {
		joiningDurable(x, e)
		return
	}
	i := x.srv
	d := x.Disk(i)
	old := h.disks[i]
	switch e.Write.Kind {
	case protocol.WriteTruncate, protocol.WriteSnapshot:
		k := 0
		for k < len(old) && k < len(d.Txns) && old[k] == d.Txns[k] {
			k++
		}
		q := x.cfg.Voters()/2 + 1
		for _, t := range old[k:] {
			if _, same := h.inC(t); same && holders(x, t) < q {
				x.fail(CommittedDurability, e.At, fmt.Sprintf("server %d's %s removed committed %s (value %d); only %d voters still hold it", e.Server, e.Write.Kind, t.Zxid, t.Value, holders(x, t)), e.Server)
				return
			}
		}
	}
}

// joiningDurable: what is about to join C (historyEvent adds it after the judges) is durable on
// a voter quorum. A NEWLEADER quorum of learners that acked before they held the leader's
// history (ZOOKEEPER-1136) makes C promise txns only the leader has.
func joiningDurable(x *env, e *sim.TraceEvent) {
	h := &x.t.hist
	var joining []protocol.Txn
	switch e.Note.Kind {
	case protocol.NoteCommitted:
		if t, ok := x.LeaderTxn(x.srv, e.Note.Zxid); ok && e.Note.Zxid > h.lastC() {
			joining = []protocol.Txn{t}
		}
	case protocol.NoteNewLeaderQuorum:
		if db := x.Database(x.srv); len(db) > len(h.committed) && isPrefixOf(h.committed, db) {
			joining = db[len(h.committed):]
		}
	}
	q := x.cfg.Voters()/2 + 1
	for _, t := range joining {
		if n := holders(x, t); n < q {
			x.fail(CommittedDurability, e.At, fmt.Sprintf("leader %d's %s makes %s (value %d) committed, but only %d voters hold it durably", e.Server, e.Note.Kind, t.Zxid, t.Value, n), e.Server)
			return
		}
	}
}

// judgeWrites is the end-of-run half of CommittedDurability.
func judgeWrites(x *env, end protocol.Time) {
	h := &x.t.hist
	q := x.cfg.Voters()/2 + 1
	for _, r := range h.ok {
		t := protocol.Txn{Zxid: r.Zxid, Value: r.Value}
		if slices.Contains(h.forgotten, t) {
			continue // the operator replaced the disks that held it
		}
		if _, same := h.inC(t); !same {
			x.fail(CommittedDurability, end, fmt.Sprintf("write %d was answered ok as %s but is not in the committed history", r.Value, r.Zxid))
			return
		}
		if n := holders(x, t); n < q {
			x.fail(CommittedDurability, end, fmt.Sprintf("write %d (%s) was answered ok but only %d voters hold it at the end", r.Value, r.Zxid, n))
			return
		}
		for j := 0; j < x.ServerCount(); j++ {
			v, up := x.View(j)
			if !up || !v.Synced || v.LastZxid < t.Zxid {
				continue
			}
			if got, ok := protocol.FindTxn(x.Database(j), t.Zxid); !ok || got != t {
				x.fail(CommittedDurability, end, fmt.Sprintf("write %d (%s) was answered ok but synced server %d, applied through %s, lacks it", r.Value, r.Zxid, v.ID, v.LastZxid), v.ID)
				return
			}
		}
	}
}
