package checker

import (
	"slices"

	"zabsim/protocol"
	"zabsim/sim"
)

// historyGhost is what the checker remembers of client transactions (invariants 10-20): the
// ghost committed sequence C, the writes clients were told succeeded, and per server and per
// connection what the sync and broadcast invariants compare against. The tracker owns it.
type historyGhost struct {
	// committed is C: a txn joins when a leader commits it on a voter quorum of durable acks
	// (NoteCommitted), and a leader's whole history joins when its NEWLEADER quorum forms
	// (NoteNewLeaderQuorum). It is in zxid order and owned here (never a peer's array).
	committed []protocol.Txn
	// ok lists the writes a client was told succeeded, in answer order.
	ok []protocol.Reply
	// forgotten is what C lost to disks the operator replaced (forgetLost).
	forgotten []protocol.Txn
	// issued counts the client writes the run issued (their values are 1..issued).
	issued uint64
	// disks is each server's durable history as last seen, to tell what a write removed.
	disks [][]protocol.Txn
	// syncs follows each learner's current connection to a leader.
	syncs []syncGhost
	// uptodate is, per connection, the leader's applied zxid when it sent UPTODATE (-1: not
	// sent or already judged).
	uptodate []protocol.Zxid
}

// syncGhost is one learner's session with a leader, from LEADERINFO on.
type syncGhost struct {
	// streamSet: a DIFF, TRUNC or SNAP came; streamLast is the zxid the learner's history
	// reaches in the leader's stream (its own last for a DIFF, the TRUNC zxid, the SNAP's).
	streamSet  bool
	streamLast protocol.Zxid
	// inSync: between the sync's first packet and UPTODATE.
	inSync bool
	// newLeaderAcked: the NEWLEADER ACK went out; lastAck is the highest proposal ACK since.
	newLeaderAcked bool
	lastAck        protocol.Zxid
}

func (h *historyGhost) reset(n int) {
	*h = historyGhost{committed: h.committed[:0], ok: h.ok[:0], forgotten: h.forgotten[:0], disks: resize(h.disks, n),
		syncs: resize(h.syncs, n), uptodate: h.uptodate[:0]}
}

// inC returns the index of t in C, or -1 when C has no txn of t's zxid; same says whether
// C's txn of that zxid is t.
func (h *historyGhost) inC(t protocol.Txn) (i int, same bool) {
	i = protocol.IndexOfTxn(h.committed, t.Zxid)
	return i, i >= 0 && h.committed[i] == t
}

func (h *historyGhost) lastC() protocol.Zxid {
	if n := len(h.committed); n > 0 {
		return h.committed[n-1].Zxid
	}
	return 0
}

// holders counts the voters whose durable history holds t.
func holders(x *env, t protocol.Txn) int {
	n := 0
	for j := 0; j < x.ServerCount(); j++ {
		if !x.cfg.IsParticipant(x.ServerAt(j)) {
			continue
		}
		d := x.Disk(j)
		if got, ok := protocol.FindTxn(d.Txns, t.Zxid); ok && got == t {
			n++
		}
	}
	return n
}

// isPrefixOf: a is a prefix of b.
func isPrefixOf(a, b []protocol.Txn) bool {
	return len(a) <= len(b) && slices.Equal(a, b[:len(a)])
}

// historyEvent brings the history ghosts up to date after the judges saw e.
func (t *tracker) historyEvent(x *env, e *sim.TraceEvent) {
	h := &t.hist
	switch e.Kind {
	case sim.TrClient:
		h.issued = max(h.issued, e.Reply.Value)
	case sim.TrReply:
		if e.Reply.Code == protocol.ReplyOK {
			h.ok = append(h.ok, e.Reply)
		}
	case sim.TrStart:
		h.disks[x.srv] = x.Disk(x.srv).Txns
		h.syncs[x.srv] = syncGhost{}
		if replacedDisk(x.spec, e) {
			h.forgetLost(x)
		}
	case sim.TrRefused:
		// A replaced disk ZooKeeper refuses to load is still the disk that server has now.
		h.disks[x.srv] = x.Disk(x.srv).Txns
		if replacedDisk(x.spec, e) {
			h.forgetLost(x)
		}
	case sim.TrCrash:
		// A boot killed before it ran (Processing.Boot), begun by a replaced-disk restart: the
		// operator's disk is in place all the same, and what it lost is the operator's doing.
		if e.Detail == "killed while starting" && replacedDisk(x.spec, e) {
			h.disks[x.srv] = x.Disk(x.srv).Txns
			h.forgetLost(x)
		}
	case sim.TrPersist:
		h.disks[x.srv] = x.Disk(x.srv).Txns
	case sim.TrNote:
		switch n := &e.Note; n.Kind {
		case protocol.NoteCommitted:
			if tx, ok := x.LeaderTxn(x.srv, n.Zxid); ok && n.Zxid > h.lastC() {
				h.committed = append(h.committed, tx)
			}
		case protocol.NoteNewLeaderQuorum:
			if db := x.Database(x.srv); len(db) > len(h.committed) && isPrefixOf(h.committed, db) {
				h.committed = append(h.committed[:0], db...)
			}
		}
	case sim.TrSend:
		t.onHistorySend(x, e)
	case sim.TrRecv:
		t.onHistoryRecv(x, e)
	}
}

func (t *tracker) onHistorySend(x *env, e *sim.TraceEvent) {
	h := &t.hist
	switch e.Msg.Type {
	case protocol.UPTODATE:
		for int(e.Conn) >= len(h.uptodate) {
			h.uptodate = append(h.uptodate, -1)
		}
		// Its last applied txn: lastProcessedZxid is e<<32 once it leads, a label no txn has.
		h.uptodate[e.Conn] = lastOf(x.Database(x.srv))
	case protocol.ACK:
		s := &h.syncs[x.srv]
		if e.Msg.Zxid.Counter() == 0 {
			s.newLeaderAcked = true
		} else {
			s.lastAck = max(s.lastAck, e.Msg.Zxid)
		}
	}
}

func (t *tracker) onHistoryRecv(x *env, e *sim.TraceEvent) {
	h := &t.hist
	s := &h.syncs[x.srv]
	switch e.Msg.Type {
	case protocol.LEADERINFO:
		*s = syncGhost{}
	case protocol.DIFFPKT:
		v, _ := x.View(x.srv)
		*s = syncGhost{streamSet: true, streamLast: v.LastZxid, inSync: true}
	case protocol.TRUNCPKT, protocol.SNAPPKT:
		*s = syncGhost{streamSet: true, streamLast: e.Msg.Zxid, inSync: true}
	case protocol.PROPOSAL:
		if s.streamSet {
			s.streamLast = e.Msg.Zxid
		}
	case protocol.UPTODATE:
		s.inSync = false
	case protocol.ACK:
		if int(e.Conn) < len(h.uptodate) && e.Msg.Zxid.Counter() == 0 && h.uptodate[e.Conn] >= 0 {
			h.uptodate[e.Conn] = -1 // judged once
		}
	}
}

// forgetLost: a disk the operator put in place may lack committed txns. What no voter quorum
// holds any more was destroyed by the operator, not lost by the protocol: C forgets it and
// everything after it, so the invariants judge the protocol from what survives.
func (h *historyGhost) forgetLost(x *env) {
	q := x.cfg.Voters()/2 + 1
	for i, tx := range h.committed {
		if holders(x, tx) < q {
			h.forgotten = append(h.forgotten, h.committed[i:]...)
			h.committed = h.committed[:i]
			return
		}
	}
}
