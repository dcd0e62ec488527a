package checker

import (
	"fmt"
	"slices"

	"zabsim/protocol"
	"zabsim/sim"
)

// ZabOrder (19): the Zab correctness conditions on what servers deliver (apply in broadcast):
// integrity (a delivered txn is a client's write or from before the run), agreement and
// total order (it is C's txn of that zxid), prefix consistency and primary order (the txn
// before it in the server's database is C's txn before it, so nothing is skipped or
// reordered).
const ZabOrder = "ZabOrder"

type zabOrder struct{ stateless }

func (zabOrder) event(x *env, e *sim.TraceEvent) { // TrNote
	if e.Note.Kind != protocol.NoteApplied {
		return
	}
	h := &x.t.hist
	db := x.Database(x.srv)
	k := protocol.IndexOfTxn(db, e.Note.Zxid)
	if k < 0 {
		return // already gone again (a role ended later in the same step)
	}
	t := db[k]
	ci, same := h.inC(t)
	if !same && slices.Contains(h.forgotten, t) {
		return // committed, then destroyed on disk by the operator: C no longer speaks for it
	}
	// The txn before it, passing over those C forgot (and has not committed again): they stay
	// in databases that held them.
	j := k - 1
	for j >= 0 && slices.Contains(h.forgotten, db[j]) {
		if _, again := h.inC(db[j]); again {
			break
		}
		j--
	}
	switch {
	case t.Value > h.issued:
		x.fail(ZabOrder, e.At, fmt.Sprintf("server %d delivered %s with value %d, which no client wrote", e.Server, t.Zxid, t.Value), e.Server)
	case !same:
		x.fail(ZabOrder, e.At, fmt.Sprintf("server %d delivered %s (value %d), which is not the committed txn of that zxid", e.Server, t.Zxid, t.Value), e.Server)
	case ci > 0 && (j < 0 || db[j] != h.committed[ci-1]):
		prev := protocol.Zxid(0)
		if j >= 0 {
			prev = db[j].Zxid
		}
		x.fail(ZabOrder, e.At, fmt.Sprintf("server %d delivered %s after %s; the committed history has %s before it", e.Server, t.Zxid, prev, h.committed[ci-1].Zxid), e.Server)
	}
}
