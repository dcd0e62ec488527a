package sim

import (
	"cmp"
	"slices"

	"zabsim/protocol"
	"zabsim/statehash"
)

// StateWalker digests values the world does not know the insides of (its peers), by rules the
// caller keeps (package explore).
// Its Skip also says which parts of the world's own digest to leave out, by name ("sim.World.now",
// "sim.event.window", ...; StateParts lists them), so one set of rules covers both.
type StateWalker interface {
	Walk(h *statehash.H, c *statehash.Canon, v any)
	CollectGens(v any, gens *[]uint32)
	Skip(part string) bool
}

// StateParts names the parts of the world's digest a StateWalker may leave out.
var StateParts = []string{"sim.World.now", "sim.server.process", "sim.server.disk", "sim.server.peer",
	"sim.server.held", "sim.event.window", "sim.event.what", "sim.World.qcm", "sim.World.faults", "sim.World.conns"}

// AppendState digests everything of a windowed run that can change what happens next: the
// time, each server's process (its peer, walked by sw) and disk, the connections that are
// still named, the election transport, the faults, and the queued events with their windows.
// Left out, each because nothing reads it to decide anything: the trace hash, message ids
// (they tie trace lines together), push numbers beyond their order, the decision record, the
// PRNGs (a windowed run draws nothing), the FIFO bookkeeping of the plain world (lastArrive,
// lastArrival: windowed channels keep order by push order), the fault outcomes' notes and
// counters (the report), and events that would change nothing (quiet: dead processes, closed
// sockets, dead timers; they stay so). The event count is left out too: it matters only to the
// per-run event cap, which the explorer reports as a truncation, not as a verdict.
func (w *World) AppendState(h *statehash.H, c *statehash.Canon, sw StateWalker) {
	win := w.win
	if !sw.Skip("sim.World.now") {
		h.I64(int64(w.now))
		h.I64(int64(win.lastAt))
	}
	evs := slices.Concat(win.slots, win.exact)
	slices.SortFunc(evs, func(a, b int32) int { return cmp.Compare(w.queue.at(a).seq, w.queue.at(b).seq) })
	var gens []uint32
	for i := range w.servers {
		s := &w.servers[i]
		h.Bool(s.up)
		if !sw.Skip("sim.server.process") {
			h.Bool(s.listening)
			h.Bool(s.exited)
			h.String(s.refused)
			h.Bool(s.paused)
			h.I64(int64(s.pausedUntil))
			h.U64(uint64(s.pauseFault))
			for _, n := range s.writes {
				h.U64(uint64(n))
			}
		}
		if !sw.Skip("sim.server.disk") {
			sw.Walk(h, c, &s.disk)
		}
		if !s.up {
			continue
		}
		// Generations are ranked among those this server's peer holds and its timers carry.
		gens = gens[:0]
		sw.CollectGens(s.peer, &gens)
		for _, slot := range evs {
			if e := w.queue.at(slot); (e.kind == evTimer || e.kind == evResume) && e.server == i {
				gens = append(gens, e.timer.Gen)
			}
		}
		for k := range s.held {
			if s.held[k].kind == evTimer || s.held[k].kind == evResume {
				gens = append(gens, s.held[k].timer.Gen)
			}
		}
		c.SetGens(gens)
		if !sw.Skip("sim.server.peer") {
			sw.Walk(h, c, s.peer)
		}
		if sw.Skip("sim.server.held") {
			continue
		}
		h.U64(uint64(len(s.held)))
		for k := range s.held {
			w.eventState(h, c, sw, &s.held[k])
			if s.held[k].kind == evTimer || s.held[k].kind == evResume {
				h.U64(c.Gen(s.held[k].timer.Gen))
			}
		}
		for _, slot := range evs {
			if e := w.queue.at(slot); (e.kind == evTimer || e.kind == evResume) && e.server == i {
				h.U64(c.Gen(e.timer.Gen)) // in the queue's walk below without a server's ranks
			}
		}
	}
	c.SetGens(nil)
	h.U64(uint64(len(evs)))
	for _, slot := range evs {
		e := w.queue.at(slot)
		wi := &win.info[slot]
		if !sw.Skip("sim.event.what") {
			w.eventState(h, c, sw, e)
		}
		if !sw.Skip("sim.event.window") {
			h.I64(int64(wi.lo))
			h.I64(int64(wi.hi))
		}
		h.Bool(e.seq < win.lastSeq)
		if wi.ch > 0 {
			ch := wi.ch - 1
			h.U64(c.Conn(protocol.ConnID(ch/2))*2 + uint64(ch%2))
		} else {
			h.I64(wi.ch)
		}
	}
	// The election transport, per pair.
	q := &w.qcm
	for k := range q.queued {
		if sw.Skip("sim.World.qcm") {
			break
		}
		h.Bool(q.queued[k])
		if q.queued[k] {
			sw.Walk(h, c, &q.queue[k])
		}
		h.Bool(q.sent[k])
		if q.sent[k] {
			sw.Walk(h, c, &q.lastSent[k])
		}
		h.Bool(q.everQueued[k])
		h.I64(int64(q.dialing[k]))
		h.I64(int64(q.halfOpen[k]))
		h.Bool(q.up[k])
	}
	// Faults: armed and fired, with the write counts crash points count from.
	for i := range w.spec.Faults {
		if sw.Skip("sim.World.faults") {
			break
		}
		h.U64(uint64(w.applied[i]))
		h.Bool(w.armed[i])
		h.Bool(w.fired[i])
		h.U64(uint64(w.base[i]))
	}
	h.Bool(win.baseTaken && win.baseAt == w.now)
	if win.baseTaken && win.baseAt == w.now {
		for i := range win.base {
			for _, n := range win.base[i] {
				h.U64(uint64(n))
			}
		}
	}
	// The connections named so far (the list grows as conns are digested: none names another).
	for n := 0; n < len(c.Conns()) && !sw.Skip("sim.World.conns"); n++ {
		id := c.Conns()[n]
		if int(id) >= len(w.conns) {
			h.U64(0)
			continue
		}
		cn := &w.conns[id]
		for end := 0; end < 2; end++ {
			s := &w.servers[cn.ends[end]]
			h.U64(uint64(cn.ends[end]))
			h.Bool(cn.inc[end] == s.inc && s.up)
			h.Bool(cn.closed[end])
		}
		h.Bool(cn.broken)
		h.Bool(cn.accepted)
		h.Bool(cn.backlog)
		h.I64(int64(cn.deadline))
	}
}

// eventState digests one queued or held event: what it is and whom it is for, not when it was
// pushed.
func (w *World) eventState(h *statehash.H, c *statehash.Canon, sw StateWalker, e *event) {
	h.U64(uint64(e.kind))
	h.I64(int64(e.server))
	if e.server >= 0 {
		s := &w.servers[e.server]
		h.Bool(e.inc == s.inc)
		if e.kind == evBooted {
			h.Bool(e.inc == s.bootSeq)
		}
	}
	if e.kind == evDial && e.fault >= 0 && e.fault < len(w.servers) {
		h.Bool(e.peerInc == w.servers[e.fault].inc)
	}
	h.U64(c.Conn(e.conn))
	h.I64(int64(e.fault))
	if e.kind == evTimer || e.kind == evResume {
		h.U64(uint64(e.timer.Kind))
		h.U64(c.Conn(e.timer.Conn))
	}
	if e.kind == evDeliver || e.kind == evNotify {
		sw.Walk(h, c, &e.msg)
	}
	if e.kind == evConnectLater {
		h.U64(e.link) // a connect timeout here, not a message id
	}
}
