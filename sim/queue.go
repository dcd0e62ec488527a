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
//
// Socket read timeouts (a learner's, a LearnerHandler's) are re-armed by every packet read, and
// each superseded one waits until it is due (then the world drops it, World.dropTimer): in a
// long run they are nine in ten queued events. They go to lanes instead, one FIFO per timer
// (a learner's read timeout per server, a handler's per connection), since a lane's timers come
// due in the order they were armed; a small heap orders the lanes by their first key, so the
// main heap stays small. A timer due before the last one in its lane goes to the main heap.
// Pop takes the least (at, seq) of both, so the order is exactly the one heap's.
type eventQueue struct {
	keys []queueKey
	slab []event
	free []int32
	// lanes, by laneOf; laneHeap holds the non-empty ones, ordered by their head keys.
	lanes    []lane
	laneHeap []int32
	n        int // events queued, heap and lanes
}

type queueKey struct {
	at   protocol.Time
	seq  uint64
	slot int32
}

// lane is a FIFO of keys in (at, seq) order; keys[head:] are queued.
type lane struct {
	keys []queueKey
	head int
}

// laneOf is the lane of a read-timeout timer event, or -1 for the main heap.
func laneOf(e *event) int {
	if e.kind != evTimer {
		return -1
	}
	switch e.timer.Kind {
	case protocol.TimerLearnerRead:
		return 2 * e.server
	case protocol.TimerHandler:
		return 2*int(e.timer.Conn) + 1
	}
	return -1
}

// reset empties the queue and keeps its storage.
func (q *eventQueue) reset() {
	clear(q.slab) // drop what stale events point to
	q.keys, q.slab, q.free = q.keys[:0], q.slab[:0], q.free[:0]
	for i := range q.lanes {
		q.lanes[i] = lane{keys: q.lanes[i].keys[:0]}
	}
	q.laneHeap, q.n = q.laneHeap[:0], 0
}

func (q *eventQueue) len() int { return q.n }

// store puts e in a free slot of the slab and returns the slot.
func (q *eventQueue) store(e *event) int32 {
	if n := len(q.free); n > 0 {
		slot := q.free[n-1]
		q.free = q.free[:n-1]
		q.slab[slot] = *e
		return slot
	}
	q.slab = append(q.slab, *e)
	return int32(len(q.slab) - 1)
}

func (q *eventQueue) push(e *event) {
	slot := q.store(e)
	q.n++
	k := queueKey{at: e.at, seq: e.seq, slot: slot}
	if li := laneOf(e); li >= 0 {
		for li >= len(q.lanes) {
			q.lanes = append(q.lanes, lane{})
		}
		l := &q.lanes[li]
		switch {
		case l.head == len(l.keys):
			l.keys, l.head = append(l.keys[:0], k), 0
			q.laneUp(int32(li))
			return
		case !keyLess(&k, &l.keys[len(l.keys)-1]):
			l.keys = append(l.keys, k) // behind the lane's last: its head key is unchanged
			return
		}
	}
	q.keys = append(q.keys, k)
	i := len(q.keys) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !keyLess(&k, &q.keys[parent]) {
			break
		}
		q.keys[i] = q.keys[parent]
		i = parent
	}
	q.keys[i] = k
}

// pop removes the earliest event and returns its slot in the slab (false: the queue is
// empty). The event stays in place, not copied, until release frees the slot: the world
// dispatches it from there, and what it pushes meanwhile goes to other slots.
func (q *eventQueue) pop() (int32, bool) {
	if len(q.laneHeap) > 0 {
		l := &q.lanes[q.laneHeap[0]]
		if h := &l.keys[l.head]; len(q.keys) == 0 || keyLess(h, &q.keys[0]) {
			slot := h.slot
			l.head++
			q.n--
			if l.head == len(l.keys) {
				q.laneRemoveTop()
			} else {
				q.laneDown(0)
			}
			return slot, true
		}
	}
	n := len(q.keys)
	if n == 0 {
		return 0, false
	}
	q.n--
	slot := q.keys[0].slot
	last := q.keys[n-1]
	q.keys = q.keys[:n-1]
	n--
	if n > 0 {
		// Sift the last key down from the root, moving children up into the hole.
		i := 0
		for {
			l := 2*i + 1
			if l >= n {
				break
			}
			m := l
			if r := l + 1; r < n && keyLess(&q.keys[r], &q.keys[l]) {
				m = r
			}
			if !keyLess(&q.keys[m], &last) {
				break
			}
			q.keys[i] = q.keys[m]
			i = m
		}
		q.keys[i] = last
	}
	return slot, true
}

// laneKey is the head key of lane li (non-empty).
func (q *eventQueue) laneKey(li int32) *queueKey {
	l := &q.lanes[li]
	return &l.keys[l.head]
}

// laneUp adds lane li, just made non-empty, to the lane heap.
func (q *eventQueue) laneUp(li int32) {
	q.laneHeap = append(q.laneHeap, li)
	i := len(q.laneHeap) - 1
	k := q.laneKey(li)
	for i > 0 {
		parent := (i - 1) / 2
		if !keyLess(k, q.laneKey(q.laneHeap[parent])) {
			break
		}
		q.laneHeap[i] = q.laneHeap[parent]
		i = parent
	}
	q.laneHeap[i] = li
}

// laneDown restores the lane heap after the head key of the lane at i grew.
func (q *eventQueue) laneDown(i int) {
	h := q.laneHeap
	li := h[i]
	k := q.laneKey(li)
	for {
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		if r := c + 1; r < len(h) && keyLess(q.laneKey(h[r]), q.laneKey(h[c])) {
			c = r
		}
		if !keyLess(q.laneKey(h[c]), k) {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = li
}

// laneRemoveTop drops the lane heap's first lane, now empty.
func (q *eventQueue) laneRemoveTop() {
	n := len(q.laneHeap) - 1
	q.laneHeap[0] = q.laneHeap[n]
	q.laneHeap = q.laneHeap[:n]
	if n > 0 {
		q.laneDown(0)
	}
}

// at is the event in slot (valid until the slot is released).
func (q *eventQueue) at(slot int32) *event { return &q.slab[slot] }

// release frees a popped event's slot, dropping what it points to.
func (q *eventQueue) release(slot int32) {
	q.slab[slot] = event{}
	q.free = append(q.free, slot)
}

func keyLess(a, b *queueKey) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}
