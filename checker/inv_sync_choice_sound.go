package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// SyncChoiceSound (14): the leader's DIFF / TRUNC / SNAP choice for a learner whose last zxid is
// p fits the two histories: a non-empty DIFF only from a p in the leader's history; a TRUNC
// only to a zxid of the leader's history below p and of p's epoch, for a p the leader does not
// have and that is not a new epoch's zxid, and only to 0 or a zxid the learner's history holds
// (else the learner claims a txn it lacks). And when the follower acks NEWLEADER, its durable
// history is a prefix of the leader's (applied, then outstanding): this is where a truncation
// that kept a txn above its target shows (FileTxnLog.truncate, the TruncToZxidNotHeld knob).
// Sources: ZOOKEEPER-1154, 1413, 2418, 4925.
const SyncChoiceSound = "SyncChoiceSound"

type syncChoiceSound struct{ stateless }

func inHistory(db []protocol.Txn, z protocol.Zxid) bool {
	return z == 0 || z.Counter() == 0 || protocol.IndexOfTxn(db, z) >= 0
}

func (syncChoiceSound) event(x *env, e *sim.TraceEvent) { // TrNote at the leader, TrSend at the follower
	switch {
	case e.Kind == sim.TrNote && e.Note.Kind == protocol.NoteSyncChosen:
		n := &e.Note
		v, _ := x.View(x.srv)
		db := x.Database(x.srv)
		p := n.PeerZxid
		switch n.Mode {
		case protocol.DIFF:
			if p != v.LastZxid && !inHistory(db, p) {
				x.fail(SyncChoiceSound, e.At, fmt.Sprintf("leader %d sent DIFF to server %d, whose last zxid %s is not in its history (last %s)", e.Server, n.Peer, p, v.LastZxid), e.Server, n.Peer)
			}
		case protocol.TRUNC:
			if why := truncUnsound(db, x.Disk(x.Index(n.Peer)), n.Zxid, p); why != "" {
				x.fail(SyncChoiceSound, e.At, fmt.Sprintf("leader %d sent TRUNC %s to server %d, whose last zxid is %s: %s", e.Server, n.Zxid, n.Peer, p, why), e.Server, n.Peer)
			}
		}
	case e.Kind == sim.TrSend && e.Msg.Type == protocol.ACK && e.Msg.Zxid.Counter() == 0:
		lg := &x.t.learners[x.srv]
		r, _ := x.Role(x.srv)
		if lg.newLeaderEpoch < 0 || r.State != protocol.FOLLOWING {
			return // not the NEWLEADER ACK (UPTODATE's repeats its zxid)
		}
		li := x.Index(r.Leader)
		if lr, up := x.Role(li); !up || lr.State != protocol.LEADING || lr.Epoch != r.Epoch {
			return
		}
		d := x.Disk(x.srv)
		db := x.Database(li)
		for k, t := range d.Txns {
			var lt protocol.Txn
			ok := false
			if k < len(db) {
				lt, ok = db[k], true
			} else {
				lt, ok = x.Outstanding(li, k-len(db))
			}
			if !ok || lt != t {
				x.fail(SyncChoiceSound, e.At, fmt.Sprintf("server %d acked NEWLEADER with %s (value %d) at position %d of its history; the leader's history differs there", e.Server, t.Zxid, t.Value, k), e.Server, r.Leader)
				return
			}
		}
	}
}

// truncUnsound says what is wrong with a TRUNC to z for a learner whose last zxid is p, given
// the leader's history db and the learner's disk d ("" when nothing is).
func truncUnsound(db []protocol.Txn, d protocol.Disk, z, p protocol.Zxid) string {
	switch {
	case !inHistory(db, z):
		return "the leader's history does not hold the target"
	case z >= p:
		return "the target is not below it"
	case p.Counter() == 0:
		return "it is a new epoch's zxid, which names no txn"
	case protocol.IndexOfTxn(db, p) >= 0:
		return "the leader holds it"
	case z.Epoch() != p.Epoch():
		return "the target is of another epoch"
	case z != 0 && protocol.IndexOfTxn(d.Txns, z) < 0:
		return "the learner's history does not hold the target"
	}
	return ""
}
