package sim

import (
	"strconv"

	"zabsim/protocol"
)

// TraceKind names one line of a run's trace.
type TraceKind uint8

// Trace lines. Inputs to a peer come first, then the effects that step produced, in order.
const (
	TrStart         TraceKind = iota + 1 // a server's process started (Detail: "boot" or "restart")
	TrRefused                            // a server refused to start (Detail: the LoadError)
	TrCrash                              // a server's process died (Detail: why)
	TrRecv                               // a peer read Msg on Conn from Peer
	TrTimer                              // a peer's timer fired
	TrAccepted                           // a leader accepted Conn from Peer
	TrConnected                          // a learner's connect to Peer succeeded as Conn
	TrConnectFailed                      // a learner's connect to Peer failed (Detail: why)
	TrClosed                             // a peer saw Conn closed
	TrSend                               // a peer sent Msg on Conn to Peer
	TrDrop                               // the network lost Msg on Conn (the connection breaks)
	TrPersist                            // a write became durable
	TrWriteFailed                        // a write failed
	TrState                              // a peer's ServerState/ZabState changed
	TrNote                               // a protocol fact
	TrPartition                          // a partition started (Detail)
	TrHeal                               // a partition healed (Detail)
	TrExit                               // a peer exited the process
)

var traceNames = [...]string{TrStart: "start", TrRefused: "refused", TrCrash: "crash", TrRecv: "recv",
	TrTimer: "timer", TrAccepted: "accepted", TrConnected: "connected", TrConnectFailed: "connect-failed",
	TrClosed: "closed", TrSend: "send", TrDrop: "drop", TrPersist: "persist", TrWriteFailed: "write-failed",
	TrState: "state", TrNote: "note", TrPartition: "partition", TrHeal: "heal", TrExit: "exit"}

func (k TraceKind) String() string {
	if int(k) < len(traceNames) && traceNames[k] != "" {
		return traceNames[k]
	}
	return "TraceKind(" + strconv.Itoa(int(k)) + ")"
}

// TraceEvent is one line of the trace. Only the fields its Kind uses are set.
type TraceEvent struct {
	At     protocol.Time
	Kind   TraceKind
	Server protocol.ServerID
	Peer   protocol.ServerID
	Conn   protocol.ConnID
	State  protocol.ServerState
	Zab    protocol.ZabState
	Timer  protocol.TimerID
	Msg    protocol.Message
	Write  protocol.DiskWrite
	Note   protocol.Note
	Detail string
	// Link ties a message's send (and drop) to its delivery: both carry the same id, unique in
	// the run (0: not a message). It is a cross-reference for viewers, derived from the order
	// of events, so it is left out of the text and the hash.
	Link uint64
}

// AppendText appends the event's one-line text form: time, server, kind, details. Only our
// own formatter is used, so the text (and the hash) never depends on pointers or map order.
func (e *TraceEvent) AppendText(b []byte) []byte {
	b = append(b, protocol.FormatTime(e.At)...)
	b = append(b, " s"...)
	b = strconv.AppendInt(b, int64(e.Server), 10)
	b = append(b, ' ')
	b = append(b, e.Kind.String()...)
	switch e.Kind {
	case TrRecv, TrSend, TrDrop:
		if e.Kind == TrRecv {
			b = append(b, " from s"...)
		} else {
			b = append(b, " to s"...)
		}
		b = strconv.AppendInt(b, int64(e.Peer), 10)
		b = append(b, " c"...)
		b = strconv.AppendUint(b, uint64(e.Conn), 10)
		b = append(b, ' ')
		b = e.Msg.AppendText(b)
	case TrTimer:
		b = append(b, ' ')
		b = append(b, e.Timer.Kind.String()...)
	case TrAccepted, TrConnected, TrConnectFailed, TrClosed:
		b = append(b, " s"...)
		b = strconv.AppendInt(b, int64(e.Peer), 10)
		b = append(b, " c"...)
		b = strconv.AppendUint(b, uint64(e.Conn), 10)
	case TrPersist, TrWriteFailed:
		b = append(b, ' ')
		b = e.Write.AppendText(b)
	case TrState:
		b = append(b, ' ')
		b = append(b, e.State.String()...)
		b = append(b, '/')
		b = append(b, e.Zab.String()...)
	case TrNote:
		b = append(b, ' ')
		b = e.Note.AppendText(b)
	}
	if e.Detail != "" {
		b = append(b, ' ')
		b = append(b, e.Detail...)
	}
	return b
}

// String is AppendText as a string.
func (e *TraceEvent) String() string { return string(e.AppendText(nil)) }

// hasher digests a fixed binary encoding of each trace event. Its output is part of the
// contract (run files record it), so changing the mixing changes every recorded hash.
type hasher struct{ h uint64 }

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// u64 mixes one word in (a multiply-xorshift step, far cheaper than byte-wise FNV).
func (h *hasher) u64(v uint64) {
	h.h = (h.h ^ v) * 0x9e3779b97f4a7c15
	h.h ^= h.h >> 29
}

func (h *hasher) str(s string) {
	h.u64(uint64(len(s)))
	for i := 0; i < len(s); i++ {
		h.h ^= uint64(s[i])
		h.h *= fnvPrime
	}
}

func (h *hasher) zxids(z []protocol.Zxid) {
	h.u64(uint64(len(z)))
	for _, x := range z {
		h.u64(uint64(x))
	}
}

// event digests the fields the event's kind uses (the others are zero).
func (h *hasher) event(e *TraceEvent) {
	h.u64(uint64(e.At))
	h.u64(uint64(e.Kind)<<48 | uint64(e.State)<<40 | uint64(e.Zab)<<32 | uint64(e.Conn))
	h.u64(uint64(e.Server)<<32 ^ uint64(e.Peer))
	switch e.Kind {
	case TrTimer:
		h.u64(uint64(e.Timer.Kind)<<32 | uint64(e.Timer.Gen))
	case TrSend, TrRecv, TrDrop:
		m := &e.Msg
		h.u64(uint64(m.Type)<<32 | uint64(uint32(m.Version)))
		h.u64(uint64(m.Zxid))
		h.u64(uint64(m.Sid)<<32 ^ uint64(m.Epoch))
		if m.Txns != nil {
			h.zxids(m.Txns)
		}
	case TrPersist, TrWriteFailed:
		w := &e.Write
		h.u64(uint64(w.Kind)<<56 ^ uint64(w.Epoch))
		h.u64(uint64(w.Zxid))
		h.zxids(w.Txns)
	case TrNote:
		n := &e.Note
		h.u64(uint64(n.Kind)<<8 | uint64(n.Mode) | uint64(n.State)<<16)
		h.u64(uint64(n.Epoch))
		h.u64(uint64(n.Peer))
		h.u64(uint64(n.Zxid))
		h.u64(uint64(len(n.Sids)))
		for _, s := range n.Sids {
			h.u64(uint64(s))
		}
		h.str(n.Reason)
	}
	if e.Detail != "" {
		h.str(e.Detail)
	}
}
