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
func blocks(f *Fault, a, b protocol.ServerID, port string) bool {
	if f.Port != "" && f.Port != port {
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
func (w *World) unblockedAt(a, b protocol.ServerID, t protocol.Time, port string) protocol.Time {
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
func (w *World) send(srv int, id protocol.ConnID, msg protocol.Message) {
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
	w.trace = TraceEvent{Kind: TrSend, Server: w.servers[srv].id, Peer: w.servers[to].id, Conn: id, Msg: msg, Link: link}
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
		w.push(event{at: t, kind: evDeliver, server: to, inc: c.inc[1-end], conn: id, msg: msg, link: link})
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
	w.conns = append(w.conns, conn{ends: [2]int{srv, ti}, inc: [2]uint32{w.servers[srv].inc, 0}})
	c := &w.conns[id]
	t := w.arrival(c, 0)
	if t == never || t > w.now.Add(timeout) {
		w.push(event{at: w.now.Add(timeout), kind: evConnectFailed, server: srv, inc: c.inc[0], conn: id})
		return
	}
	w.push(event{at: t, kind: evConnectArrive, server: ti, conn: id})
}

// connectArrive: the SYN reaches the target. A server that is down or not leading refuses
// (RST); a listening leader accepts and the learner sees the connection one delay later.
func (w *World) connectArrive(ev event) {
	c := &w.conns[ev.conn]
	learner := c.ends[0]
	if !w.servers[learner].up || w.servers[learner].inc != c.inc[0] {
		return
	}
	tgt := &w.servers[ev.server]
	if !tgt.up || !tgt.listening {
		c.closed = [2]bool{true, true}
		w.push(event{at: w.now.Add(w.drawDelay(tgt.id, w.servers[learner].id)), kind: evConnectFailed, server: learner, inc: c.inc[0], conn: ev.conn})
		return
	}
	c.inc[1] = tgt.inc
	c.accepted = true
	w.emitSimple(TrAccepted, ev.server, w.servers[learner].id, ev.conn, "")
	w.step(ev.server, protocol.Input{Kind: protocol.InputAccepted, Now: w.now, Conn: ev.conn, From: w.servers[learner].id})
	if c = &w.conns[ev.conn]; c.closed[1] {
		return
	}
	if t := w.arrival(c, 1); t != never {
		w.push(event{at: t, kind: evConnected, server: learner, inc: c.inc[0], conn: ev.conn})
	}
}

// notify sends an election notification from srv to `to` on the election port (spec §4.1:
// QuorumCnxManager keeps one connection per pair; a message to self is looped back at once).
// A partition holds it until the heal; order per pair is FIFO. A notification to a server that
// is down waits in the pair's send queue, which holds one message (a newer one replaces it), and
// goes out when that server starts and the connection is made.
func (w *World) notify(srv int, to protocol.ServerID, msg protocol.Message) {
	ti := w.Index(to)
	if ti < 0 {
		return
	}
	tgt := &w.servers[ti]
	link := w.nextLink()
	w.trace = TraceEvent{Kind: TrSend, Server: w.servers[srv].id, Peer: to, Msg: msg, Link: link}
	w.emit(&w.trace)
	if ti == srv {
		w.push(event{at: w.now, kind: evNotify, server: ti, inc: tgt.inc, msg: msg, fault: srv, link: link})
		return
	}
	if !tgt.up {
		k := srv*len(w.servers) + ti
		w.pendingNotify[k], w.pendingLink[k], w.hasPending[k] = msg, link, true
		return
	}
	w.deliverNotify(srv, ti, msg, link)
}

// deliverNotify puts a notification on the wire to a running server.
//
// While a partition cuts the pair, QuorumCnxManager's send queue (capacity one: a newer message
// replaces an older one) holds only the latest notification, which leaves when the cut heals;
// a partition does not pile up a backlog of stale rounds.
func (w *World) deliverNotify(srv, ti int, msg protocol.Message, link uint64) {
	tgt := &w.servers[ti]
	t := w.unblockedAt(w.servers[srv].id, tgt.id, w.now, PortElection)
	if t == never {
		return
	}
	if t != w.now {
		k := srv*len(w.servers) + ti
		if !w.hasPending[k] {
			w.push(event{at: t, kind: evNotifyHeal, server: ti, fault: srv})
		}
		w.pendingNotify[k], w.pendingLink[k], w.hasPending[k] = msg, link, true
		return
	}
	t = t.Add(w.drawDelay(w.servers[srv].id, tgt.id))
	last := &w.electLast[srv*len(w.servers)+ti]
	if t <= *last {
		t = *last + 1
	}
	*last = t
	w.push(event{at: t, kind: evNotify, server: ti, inc: tgt.inc, msg: msg, fault: srv, link: link})
}

// notifyHeal: the cut between a pair healed; send the one notification its queue holds.
func (w *World) notifyHeal(ev event) {
	k := ev.fault*len(w.servers) + ev.server
	if !w.hasPending[k] || !w.servers[ev.fault].up {
		return
	}
	w.hasPending[k] = false
	if w.servers[ev.server].up {
		w.deliverNotify(ev.fault, ev.server, w.pendingNotify[k], w.pendingLink[k])
	} else {
		w.hasPending[k] = true // the receiver is down: keep it for its start
	}
}

// flushNotifications sends what every running server queued for srv while it was down.
func (w *World) flushNotifications(srv int) {
	n := len(w.servers)
	for from := 0; from < n; from++ {
		k := from*n + srv
		if !w.hasPending[k] {
			continue
		}
		w.hasPending[k] = false
		if from != srv && w.servers[from].up {
			w.deliverNotify(from, srv, w.pendingNotify[k], w.pendingLink[k])
		}
	}
}

// dropQueuedNotifications forgets what a crashed server had queued for others.
func (w *World) dropQueuedNotifications(srv int) {
	n := len(w.servers)
	for to := 0; to < n; to++ {
		w.hasPending[srv*n+to] = false
	}
}

// nextLink issues the id that ties a message's send to its delivery (TraceEvent.Link).
func (w *World) nextLink() uint64 {
	w.links++
	return w.links
}
