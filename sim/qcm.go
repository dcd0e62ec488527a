package sim

import (
	"time"

	"zabsim/protocol"
)

// The election port, as QuorumCnxManager builds it (QuorumCnxManager.java; notes in the
// README's "Election transport"):
//   - Each server keeps, per peer, a send queue of one message (SEND_CAPACITY: a newer message
//     replaces an unsent one) and the last message it sent that peer. toSend puts the message
//     in the queue and calls connectOne; a message to itself goes straight to its receive queue.
//   - connectOne does nothing when a connection to the peer is up or being made. Otherwise it
//     dials: a peer that is down resets the connect at once and the message stays queued;
//     nothing retries. A cut pair's connect times out after cnxTimeout (5 s).
//   - Of the two ends, the larger sid keeps a connection it initiates. A smaller initiator's
//     connection is closed by the larger one, which tears down any connection it had to it and
//     dials back (handleConnection). The smaller end of that torn-down connection learns of it
//     only from the FIN: until the dial-back arrives its SendWorker stands, so connectOne does
//     not dial, and what it sends is lost on the dead socket but stays its last message sent.
//   - When a connection comes up, each end's SendWorker sends its queued message, or, when the
//     queue is empty, re-sends the last message it sent that peer.
//   - A queued message therefore flows when its sender next sends to that peer or calls
//     connectAll (FLE's poll timeout when no queue is empty), or when the peer dials in; not
//     when the peer merely starts: a voter that starts dials the voters only.
//   - An established connection that a partition cuts holds what is sent, as TCP does, and
//     delivers it at the heal. A crash breaks the dead process's connections; its queues die
//     with it, the survivors keep theirs.
//   - A paused process's kernel accepts a dial, and its Listener handles it when it resumes.

// cnxTimeout is QuorumCnxManager.cnxTO (zookeeper.cnxTimeout, 5000 ms).
const cnxTimeout = 5 * time.Second

// synTimes are when a dial sends its SYN, from the connect: the first, and Linux's
// retransmissions while no SYN-ACK comes back (initial RTO 1 s, doubling), within cnxTimeout.
var synTimes = [...]time.Duration{0, time.Second, 3 * time.Second}

// untilArrival marks a dial under way until it arrives, and a half-open end that stands until
// the dial-back arrives: later than any time a run reaches.
const untilArrival = protocol.Time(1<<62 - 1)

// qcmState is every server's QuorumCnxManager. Per ordered pair (sender*n + receiver): the send
// queue, the last message sent, whether the sender ever queued for it, and when a dial from
// the sender is under way until. Per unordered pair (min*n + max): whether a connection is up.
type qcmState struct {
	queued      []bool
	queue       []protocol.Message
	queueLink   []uint64
	sent        []bool
	lastSent    []protocol.Message
	everQueued  []bool
	dialing     []protocol.Time // 0: no dial under way
	halfOpen    []protocol.Time // until when the sender's end of a connection the peer closed stands
	up          []bool
	lastArrival []protocol.Time // FIFO per direction
}

func (q *qcmState) reset(n int) {
	q.queued = resize(q.queued, n*n)
	q.queue = resize(q.queue, n*n)
	q.queueLink = resize(q.queueLink, n*n)
	q.sent = resize(q.sent, n*n)
	q.lastSent = resize(q.lastSent, n*n)
	q.everQueued = resize(q.everQueued, n*n)
	q.dialing = resize(q.dialing, n*n)
	q.halfOpen = resize(q.halfOpen, n*n)
	q.up = resize(q.up, n*n)
	q.lastArrival = resize(q.lastArrival, n*n)
}

func (w *World) pair(a, b int) int {
	if a > b {
		a, b = b, a
	}
	return a*len(w.servers) + b
}

// notify is toSend: an election notification from srv to `to`.
func (w *World) notify(srv int, to protocol.ServerID, msg *protocol.Message) {
	ti := w.Index(to)
	if ti < 0 {
		return
	}
	link := w.nextLink()
	w.trace = TraceEvent{Kind: TrSend, Server: w.servers[srv].id, Peer: to, Msg: *msg, Link: link}
	w.emit(&w.trace)
	if ti == srv {
		w.push(event{at: w.now, kind: evNotify, server: ti, inc: w.servers[ti].inc, msg: *msg, fault: srv, link: link})
		return
	}
	q := &w.qcm
	k := srv*len(w.servers) + ti
	if q.queued[k] {
		w.trace = TraceEvent{Kind: TrSendQueueDrop, Server: w.servers[srv].id, Peer: to, Msg: q.queue[k], Link: q.queueLink[k]}
		w.emit(&w.trace)
	}
	q.queued[k], q.queue[k], q.queueLink[k], q.everQueued[k] = true, *msg, link, true
	if q.up[w.pair(srv, ti)] {
		w.flushQueue(srv, ti)
		return
	}
	if w.now < q.halfOpen[k] {
		// The SendWorker writes into a socket the peer has closed: lost, but the last message
		// sent, so the next connection re-sends it.
		q.queued[k], q.sent[k], q.lastSent[k] = false, true, *msg
		w.trace = TraceEvent{Kind: TrDrop, Server: w.servers[srv].id, Peer: to, Msg: *msg, Link: link,
			Detail: "the peer closed the connection"}
		w.emit(&w.trace)
		return
	}
	w.connectOne(srv, ti)
}

// connectOne dials ti from srv unless a connection is up or a dial is under way.
func (w *World) connectOne(srv, ti int) {
	q := &w.qcm
	k := srv*len(w.servers) + ti
	if q.up[w.pair(srv, ti)] || q.dialing[k] > w.now || w.now < q.halfOpen[k] {
		return // a SendWorker stands, or a dial is under way
	}
	tgt := &w.servers[ti]
	if !tgt.up {
		return // reset at once: "Cannot open channel to ..."; the message stays queued
	}
	from, to := w.servers[srv].id, tgt.id
	// sock.connect(addr, cnxTO) (QuorumCnxManager.initiateConnection): the handshake needs
	// the SYN through and the SYN-ACK back, so a one-way partition stops it either way; the
	// first SYN (or retransmission) that a partition does not cut connects, and when none
	// does within cnxTimeout the dial times out.
	at := protocol.Time(-1)
	for _, off := range synTimes {
		if t := w.now.Add(off); w.unblockedAt(from, to, t, PortElection) == t && w.unblockedAt(to, from, t, PortElection) == t {
			at = t
			break
		}
	}
	if at < 0 {
		q.dialing[k] = w.now.Add(cnxTimeout) // every SYN is cut off: the dial times out
		return
	}
	q.dialing[k] = untilArrival
	w.push(event{at: at.Add(w.drawDelay(from, to)), kind: evDial, server: ti, inc: tgt.inc, fault: srv, peerInc: w.servers[srv].inc})
}

// connectAll is QuorumCnxManager.connectAll: dial every peer this server ever queued for.
func (w *World) connectAll(srv int) {
	n := len(w.servers)
	for ti := 0; ti < n; ti++ {
		if ti != srv && w.qcm.everQueued[srv*n+ti] {
			w.connectOne(srv, ti)
		}
	}
}

// haveDelivered is QuorumCnxManager.haveDelivered: true when ANY of the server's send queues
// is empty (spec §4.1 MARK: the comment says all), false when it has none.
func (w *World) haveDelivered(srv int) bool {
	n := len(w.servers)
	for ti := 0; ti < n; ti++ {
		if k := srv*n + ti; w.qcm.everQueued[k] && !w.qcm.queued[k] {
			return true
		}
	}
	return false
}

// dialArrives: a dial from ev.fault reaches ev.server's election port.
func (w *World) dialArrives(ev *event) {
	si, ti := ev.fault, ev.server
	s, t := &w.servers[si], &w.servers[ti]
	q := &w.qcm
	q.dialing[si*len(w.servers)+ti] = 0
	if !s.up || s.inc != ev.peerInc || !t.up || t.inc != ev.inc {
		return // one end died meanwhile
	}
	if t.paused {
		t.held = append(t.held, *ev) // the kernel took it; the Listener runs on resume
		return
	}
	if s.id < t.id {
		// handleConnection: the smaller sid's connection is closed, any connection to it torn
		// down, and the larger dials back. The smaller end of a torn-down connection stands
		// until the FIN comes: with the dial-back, or at the heal when that is cut.
		wasUp := q.up[w.pair(si, ti)]
		q.up[w.pair(si, ti)] = false
		w.connectOne(ti, si)
		if wasUp {
			// With the dial-back under way, the end stands until it arrives (connection up
			// clears it); with the dial-back's SYN cut off, until the link heals.
			fin := untilArrival
			if q.dialing[ti*len(w.servers)+si] != untilArrival {
				if fin = w.unblockedAt(t.id, s.id, w.now, PortElection); fin == never {
					fin = untilArrival
				}
			}
			q.halfOpen[si*len(w.servers)+ti] = fin
		}
		return
	}
	q.up[w.pair(si, ti)] = true
	q.halfOpen[si*len(w.servers)+ti], q.halfOpen[ti*len(w.servers)+si] = 0, 0
	w.flushQueue(si, ti)
	w.flushQueue(ti, si)
}

// flushQueue is a SendWorker starting on an up connection, or taking a newly queued message:
// it sends the queued message, or, when the queue is empty, re-sends the last one.
func (w *World) flushQueue(srv, ti int) {
	q := &w.qcm
	k := srv*len(w.servers) + ti
	switch {
	case q.queued[k]:
		q.queued[k] = false
		q.sent[k], q.lastSent[k] = true, q.queue[k]
		w.carry(srv, ti, q.queue[k], q.queueLink[k])
	case q.sent[k]:
		link := w.nextLink()
		w.trace = TraceEvent{Kind: TrSend, Server: w.servers[srv].id, Peer: w.servers[ti].id, Msg: q.lastSent[k], Link: link,
			Detail: "re-sent on a new connection"}
		w.emit(&w.trace)
		w.carry(srv, ti, q.lastSent[k], link)
	}
}

// carry puts a notification on an up connection: FIFO, one network delay, held by a partition
// until the heal.
func (w *World) carry(srv, ti int, msg protocol.Message, link uint64) {
	from, to := w.servers[srv].id, w.servers[ti].id
	t := w.unblockedAt(from, to, w.now, PortElection)
	if t == never {
		return
	}
	t = t.Add(w.drawDelay(from, to))
	last := &w.qcm.lastArrival[srv*len(w.servers)+ti]
	if w.win != nil {
		// One channel per ordered pair and receiving process: a crash of the receiver resets
		// the FIFO order, as lastArrival does (qcmCrash).
		w.win.draw.ch = -(int64(w.servers[ti].inc)<<20 | int64(srv*len(w.servers)+ti)) - 1
	} else if t <= *last {
		t = *last + 1
	}
	*last = t
	w.push(event{at: t, kind: evNotify, server: ti, inc: w.servers[ti].inc, msg: msg, fault: srv, link: link})
}

// qcmCrash: a crashed process's connections break; its own queues die with it.
func (w *World) qcmCrash(srv int) {
	n := len(w.servers)
	q := &w.qcm
	for o := 0; o < n; o++ {
		q.up[w.pair(srv, o)] = false
		k := srv*n + o
		q.queued[k], q.sent[k], q.everQueued[k], q.dialing[k], q.halfOpen[k] = false, false, false, 0, 0
		q.halfOpen[o*n+srv] = 0 // the survivor's end breaks too
		q.lastArrival[o*n+srv] = 0
	}
}
