package sim

import "zabsim/protocol"

type eventKind uint8

const (
	evStart         eventKind = iota + 1 // start or restart a server
	evDeliver                            // a message arrives at one end of a connection
	evFin                                // the other end closed or reset the connection
	evTimer                              // a peer's timer fires
	evConnectArrive                      // a SYN reaches the target's learner port
	evConnected                          // the SYN-ACK reaches the learner
	evConnectFailed                      // the connect was refused or timed out
	evFault                              // a scheduled fault happens
	evNotify                             // an election notification arrives (fault: the sender's index)
	evAccept                             // a paused leader's process accepts a connection its kernel took
	evResume                             // a woken thread of a peer takes its next step (timer: which)
	evDial                               // a QuorumCnxManager dial from fault reaches server's election port
	evClient                             // a client write (fault: its index in RunSpec.Writes) reaches server
	evWake                               // a busy server (Options.Processing) takes the next input that waited for it
	evBooted                             // a server's Processing.Boot is over (inc: its bootSeq)
	evListen                             // a leader's learner port is bound after Processing.Lead (fault: its listenSeq)
	evConnectLater                       // a learner's connect after its set-up (fault: the target's id; link: the connect timeout)
)

// connRefused, in an evConnectFailed's fault field, says the connect was reset (nobody listens
// there) rather than timed out.
const connRefused = 1

// event is one entry of the queue. inc is the incarnation of the server it is for: events
// meant for a process that has since crashed are dropped.
type event struct {
	at   protocol.Time
	seq  uint64
	kind eventKind
	// peerInc is the incarnation of the other server an event involves (a dial's initiator).
	peerInc uint32
	server  int // index into World.servers
	inc     uint32
	conn    protocol.ConnID
	fault   int
	timer   protocol.TimerID
	msg     protocol.Message
	link    uint64 // the message's id (TraceEvent.Link)
}

// eventQueue is a binary min-heap on (at, seq) of small keys; the events themselves (a
// message makes one about 200 bytes) stay put in a slab, so sifting moves 24 bytes, not the
// event. Typed, so pushing does not box.
type eventQueue struct {
	keys []queueKey
	slab []event
	free []int32
}

type queueKey struct {
	at   protocol.Time
	seq  uint64
	slot int32
}

// reset empties the queue and keeps its storage.
func (q *eventQueue) reset() {
	clear(q.slab) // drop what stale events point to
	q.keys, q.slab, q.free = q.keys[:0], q.slab[:0], q.free[:0]
}

func (q *eventQueue) len() int { return len(q.keys) }

func (q *eventQueue) less(i, j int) bool {
	a, b := &q.keys[i], &q.keys[j]
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

func (q *eventQueue) push(e event) {
	var slot int32
	if n := len(q.free); n > 0 {
		slot = q.free[n-1]
		q.free = q.free[:n-1]
		q.slab[slot] = e
	} else {
		slot = int32(len(q.slab))
		q.slab = append(q.slab, e)
	}
	q.keys = append(q.keys, queueKey{at: e.at, seq: e.seq, slot: slot})
	i := len(q.keys) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q.keys[i], q.keys[parent] = q.keys[parent], q.keys[i]
		i = parent
	}
}

func (q *eventQueue) pop() (event, bool) {
	n := len(q.keys)
	if n == 0 {
		return event{}, false
	}
	slot := q.keys[0].slot
	top := q.slab[slot]
	q.slab[slot] = event{}
	q.free = append(q.free, slot)
	q.keys[0] = q.keys[n-1]
	q.keys = q.keys[:n-1]
	n--
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && q.less(l, m) {
			m = l
		}
		if r < n && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		q.keys[i], q.keys[m] = q.keys[m], q.keys[i]
		i = m
	}
	return top, true
}

func (q *eventQueue) peekAt() (protocol.Time, bool) {
	if len(q.keys) == 0 {
		return 0, false
	}
	return q.keys[0].at, true
}
