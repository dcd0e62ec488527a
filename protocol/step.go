package protocol

import (
	"strconv"
	"time"
)

// ConnID names one TCP connection between a learner and a leader's learner port. The world
// assigns them; the protocol only compares them.
type ConnID uint32

// InputKind says what happened to a peer.
type InputKind uint8

// Inputs a peer can be stepped with.
const (
	// InputStart: the process starts (first boot or restart after a crash).
	InputStart InputKind = iota + 1
	// InputMessage: Msg arrived on Conn, sent by From.
	InputMessage
	// InputTimer: a timer this peer set has fired.
	InputTimer
	// InputConnected: the connect this peer asked for (to From) succeeded as Conn.
	InputConnected
	// InputConnectFailed: the connect this peer asked for was refused or timed out.
	InputConnectFailed
	// InputAccepted: a learner connected to this peer's learner port as Conn.
	InputAccepted
	// InputClosed: Conn was closed by the other side or broken by the network.
	InputClosed
	// InputWriteFailed: the durable write Write failed with an IOException; the effects
	// emitted after it in the same step were not applied. Disk is the disk as it is now.
	InputWriteFailed
	// InputNotification: an election notification (Msg, type NOTIFICATION) from From arrived
	// on the election port.
	InputNotification
	// InputResume: a thread this peer woke (EffectWake) takes its next step now; Timer names
	// it as the wake did.
	InputResume
	// InputClientRequest: a client connected to this server asks for a write, Msg.Txn.Value
	// (the write's id). The server answers with EffectReply, now or once it applied the txn.
	InputClientRequest
)

var inputNames = [...]string{InputStart: "start", InputMessage: "recv", InputTimer: "timer",
	InputConnected: "connected", InputConnectFailed: "connect-failed", InputAccepted: "accepted",
	InputClosed: "closed", InputWriteFailed: "write-failed", InputNotification: "notification", InputResume: "resume", InputClientRequest: "client"}

func (k InputKind) String() string {
	if int(k) < len(inputNames) && inputNames[k] != "" {
		return inputNames[k]
	}
	return UnknownName("InputKind", int(k))
}

// TimerKind says which of a peer's waits a timer belongs to.
type TimerKind uint8

// Timers. Each Java wait with a deadline becomes one of these (spec §9.3).
const (
	TimerElection            TimerKind = iota + 1 // the election component's timer
	TimerLeaderSelfRegister                       // lead(): acceptor started, getEpochToPropose not yet called
	TimerLeaderWait                               // the leader's own deadline in its current wait
	TimerLeaderTick                               // lead()'s tickTime/2 loop
	TimerHandler                                  // a LearnerHandler's read timeout or wait deadline
	TimerLearnerRead                              // the learner socket's read timeout
	TimerLearnerConnectRetry                      // the 100 ms sleep between connect tries
	TimerFLEFinalize                              // FLE's finalize wait
	TimerObserverPause                            // an observer's random pause before electing again
	TimerThread                                   // names a woken thread (EffectWake, InputResume); Conn 0 is the leader's own
	TimerSync                                     // SyncRequestProcessor writes and fsyncs what is queued
)

var timerNames = FillNames("TimerKind", []string{TimerElection: "election", TimerLeaderSelfRegister: "lead-self-register",
	TimerLeaderWait: "leader-wait", TimerLeaderTick: "leader-tick", TimerHandler: "handler",
	TimerLearnerRead: "learner-read", TimerLearnerConnectRetry: "connect-retry", TimerFLEFinalize: "fle-finalize",
	TimerObserverPause: "observer-pause", TimerThread: "thread", TimerSync: "sync"})

func (k TimerKind) String() string {
	if int(k) < len(timerNames) {
		return timerNames[k]
	}
	return UnknownName("TimerKind", int(k))
}

// TimerID identifies one armed timer. A peer re-arms a wait by issuing a new generation; a
// timer whose generation is no longer current is stale and ignored, so no cancel is needed.
type TimerID struct {
	Kind TimerKind
	Conn ConnID
	Gen  uint32
}

// Input is one thing that happened to a peer, at virtual time Now.
type Input struct {
	Kind  InputKind
	Now   Time
	From  ServerID
	Conn  ConnID
	Msg   Message
	Timer TimerID
	Write DiskWrite
	Disk  Disk
	// HaveDelivered is QuorumCnxManager.haveDelivered() for an election poll timer: some of
	// this server's election send queues is empty. The world keeps those queues.
	HaveDelivered bool
}

// EffectKind says what a peer wants done.
type EffectKind uint8

// Effects. The world applies them in the order emitted; see Effect.
const (
	EffectSend     EffectKind = iota + 1 // send Msg on Conn
	EffectConnect                        // open a connection to To's learner port, giving up after After
	EffectClose                          // close Conn
	EffectSetTimer                       // fire Timer after After plus a world-chosen jitter in [0, Jitter]
	EffectPersist                        // make Write durable
	EffectState                          // the peer's ServerState or ZabState changed (State, Zab)
	EffectListen                         // start (Listen) or stop accepting learner connections
	EffectNote                           // a protocol fact for the trace and the checker
	EffectProbe                          // a rare branch was reached
	EffectExit                           // the process exits (ExitCode QUORUM_PACKET_ERROR)
	EffectNotify                         // send election notification Msg to To (election port)
	// EffectWake: the thread Timer names (TimerThread; Conn 0 is the leader's own thread,
	// another Conn that connection's LearnerHandler) was waiting and may go on. ZooKeeper wakes
	// such threads together (notifyAll) and the JVM runs them in any order, so the world
	// decides the order of the wakes one step emits, and steps the peer with InputResume for
	// each, the first after it, at least After from now.
	EffectWake
	// EffectConnectAll: QuorumCnxManager.connectAll(), dial every peer this server ever
	// queued a notification for.
	EffectConnectAll
	// EffectReply: answer a client's write (Reply).
	EffectReply
)

var effectNames = [...]string{EffectSend: "send", EffectConnect: "connect", EffectClose: "close",
	EffectSetTimer: "set-timer", EffectPersist: "persist", EffectState: "state", EffectListen: "listen",
	EffectNote: "note", EffectProbe: "probe", EffectExit: "exit", EffectNotify: "notify", EffectWake: "wake", EffectConnectAll: "connect-all", EffectReply: "reply"}

func (k EffectKind) String() string {
	if int(k) < len(effectNames) && effectNames[k] != "" {
		return effectNames[k]
	}
	return UnknownName("EffectKind", int(k))
}

// Effect is one thing a peer wants done.
//
// Contract, as etcd documents Ready: effects are applied strictly in the order emitted. An
// EffectPersist is durable BEFORE any later effect of the same step happens, so a Send that
// follows a Persist can rely on it (ZooKeeper writes acceptedEpoch before ACKEPOCH, and the
// NEWLEADER history and currentEpoch before the NEWLEADER ACK: spec §2.4). If a Persist fails,
// the world drops every later effect of the step and steps the peer with InputWriteFailed. A
// crash may fall between any two effects; everything after the crash point is lost.
type Effect struct {
	Kind   EffectKind
	State  ServerState
	Zab    ZabState
	Listen bool
	To     ServerID
	Conn   ConnID
	Timer  TimerID
	After  time.Duration
	Jitter time.Duration
	Msg    Message
	Write  DiskWrite
	Note   Note
	Probe  Probe
	Reply  Reply
}

// ReplyCode is how a write ended for the client that asked for it.
type ReplyCode uint8

// Reply codes. Only ReplyOK promises anything: the txn is committed. ConnectionLoss leaves the
// client not knowing (the txn may still commit), as ZooKeeper's CONNECTIONLOSS does.
const (
	ReplyOK             ReplyCode = iota + 1 // applied: committed, as Zxid
	ReplyNotServing                          // the server is not serving clients (not running)
	ReplyConnectionLoss                      // the server's role ended before it answered
)

var replyNames = [...]string{ReplyOK: "ok", ReplyNotServing: "not-serving", ReplyConnectionLoss: "connection-loss"}

func (c ReplyCode) String() string {
	if int(c) < len(replyNames) && replyNames[c] != "" {
		return replyNames[c]
	}
	return UnknownName("ReplyCode", int(c))
}

// Reply answers the client write Value: ReplyOK with the txn's Zxid, or why not.
type Reply struct {
	Value uint64
	Zxid  Zxid
	Code  ReplyCode
}

// Encode writes the reply as a trace shows it.
func (r *Reply) Encode(e *Enc) {
	e.Lit("v=")
	e.Uint(r.Value)
	e.Byte(' ')
	e.Enum(int(r.Code), r.Code.String())
	if r.Code == ReplyOK {
		e.Byte(' ')
		e.Zxid(r.Zxid)
	}
}

// NoteKind names a protocol fact the checker and the trace rely on.
type NoteKind uint8

// Notes.
const (
	// NoteEpochDecided: getEpochToPropose decided Epoch; Sids is connectingFollowers.
	NoteEpochDecided NoteKind = iota + 1
	// NoteEpochAcked: waitForEpochAck reached its quorum; Sids is electingFollowers.
	NoteEpochAcked
	// NoteNewLeaderQuorum: waitForNewLeaderAck reached its quorum; Sids is the ack set.
	NoteNewLeaderQuorum
	// NoteSyncChosen: syncFollower chose Mode for learner Peer (zxid Zxid, peer's last PeerZxid).
	NoteSyncChosen
	// NoteTickSynced: the leader's tick check counted Sids as synced (Reason "ok" or "lost").
	NoteTickSynced
	// NoteLeaderShutdown: Leader.shutdown(Reason).
	NoteLeaderShutdown
	// NoteHandlerEnded: the LearnerHandler for Peer ended (Reason).
	NoteHandlerEnded
	// NoteLearnerLeft: the learner left its leader (Reason) and goes LOOKING.
	NoteLearnerLeft
	// NoteSynced: the learner processed UPTODATE from leader Peer in Epoch.
	NoteSynced
	// NoteRegistered: a LearnerHandler read FOLLOWERINFO/OBSERVERINFO from Peer.
	NoteRegistered
	// NoteProposal: FLE's proposal became (Peer, Zxid, Epoch) in round Round.
	NoteProposal
	// NoteElected: FLE decided leader Peer (vote Zxid, Epoch, Round) as State, on the votes
	// of Sids, the way Reason says.
	NoteElected
	// NoteEpochWait: the leader's own getEpochToPropose waits for the epoch quorum, with
	// Epoch proposed so far (Leader.timeStartWaitForEpoch starts now).
	NoteEpochWait
	// NoteCommitted: the leader committed Zxid (Leader.tryToCommit) on the durable acks of
	// Sids, in Epoch.
	NoteCommitted
	// NoteApplied: the server applied committed txn Zxid to its database in broadcast
	// (CommitProcessor and FinalRequestProcessor).
	NoteApplied
)

var noteNames = FillNames("NoteKind", []string{NoteEpochDecided: "epoch-decided", NoteEpochAcked: "epoch-acked",
	NoteNewLeaderQuorum: "newleader-quorum", NoteSyncChosen: "sync", NoteTickSynced: "tick",
	NoteLeaderShutdown: "leader-shutdown", NoteHandlerEnded: "handler-ended", NoteLearnerLeft: "learner-left",
	NoteSynced: "uptodate", NoteRegistered: "registered", NoteProposal: "proposal", NoteElected: "elected",
	NoteEpochWait: "epoch-wait", NoteCommitted: "committed", NoteApplied: "applied"})

func (k NoteKind) String() string {
	if int(k) < len(noteNames) {
		return noteNames[k]
	}
	return UnknownName("NoteKind", int(k))
}

// Note is a protocol fact: which quorum decided, which sync mode was chosen, why a role ended.
type Note struct {
	Kind     NoteKind
	Mode     SyncMode
	Epoch    Epoch
	Peer     ServerID
	Zxid     Zxid
	PeerZxid Zxid
	Sids     []ServerID
	Reason   string
	// State is the role that ended (NoteLearnerLeft) or was decided (NoteElected).
	State ServerState
	// Round is FLE's logical clock (NoteProposal, NoteElected).
	Round int64
	// How (NoteElected) and Left (NoteLearnerLeft) say in types what Reason says in words, for
	// the checker. Encode does not write them: Reason, which it writes, determines them.
	How  ElectionHow
	Left LeaveCause
}

// AppendText appends the note's text form.
func (n Note) AppendText(b []byte) []byte {
	e := Enc{Buf: b}
	n.Encode(&e)
	return e.Buf
}

// Encode writes the note as a trace shows it (see Enc): its kind and every field the kind
// sets.
func (n *Note) Encode(e *Enc) {
	e.Enum(int(n.Kind), n.Kind.String())
	switch n.Kind {
	case NoteEpochWait:
		e.Lit(" epoch=")
		e.Int(int64(n.Epoch))
	case NoteEpochDecided, NoteEpochAcked, NoteNewLeaderQuorum:
		e.Lit(" epoch=")
		e.Int(int64(n.Epoch))
		e.Lit(" sids=")
		e.Sids(n.Sids)
	case NoteTickSynced:
		e.Lit(" sids=")
		e.Sids(n.Sids)
		e.Byte(' ')
		e.Str(n.Reason)
	case NoteSyncChosen:
		e.Lit(" peer=")
		e.Int(int64(n.Peer))
		e.Byte(' ')
		e.Enum(int(n.Mode), n.Mode.String())
		e.Byte(' ')
		e.Zxid(n.Zxid)
		e.Lit(" peerLast=")
		e.Zxid(n.PeerZxid)
		e.Lit(" epoch=")
		e.Int(int64(n.Epoch))
	case NoteCommitted:
		e.Byte(' ')
		e.Zxid(n.Zxid)
		e.Lit(" epoch=")
		e.Int(int64(n.Epoch))
		e.Lit(" acks=")
		e.Sids(n.Sids)
	case NoteApplied:
		e.Byte(' ')
		e.Zxid(n.Zxid)
	case NoteSynced, NoteRegistered:
		e.Lit(" peer=")
		e.Int(int64(n.Peer))
		e.Lit(" epoch=")
		e.Int(int64(n.Epoch))
	case NoteProposal, NoteElected:
		e.Vote(int64(n.Peer), n.Zxid, n.Round, int64(n.Epoch))
		if n.Kind == NoteElected {
			e.Lit(" as ")
			e.Enum(int(n.State), n.State.String())
			e.Lit(" votes=")
			e.Sids(n.Sids)
			e.Lit(": ")
			e.Str(n.Reason)
		}
	case NoteHandlerEnded:
		e.Lit(" peer=")
		e.Int(int64(n.Peer))
		e.Lit(": ")
		e.Str(n.Reason)
	case NoteLeaderShutdown:
		e.Lit(" epoch=")
		e.Int(int64(n.Epoch))
		e.Lit(": ")
		e.Str(n.Reason)
	case NoteLearnerLeft:
		e.Lit(" leader=")
		e.Int(int64(n.Peer))
		e.Lit(" as ")
		e.Enum(int(n.State), n.State.String())
		e.Lit(": ")
		e.Str(n.Reason)
	default:
		e.Lit(": ")
		e.Str(n.Reason)
	}
}

func appendSids(b []byte, sids []ServerID) []byte {
	b = append(b, '[')
	for i, s := range sids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(s), 10)
	}
	return append(b, ']')
}
