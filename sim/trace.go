package sim

import (
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
	TrPause                              // a server's process was stopped (Detail: until when)
	TrResume                             // a paused process resumed (Detail: how much waited for it)
	TrRun                                // a woken thread of a peer runs (Timer.Conn: 0 the leader's own, else its handler)
	TrSendQueueDrop                      // Server's election send queue for Peer (capacity one) replaced Msg, unsent, by a newer one
	TrRecvQueueDrop                      // Server's election receive queue (capacity 100) discarded Msg from Peer: a burst overfilled it
	TrClient                             // a client asked Server for write Reply.Value
	TrReply                              // Server answered the client of write Reply.Value (Reply)
)

var traceNames = protocol.FillNames("TraceKind", []string{TrStart: "start", TrRefused: "refused", TrCrash: "crash", TrRecv: "recv",
	TrTimer: "timer", TrAccepted: "accepted", TrConnected: "connected", TrConnectFailed: "connect-failed",
	TrClosed: "closed", TrSend: "send", TrDrop: "drop", TrPersist: "persist", TrWriteFailed: "write-failed",
	TrState: "state", TrNote: "note", TrPartition: "partition", TrHeal: "heal", TrExit: "exit",
	TrPause: "pause", TrResume: "resume", TrRun: "run", TrSendQueueDrop: "send-queue-drop", TrRecvQueueDrop: "recv-queue-drop",
	TrClient: "client-write", TrReply: "client-reply"})

func (k TraceKind) String() string {
	if int(k) < len(traceNames) {
		return traceNames[k]
	}
	return protocol.UnknownName("TraceKind", int(k))
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
	// Reply is a client write (TrClient: its Value) or its answer (TrReply).
	Reply  protocol.Reply
	Detail string
	// Fault is the scheduled fault (its index in RunSpec.Faults, plus one) that caused the
	// event: a crash, a start, a partition, a pause; 0 for none.
	Fault int
	// Link ties a message's send (and drop) to its delivery: both carry the same id, unique in
	// the run (0: not a message). It is a cross-reference for viewers, derived from the order
	// of events, so it is left out of the text and the hash.
	Link uint64
	// Step is the number of world events processed before this one's (the event number a
	// divergence report cites), so a viewer can show it; like Link it stays out of the text
	// and the hash.
	Step uint64
}

// AppendText appends the event's one-line text form: time, server, kind, details. Only our
// own formatter is used, so the text (and the hash) never depends on pointers or map order.
func (e *TraceEvent) AppendText(b []byte) []byte {
	enc := protocol.Enc{Buf: b}
	e.Encode(&enc)
	return enc.Buf
}

// String is AppendText as a string.
func (e *TraceEvent) String() string { return string(e.AppendText(nil)) }

// Encode writes the event as its trace line shows it; in hash mode it digests the same
// fields, so the trace hash covers everything the trace shows (protocol.Enc). Three fields are
// left out on purpose: Link, a cross-reference derived from the order of events, Step, the
// event's number, and Timer.Gen, the peer's internal counter that tells a stale timer from a
// live one.
func (e *TraceEvent) Encode(enc *protocol.Enc) {
	enc.Time(e.At)
	enc.Lit(" s")
	enc.Int(int64(e.Server))
	enc.Byte(' ')
	enc.Enum(int(e.Kind), e.Kind.String())
	switch e.Kind {
	case TrRecv, TrSend, TrDrop, TrSendQueueDrop, TrRecvQueueDrop:
		if e.Kind == TrRecv || e.Kind == TrRecvQueueDrop {
			enc.Lit(" from s")
		} else {
			enc.Lit(" to s")
		}
		enc.Int(int64(e.Peer))
		enc.Lit(" c")
		enc.Uint(uint64(e.Conn))
		enc.Byte(' ')
		e.Msg.Encode(enc)
	case TrTimer:
		enc.Byte(' ')
		enc.Enum(int(e.Timer.Kind), e.Timer.Kind.String())
		if e.Timer.Conn != 0 {
			enc.Lit(" c")
			enc.Uint(uint64(e.Timer.Conn))
		}
	case TrRun:
		if e.Timer.Conn == 0 {
			enc.Lit(" leader-thread")
		} else {
			enc.Lit(" handler c")
			enc.Uint(uint64(e.Timer.Conn))
		}
	case TrAccepted, TrConnected, TrConnectFailed, TrClosed:
		enc.Lit(" s")
		enc.Int(int64(e.Peer))
		enc.Lit(" c")
		enc.Uint(uint64(e.Conn))
	case TrPersist, TrWriteFailed:
		enc.Byte(' ')
		e.Write.Encode(enc)
	case TrState:
		enc.Byte(' ')
		enc.Enum(int(e.State), e.State.String())
		enc.Byte('/')
		enc.Enum(int(e.Zab), e.Zab.String())
	case TrNote:
		enc.Byte(' ')
		e.Note.Encode(enc)
	case TrClient:
		enc.Lit(" v=")
		enc.Uint(e.Reply.Value)
	case TrReply:
		enc.Byte(' ')
		e.Reply.Encode(enc)
	}
	if e.Detail != "" {
		enc.Byte(' ')
		enc.Str(e.Detail)
	}
	if e.Fault != 0 {
		enc.Lit(" [fault ")
		enc.Int(int64(e.Fault - 1))
		enc.Byte(']')
	}
}

// hasher digests trace events with the same encoding their text uses. Its output is part of
// the contract (run files record it), so changing the encoding changes every recorded hash.
type hasher struct{ enc protocol.Enc }

const fnvOffset = 14695981039346656037

// event digests one event, and an end mark so that adjacent events cannot blur.
func (h *hasher) event(e *TraceEvent) {
	e.Encode(&h.enc)
	h.enc.Enum(0xff, "")
}
