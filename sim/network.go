package sim

import (
	"time"

	"zabsim/protocol"
)

const never protocol.Time = -1

// delay draws one one-way network delay.
func (w *World) delay() time.Duration {
	d := w.spec.Options.OneWayDelayMin
	if j := w.spec.Options.OneWayDelayJitter; j > 0 {
		d += time.Duration(w.netRand.Int64N(int64(j) + 1))
	}
	return d
}

// blocks reports whether partition f cuts messages from a to b on port.
func blocks(f *Fault, a, b protocol.ServerID, port Port) bool {
	if f.Port != PortBoth && f.Port != port {
		return false
	}
	ga, gb := -1, -1
	for gi, g := range f.Groups {
		for _, id := range g {
			if id == a {
				ga = gi
			}
			if id == b {
				gb = gi
			}
		}
	}
	if ga < 0 || gb < 0 || ga == gb {
		return false
	}
	return !f.OneWay || (ga == 0 && gb == 1)
}

// unblockedAt is the earliest time >= t at which no partition cuts a→b on port, or never.
func (w *World) unblockedAt(a, b protocol.ServerID, t protocol.Time, port Port) protocol.Time {
	for moved := true; moved; {
		moved = false
		for i := range w.spec.Faults {
			f := &w.spec.Faults[i]
			if f.Kind != FaultPartition || f.At > t || (f.Heal != 0 && t >= f.Heal) || !blocks(f, a, b, port) {
				continue
			}
			if f.Heal == 0 {
				return never
			}
			t, moved = f.Heal, true
		}
	}
	return t
}

// arrival is when something sent now from end `from` of c reaches the other end. A partition
// holds it until the heal, as TCP's retransmissions would, and FIFO order per direction is
// kept. Partitions act on what is sent while they last; what is already on the wire arrives.
func (w *World) arrival(c *conn, from int) protocol.Time {
	a, b := w.servers[c.ends[from]].id, w.servers[c.ends[1-from]].id
	t := w.unblockedAt(a, b, w.now, PortLearner)
	if t == never {
		return never
	}
	t = t.Add(w.drawDelay(a, b))
	if w.win != nil {
		w.win.draw.ch = int64(c.id)*2 + int64(from) + 1
		return t // FIFO: only a channel's head may be delivered (windowed.go)
	}
	if t <= c.lastArrive[from] {
		t = c.lastArrive[from] + 1
	}
	c.lastArrive[from] = t
	return t
}

func (w *World) lossy(from, to protocol.ServerID) bool {
	r := w.spec.Options.MessageLossProbability
	if r.Num == 0 {
		return false
	}
	return w.decide(DecideLoss, from, to, func() int64 {
		if w.netRand.Uint32N(r.Den) < r.Num {
			return 1
		}
		return 0
	}) == 1
}

// send puts msg on the wire from srv on connection id.
func (w *World) send(srv int, id protocol.ConnID, msg *protocol.Message) {
	if id == 0 || int(id) >= len(w.conns) {
		return
	}
	c := &w.conns[id]
	end := w.endOf(c, srv)
	if c.closed[end] || c.broken {
		return
	}
	to := c.ends[1-end]
	link := w.nextLink()
	w.trace = TraceEvent{Kind: TrSend, Server: w.servers[srv].id, Peer: w.servers[to].id, Conn: id, Msg: *msg, Link: link}
	w.emit(&w.trace)
	if w.lossy(w.servers[srv].id, w.servers[to].id) {
		// As with TCP, a lost message breaks the connection: both ends see it reset.
		w.trace.Kind = TrDrop
		w.emit(&w.trace)
		c.broken = true
		w.closeEnd(id, end)
		w.push(event{at: w.now.Add(w.drawDelay(w.servers[to].id, w.servers[srv].id)), kind: evFin, server: srv, inc: c.inc[end], conn: id})
		c.closed[end] = false // the sender learns of the reset by the evFin above
		return
	}
	if t := w.arrival(c, end); t != never {
		w.push(event{at: t, kind: evDeliver, server: to, inc: c.inc[1-end], conn: id, msg: *msg, link: link})
	}
}

// close closes srv's end of connection id; the other end sees EOF after a network delay.
func (w *World) close(srv int, id protocol.ConnID) {
	if id == 0 || int(id) >= len(w.conns) {
		return
	}
	c := &w.conns[id]
	end := w.endOf(c, srv)
	if c.closed[end] {
		return
	}
	w.closeEnd(id, end)
}

// closeEnd marks one end closed and sends the FIN (or reset) to the other end, behind
// whatever that end already sent.
func (w *World) closeEnd(id protocol.ConnID, end int) {
	c := &w.conns[id]
	c.closed[end] = true
	other := 1 - end
	if c.closed[other] {
		return
	}
	if t := w.arrival(c, end); t != never {
		w.push(event{at: t, kind: evFin, server: c.ends[other], inc: c.inc[other], conn: id})
	}
}

// connect starts a learner's connect to target's learner port; it fails after timeout if the
// SYN cannot get through.
func (w *World) connect(srv int, target protocol.ServerID, timeout time.Duration) {
	ti := w.Index(target)
	id := protocol.ConnID(len(w.conns))
	w.conns = append(w.conns, conn{id: id, ends: [2]int{srv, ti}, inc: [2]uint32{w.servers[srv].inc, 0}})
	c := &w.conns[id]
	c.deadline = w.now.Add(timeout)
	t := w.arrival(c, 0)
	if t == never || t > w.now.Add(timeout) {
		w.winNoDraw() // the SYN is never delivered: its delay stays the least
		w.push(event{at: w.now.Add(timeout), kind: evConnectFailed, server: srv, inc: c.inc[0], conn: id})
		return
	}
	w.push(event{at: t, kind: evConnectArrive, server: ti, conn: id})
}

// connectArrive: the SYN reaches the target. A server that is down or not leading refuses
// (RST), and so does a learner port that a refuse-connect fault closes; a listening leader's
// kernel accepts, and the learner sees the connection one delay later. A paused leader's
// kernel still accepts; its process takes the socket when it resumes.
func (w *World) connectArrive(ev *event) {
	c := &w.conns[ev.conn]
	learner := c.ends[0]
	if !w.servers[learner].up || w.servers[learner].inc != c.inc[0] {
		return
	}
	tgt := &w.servers[ev.server]
	if !tgt.up || !tgt.listening || w.refuses(tgt.id, w.servers[learner].id) {
		c.closed = [2]bool{true, true}
		w.push(event{at: w.now.Add(w.drawDelay(tgt.id, w.servers[learner].id)), kind: evConnectFailed, server: learner, inc: c.inc[0], conn: ev.conn, fault: connRefused})
		return
	}
	// The handshake needs the SYN-ACK back: while a one-way partition cuts it, the leader's
	// kernel never completes the connection (no accept), and the learner's connect times out
	// unless the cut heals first.
	if back := w.unblockedAt(tgt.id, w.servers[learner].id, w.now, PortLearner); back == never || back > c.deadline {
		c.closed = [2]bool{true, true}
		w.push(event{at: c.deadline, kind: evConnectFailed, server: learner, inc: c.inc[0], conn: ev.conn})
		return
	}
	c.inc[1] = tgt.inc
	c.accepted = true
	if tgt.paused || tgt.acceptFrom > w.now || tgt.busyUntil > w.now || tgt.waking {
		// The kernel completes the handshake; the process takes the socket when it resumes,
		// when its LearnerCnxAcceptor starts, or when it is done with what it was doing.
		accept := event{at: w.now, kind: evAccept, server: ev.server, inc: tgt.inc, conn: ev.conn}
		switch {
		case tgt.paused:
			tgt.held = append(tgt.held, accept)
		case tgt.acceptFrom > w.now:
			c.backlog = true
			accept.at = tgt.acceptFrom
			w.push(accept)
		default:
			tgt.held = append(tgt.held, accept)
			w.scheduleWake(ev.server)
		}
		if t := w.arrival(c, 1); t != never {
			w.push(event{at: t, kind: evConnected, server: learner, inc: c.inc[0], conn: ev.conn})
		}
		return
	}
	w.accept(ev.server, ev.conn)
	if c = &w.conns[ev.conn]; c.closed[1] {
		return
	}
	if t := w.arrival(c, 1); t != never {
		w.push(event{at: t, kind: evConnected, server: learner, inc: c.inc[0], conn: ev.conn})
	}
}

// accept hands an accepted connection to the leader's process.
func (w *World) accept(srv int, id protocol.ConnID) {
	c := &w.conns[id]
	c.backlog = false
	learner := w.servers[c.ends[0]].id
	w.emitSimple(TrAccepted, srv, learner, id, "")
	w.step(srv, protocol.Input{Kind: protocol.InputAccepted, Now: w.now, Conn: id, From: learner})
}

// nextLink issues the id that ties a message's send to its delivery (TraceEvent.Link).
func (w *World) nextLink() uint64 {
	w.links++
	return w.links
}
