package checker

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"zabsim/protocol"
	"zabsim/sim"
)

// WriteRecord is one client write as the run saw it: who was asked, which zxid the leader gave
// it, who acked and committed it, who applied it in broadcast, what the client was told, and
// which servers hold it durably at the end.
type WriteRecord struct {
	Value   uint64            `json:"value"`
	AskedOf protocol.ServerID `json:"askedOf"`
	AskedAt protocol.Time     `json:"askedAt"`
	// Zxid is 0 when no leader proposed it (the server asked was not serving). ProposedBy is
	// the leader whose PROPOSAL first carried it (0: a leader that logged it alone).
	Zxid        protocol.Zxid       `json:"zxid"`
	ProposedBy  protocol.ServerID   `json:"proposedBy,omitempty"`
	Committed   bool                `json:"committed"`
	CommittedAt protocol.Time       `json:"committedAt,omitempty"`
	Acks        []protocol.ServerID `json:"acks"`
	// AppliedBy lists the servers that applied it in broadcast (a learner that got it by a
	// sync applied it there and is not listed).
	AppliedBy []protocol.ServerID `json:"appliedBy"`
	Answer    string              `json:"answer"` // ok, connection-loss, not-serving; "" if none came
	AnswerAt  protocol.Time       `json:"answerAt,omitempty"`
	// DurableOn lists the servers whose disk holds it at the end.
	DurableOn []protocol.ServerID `json:"durableOn"`
}

// writeLog collects what WriteRecord needs from the trace, in trace order.
type writeLog struct {
	writes   []WriteRecord // by value-1
	proposed []proposal
	logged   []protocol.Txn // every txn of a client write some server logged
	commits  []commitRec
	applies  []applyRec
	// loggedSet and proposedSet hold what logged and proposed hold, for a lookup per event.
	loggedSet, proposedSet map[protocol.Txn]struct{}
}

type proposal struct {
	txn    protocol.Txn
	leader protocol.ServerID
}

type commitRec struct {
	zxid protocol.Zxid
	acks []protocol.ServerID
	at   protocol.Time
}

type applyRec struct {
	zxid   protocol.Zxid
	server protocol.ServerID
}

func (l *writeLog) onTrace(e *sim.TraceEvent) {
	switch e.Kind {
	case sim.TrClient:
		v := int(e.Reply.Value)
		for len(l.writes) < v {
			l.writes = append(l.writes, WriteRecord{Value: uint64(len(l.writes) + 1)})
		}
		l.writes[v-1].AskedOf, l.writes[v-1].AskedAt = e.Server, e.At
	case sim.TrReply:
		if v := int(e.Reply.Value); v >= 1 && v <= len(l.writes) {
			w := &l.writes[v-1]
			w.Answer, w.AnswerAt = e.Reply.Code.String(), e.At
			if e.Reply.Code == protocol.ReplyOK {
				w.Zxid = e.Reply.Zxid
			}
		}
	case sim.TrPersist:
		// A leader with no forwarding follower logs a write without a PROPOSAL.
		if e.Write.Kind == protocol.WriteTxns {
			for _, t := range e.Write.Txns {
				if _, seen := l.loggedSet[t]; t.Value != 0 && !seen {
					l.logged = append(l.logged, t)
					l.loggedSet[t] = struct{}{}
				}
			}
		}
	case sim.TrSend:
		if _, seen := l.proposedSet[e.Msg.Txn]; e.Msg.Type == protocol.PROPOSAL && e.Msg.Txn.Value != 0 && !seen {
			l.proposed = append(l.proposed, proposal{txn: e.Msg.Txn, leader: e.Server})
			l.proposedSet[e.Msg.Txn] = struct{}{}
		}
	case sim.TrNote:
		switch e.Note.Kind {
		case protocol.NoteCommitted:
			l.commits = append(l.commits, commitRec{zxid: e.Note.Zxid, acks: sortedIDs(e.Note.Sids), at: e.At})
		case protocol.NoteApplied:
			l.applies = append(l.applies, applyRec{zxid: e.Note.Zxid, server: e.Server})
		}
	}
}

// records joins what was collected into one record per write; disks are the servers' final
// disks, by server index, with ids their server ids.
func (l *writeLog) records(ids []protocol.ServerID, disks []protocol.Disk) []WriteRecord {
	out := make([]WriteRecord, len(l.writes))
	copy(out, l.writes)
	if len(out) == 0 {
		return out
	}
	// Indexes over the trace's lists, so that a run of many writes is not a scan of every list
	// per write: the first logged and the first proposed txn of each value, and the commits and
	// applies sorted by zxid (stably: the first commit of a zxid stays first).
	loggedZxid := make([]protocol.Zxid, len(out)+1)
	for _, t := range l.logged {
		if v := t.Value; v <= uint64(len(out)) && loggedZxid[v] == 0 {
			loggedZxid[v] = t.Zxid
		}
	}
	proposedBy := make([]int, len(out)+1) // index+1 into proposed
	for i, p := range l.proposed {
		if v := p.txn.Value; v <= uint64(len(out)) && proposedBy[v] == 0 {
			proposedBy[v] = i + 1
		}
	}
	commits := slices.Clone(l.commits)
	slices.SortStableFunc(commits, func(a, b commitRec) int { return cmp.Compare(a.zxid, b.zxid) })
	applies := slices.Clone(l.applies)
	slices.SortFunc(applies, func(a, b applyRec) int {
		if c := cmp.Compare(a.zxid, b.zxid); c != 0 {
			return c
		}
		return int(a.server) - int(b.server)
	})
	for i := range out {
		w := &out[i]
		if w.Zxid == 0 {
			w.Zxid = loggedZxid[w.Value]
		}
		if k := proposedBy[w.Value]; k > 0 {
			p := l.proposed[k-1]
			w.Zxid, w.ProposedBy = p.txn.Zxid, p.leader
		}
		w.Acks, w.AppliedBy, w.DurableOn = []protocol.ServerID{}, []protocol.ServerID{}, []protocol.ServerID{}
		if w.Zxid == 0 {
			continue
		}
		if k, ok := slices.BinarySearchFunc(commits, w.Zxid, func(c commitRec, z protocol.Zxid) int { return cmp.Compare(c.zxid, z) }); ok {
			c := commits[k]
			w.Committed, w.CommittedAt, w.Acks = true, c.at, c.acks
		}
		k, _ := slices.BinarySearchFunc(applies, w.Zxid, func(a applyRec, z protocol.Zxid) int { return cmp.Compare(a.zxid, z) })
		for ; k < len(applies) && applies[k].zxid == w.Zxid; k++ {
			if n := len(w.AppliedBy); n == 0 || w.AppliedBy[n-1] != applies[k].server {
				w.AppliedBy = append(w.AppliedBy, applies[k].server)
			}
		}
		t := protocol.Txn{Zxid: w.Zxid, Value: w.Value}
		for j, d := range disks {
			if got, ok := protocol.FindTxn(d.Txns, w.Zxid); ok && got == t {
				w.DurableOn = append(w.DurableOn, ids[j])
			}
		}
	}
	return out
}

// Line describes the write on one line, as the text report and the run's page show it.
func (w WriteRecord) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "write v=%d asked of %d at %s", w.Value, w.AskedOf, w.AskedAt)
	if w.Zxid != 0 {
		fmt.Fprintf(&b, ": %s", w.Zxid)
		if w.ProposedBy != 0 {
			fmt.Fprintf(&b, " proposed by %d", w.ProposedBy)
		}
	}
	if w.Committed {
		fmt.Fprintf(&b, ", committed at %s acks %v", w.CommittedAt, w.Acks)
	}
	if len(w.AppliedBy) > 0 {
		fmt.Fprintf(&b, ", applied by %v", w.AppliedBy)
	}
	answer := "no answer"
	if w.Answer != "" {
		answer = w.Answer + " at " + w.AnswerAt.String()
	}
	fmt.Fprintf(&b, ", %s, durable on %v", answer, w.DurableOn)
	return b.String()
}
