package sim

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"zabsim/protocol"
)

// Windowed mode: the world offers its choices to a Chooser instead of drawing them, for the
// explorer (package explore), which enumerates them.
//
// Every queued event has a window [lo, hi] of times it may happen at: a message, FIN or SYN
// from its send plus the least delay to that plus the jitter (after any partition's hold); a
// jittered timer from its deadline to the deadline plus its jitter; everything else exactly
// at its time. An event may go next when it heads its FIFO channel (a connection's direction,
// an election pair) and no other event's window must close first; it then happens at the
// earliest time its window and the events before it allow. So every windowed run is a run the
// plain world can make: each delay falls in its range, and the times chosen are written back
// as the run's decisions (delay = delivery - send), which a plain replay follows to the same
// trace. Ties at one instant go by push order as in the plain world; an event chosen before an
// earlier-pushed one at that instant happens 1 ns later, so a replay needs no tie-break record.
//
// Besides the next event, a step boundary may take a fault (a crash of a running server, a
// restart of a stopped one), a durable write may fail or crash its server, and threads woken
// together may run in any order. Each becomes an ordinary scheduled fault or decision of the
// run's spec, so the run file the explorer saves replays in the plain world.
//
// Events that would change nothing when they come (meant for a dead process or a closed
// socket, dead timers) are not offered: they happen at their earliest time, as counted events,
// so the event numbers of the trace stay those of the plain replay.
//
// Not in windowed mode: message loss and processing time (their draws are not yet choices), and
// a late first start (a server's start is not held back by a choice).

// ChoiceKind says what a choice is about.
type ChoiceKind uint8

const (
	// ChoiceEvent: which enabled event happens next (option 0: the earliest).
	ChoiceEvent ChoiceKind = iota + 1
	// ChoiceCrash: Server's process is killed at this step boundary.
	ChoiceCrash
	// ChoiceRestart: Server, not running, is started at this step boundary.
	ChoiceRestart
	// ChoiceWriteOK: Server's durable write of kind Write goes through (option 0 of a write).
	ChoiceWriteOK
	// ChoiceWriteCrash: Server crashes at its write of kind Write (Point: before, torn, after).
	ChoiceWriteCrash
	// ChoiceWriteFails: Server's write of kind Write throws an IOException.
	ChoiceWriteFails
	// ChoiceOrder: the threads Server woke together run in the order of rank Rank (0: as woken).
	ChoiceOrder
)

var choiceKindNames = [...]string{ChoiceEvent: "event", ChoiceCrash: "crash", ChoiceRestart: "restart",
	ChoiceWriteOK: "write ok", ChoiceWriteCrash: "crash at write", ChoiceWriteFails: "write fails", ChoiceOrder: "order"}

func (k ChoiceKind) String() string {
	if int(k) < len(choiceKindNames) && choiceKindNames[k] != "" {
		return choiceKindNames[k]
	}
	return fmt.Sprintf("ChoiceKind(%d)", k)
}

// Choice is one option at a choice point.
type Choice struct {
	Kind   ChoiceKind
	Server protocol.ServerID
	// At is when the option happens.
	At protocol.Time
	// Write and Point: the write an option of a write is about, and where a crash falls.
	Write protocol.WriteKind
	Point CrashPoint
	// Rank is a thread order's rank (ChoiceOrder); N the number of threads.
	Rank int64
	N    int
	// slot is a ChoiceEvent's event, for Describe while the choice is being made.
	slot int32
}

// Chooser makes a windowed run's choices. Choose gets the options of one choice point, the
// default first, and returns the index of the one taken, or -1 to end the run there. It is
// asked only where there are at least two options; it may read the world, not change it.
type Chooser interface {
	Choose(w *World, opts []Choice) int
}

// windowed is the state of a windowed run.
type windowed struct {
	chooser Chooser
	slots   []int32   // queued events (slab slots), in push order
	quiet   []int32   // queued events that would change nothing (World.quiet)
	exact   []int32   // queued events at one exact time in no channel, in (at, seq) order
	info    []winInfo // per slab slot
	draw    winInfo   // the window the next push takes (drawDelay, winJitter)
	// lastAt, lastSeq: the time and push number of the last event dispatched.
	lastAt  protocol.Time
	lastSeq uint64
	opts    []Choice
	seen    map[int64]struct{} // scratch: channels whose head is found (only looked up)
	// base: every server's writes of each kind when this instant's first event that is not a
	// start or fault came (a write fault chosen now is armed, in the replay, at that point).
	base      [][protocol.WriteClearUpdatingEpochMarker + 1]int
	baseAt    protocol.Time
	baseTaken bool
	// inFault: a start or fault is being dispatched (its writes cannot take a write fault: in
	// the replay the fault would be armed after them).
	inFault bool
	// Horizon: no fault is offered after it (0: none is offered at all).
	horizon protocol.Time
	// faults, writes: whether boundary faults and write outcomes are offered (thread orders
	// always are).
	faults, writes bool
}

// winInfo is a queued event's window.
type winInfo struct {
	lo, hi protocol.Time
	lo0    protocol.Time // lo before a FIFO predecessor's delivery lifted it
	off    time.Duration // the decision's value at lo0 (the least delay; 0 for a jitter)
	span   time.Duration // how far above off the value may go
	dec    int32         // index+1 of the event's decision in World.decisions (0: none)
	ch     int64         // FIFO channel (0: none)
}

// ChooserOptions say what a windowed run offers besides the order of events.
type ChooserOptions struct {
	// FaultsUntil: crashes and restarts are offered at step boundaries up to this time
	// (0: never).
	FaultsUntil protocol.Time
	// WriteFaults: every durable write outside a start may crash its server or fail.
	WriteFaults bool
}

// SetChooser makes the run windowed: call it after Reset and before Run. It fails for a spec
// whose randomness windowed mode does not enumerate yet.
func (w *World) SetChooser(c Chooser, o ChooserOptions) error {
	if !w.spec.Options.Processing.IsZero() {
		return fmt.Errorf("windowed runs do not take processing time yet")
	}
	if w.spec.Options.MessageLossProbability.Num != 0 {
		return fmt.Errorf("windowed runs do not take message loss yet")
	}
	if w.spec.Decisions != nil {
		return fmt.Errorf("a windowed run makes its own decisions; it cannot follow recorded ones")
	}
	if w.result.Events != 0 {
		return fmt.Errorf("SetChooser after the run began")
	}
	win := &windowed{chooser: c, horizon: o.FaultsUntil, faults: o.FaultsUntil > 0, writes: o.WriteFaults}
	win.base = make([][protocol.WriteClearUpdatingEpochMarker + 1]int, len(w.servers))
	// The events Reset queued move to the windowed list, exact at their times, in push order.
	win.seen = map[int64]struct{}{}
	for w.queue.len() > 0 {
		slot, _ := w.queue.pop()
		win.add(&w.queue, slot, winInfo{})
	}
	slices.SortFunc(win.slots, func(a, b int32) int { return cmp.Compare(w.queue.at(a).seq, w.queue.at(b).seq) })
	w.win = win
	w.record = true
	return nil
}

func (win *windowed) add(q *eventQueue, slot int32, wi winInfo) {
	e := q.at(slot)
	if wi.dec == 0 && wi.span == 0 {
		wi.lo, wi.hi, wi.lo0 = e.at, e.at, e.at
	}
	for int(slot) >= len(win.info) {
		win.info = append(win.info, winInfo{})
	}
	win.info[slot] = wi
	if wi.ch == 0 && wi.lo == wi.hi {
		// Exact and in no channel: only the earliest of these can go next (any other has a
		// later time, or the same time and a later push), so they wait in time order.
		i, _ := slices.BinarySearchFunc(win.exact, slot, func(a, _ int32) int {
			if c := cmp.Compare(win.info[a].lo, wi.lo); c != 0 {
				return c
			}
			return cmp.Compare(q.at(a).seq, e.seq)
		})
		win.exact = slices.Insert(win.exact, i, slot)
		return
	}
	win.slots = append(win.slots, slot)
}

// winPush queues e with the window the last draw set up.
func (w *World) winPush(e *event) {
	q := &w.queue
	slot := q.store(e)
	wi := w.win.draw
	w.win.draw = winInfo{}
	if wi.dec != 0 || wi.span != 0 {
		wi.lo, wi.lo0, wi.hi = e.at, e.at, e.at.Add(wi.span)
	}
	w.win.add(q, slot, wi)
}

// winDelay is drawDelay in windowed mode: the least delay, its decision left to be filled in
// when the event happens.
func (w *World) winDelay(from, to protocol.ServerID) time.Duration {
	min := w.spec.Options.OneWayDelayMin
	w.decisions = append(w.decisions, Decision{Event: w.result.Events, Kind: DecideDelay, A: from, B: to, Value: int64(min)})
	w.win.draw = winInfo{off: min, span: w.spec.Options.OneWayDelayJitter, dec: int32(len(w.decisions))}
	return min
}

// winJitter sets up the window of a jittered timer about to be pushed at its deadline.
func (w *World) winJitter(id protocol.ServerID, jitter time.Duration) {
	w.decisions = append(w.decisions, Decision{Event: w.result.Events, Kind: DecideJitter, A: id})
	w.win.draw = winInfo{span: jitter, dec: int32(len(w.decisions))}
}

// winNoDraw drops the window of a draw whose event is not pushed (its decision keeps the least
// value).
func (w *World) winNoDraw() {
	if w.win != nil {
		w.win.draw = winInfo{}
	}
}

// winOrder asks the chooser for the order of n threads woken together.
func (w *World) winOrder(id protocol.ServerID, n int) int64 {
	win := w.win
	f := factorial(n)
	win.opts = win.opts[:0]
	for r := int64(0); r < f; r++ {
		win.opts = append(win.opts, Choice{Kind: ChoiceOrder, Server: id, At: w.now, Rank: r, N: n})
	}
	rank := int64(0)
	if k := win.chooser.Choose(w, win.opts); k > 0 && k < len(win.opts) {
		rank = int64(k)
	} else if k < 0 {
		w.stopped = true
	}
	w.decisions = append(w.decisions, Decision{Event: w.result.Events, Kind: DecideOrder, A: id, B: protocol.ServerID(n), Value: rank})
	return rank
}

// winWrite asks the chooser what becomes of server srv's write of kind k (s.writes already
// counts it). A crash or failure becomes a scheduled fault armed at this instant, which the
// write loop of persist then fires.
func (w *World) winWrite(srv int, k protocol.WriteKind) {
	win := w.win
	if !win.writes || win.inFault || w.stopped {
		return
	}
	s := &w.servers[srv]
	win.opts = append(win.opts[:0],
		Choice{Kind: ChoiceWriteOK, Server: s.id, At: w.now, Write: k},
		Choice{Kind: ChoiceWriteCrash, Server: s.id, At: w.now, Write: k, Point: CrashBefore})
	if k == protocol.WriteCurrentEpoch {
		win.opts = append(win.opts, Choice{Kind: ChoiceWriteCrash, Server: s.id, At: w.now, Write: k, Point: CrashTorn})
	}
	win.opts = append(win.opts,
		Choice{Kind: ChoiceWriteCrash, Server: s.id, At: w.now, Write: k, Point: CrashAfter},
		Choice{Kind: ChoiceWriteFails, Server: s.id, At: w.now, Write: k})
	c := win.chooser.Choose(w, win.opts)
	if c < 0 {
		w.stopped = true
		return
	}
	if c == 0 || c >= len(win.opts) {
		return
	}
	o := win.opts[c]
	f := Fault{Kind: FaultCrashPoint, At: w.now, Server: s.id, Write: k, Point: o.Point,
		Occurrence: s.writes[k] - win.base[srv][k]}
	if o.Kind == ChoiceWriteFails {
		f.Kind, f.Point = FaultDiskWrite, 0
	}
	i := w.addFault(f)
	w.applied[i], w.armed[i], w.base[i] = 1, true, win.base[srv][k]
	w.outcomes[i].At = w.now
}

// FaultObserver is an Observer that wants to know of a fault a windowed run added to its spec
// (the replay has it from the start): the checker's liveness bound counts from the last fault.
type FaultObserver interface {
	OnFaultAdded(w *World)
}

// addFault appends a fault to the run's spec (the explorer gives each run its own copy).
func (w *World) addFault(f Fault) int {
	w.spec.Faults = append(w.spec.Faults, f)
	w.armed, w.fired, w.base = append(w.armed, false), append(w.fired, false), append(w.base, 0)
	w.outcomes, w.applied, w.refusedCount = append(w.outcomes, FaultOutcome{}), append(w.applied, 0), append(w.refusedCount, 0)
	for _, o := range w.obs {
		if fo, ok := o.(FaultObserver); ok {
			fo.OnFaultAdded(w)
		}
	}
	return len(w.spec.Faults) - 1
}

// point is when event e could happen next: its window's start, but not before the last event,
// and 1 ns after it when e was pushed before the last event and would tie with it.
func (win *windowed) point(e *event, wi *winInfo) protocol.Time {
	t := max(wi.lo, win.lastAt)
	if t == win.lastAt && e.seq < win.lastSeq {
		t++
	}
	return t
}

// pending is one queued event as a windowed step sees it.
type pending struct {
	slot int32
	t    protocol.Time // when it would happen next
	seq  uint64
	head bool // first of its FIFO channel
}

func (w *World) runWindowed() Result {
	win := w.win
	budget := w.spec.MaxEvents
	if budget == 0 {
		budget = DefaultMaxEvents
	}
	var ps []pending
	for !w.stopped {
		if w.result.Events >= budget || uint64(len(win.slots)+len(win.quiet)+len(win.exact)) > budget/4 {
			w.result.Truncated, w.result.Stop = true, StopEvents
			break
		}
		ps = w.winPending(ps[:0])
		// dl: the earliest (hi, seq) of the channel heads: whatever happens next happens no
		// later. An event behind its channel's head waits for it whatever its own window says
		// (the head's delivery lifts it), as the plain world's FIFO order makes it.
		dl, dlSeq := protocol.Time(1<<62), uint64(1<<63)
		for i := range ps {
			if !ps[i].head {
				continue
			}
			wi := &win.info[ps[i].slot]
			if wi.hi < dl || (wi.hi == dl && ps[i].seq < dlSeq) {
				dl, dlSeq = wi.hi, ps[i].seq
			}
		}
		win.opts = win.opts[:0]
		for i := range ps {
			p := &ps[i]
			if p.head && (p.t < dl || (p.t == dl && p.seq <= dlSeq)) && p.t <= w.spec.Until {
				win.opts = append(win.opts, Choice{Kind: ChoiceEvent, Server: w.eventServer(w.queue.at(p.slot)), At: p.t, slot: p.slot})
			}
		}
		slices.SortFunc(win.opts, func(a, b Choice) int {
			if c := cmp.Compare(a.At, b.At); c != 0 {
				return c
			}
			return cmp.Compare(w.queue.at(a.slot).seq, w.queue.at(b.slot).seq)
		})
		events := len(win.opts)
		if t := win.lastAt + 1; win.faults && t <= win.horizon && t < dl && t <= w.spec.Until && w.result.Events > 0 {
			for i := range w.servers {
				s := &w.servers[i]
				if s.up || s.booting {
					win.opts = append(win.opts, Choice{Kind: ChoiceCrash, Server: s.id, At: t})
				} else {
					win.opts = append(win.opts, Choice{Kind: ChoiceRestart, Server: s.id, At: t})
				}
			}
		}
		if len(win.opts) == 0 {
			w.winStop()
			break
		}
		if events == 0 {
			// Only faults are possible: the default is that nothing more happens.
			win.opts = slices.Insert(win.opts, 0, Choice{Kind: ChoiceEvent, At: -1, slot: -1})
		}
		k := 0
		if len(win.opts) > 1 {
			k = win.chooser.Choose(w, win.opts)
		}
		if k < 0 || k >= len(win.opts) {
			w.stopped = true
			break
		}
		o := win.opts[k]
		if o.Kind == ChoiceEvent && o.slot < 0 {
			w.winStop()
			break
		}
		if o.Kind != ChoiceEvent {
			if w.winDrainQuiet(o.At, 0) || w.winFault(o) {
				break
			}
			continue
		}
		if w.winDrainQuiet(o.At, w.queue.at(o.slot).seq) {
			break
		}
		if w.winDispatch(o.slot, win.point(w.queue.at(o.slot), &win.info[o.slot])) {
			break
		}
	}
	w.winEnd()
	return w.finish()
}

// addQuiet files slot among the quiet events, kept in (lo, seq) order: a long run has
// thousands (superseded read timeouts), so the earliest must not need a scan.
func (w *World) addQuiet(slot int32) {
	win := w.win
	key := func(s int32) (protocol.Time, uint64) { return win.info[s].lo, w.queue.at(s).seq }
	lo, seq := key(slot)
	i, _ := slices.BinarySearchFunc(win.quiet, slot, func(a, _ int32) int {
		alo, aseq := key(a)
		if c := cmp.Compare(alo, lo); c != 0 {
			return c
		}
		return cmp.Compare(aseq, seq)
	})
	win.quiet = slices.Insert(win.quiet, i, slot)
}

// winStop ends a run with nothing more to choose before Until: what is quiet happens as in
// the plain world, which runs until its queue is empty or its next event is after Until.
func (w *World) winStop() {
	if w.winDrainQuiet(w.spec.Until+1, 0) {
		return
	}
	if w.Pending() == 0 {
		w.result.Stop = StopQuiet
	} else {
		w.result.Stop = StopUntil
	}
}

// winDrainQuiet processes the quiet events that come before (t, seq), each at its earliest
// time, in push order. It reports true when the run is over.
func (w *World) winDrainQuiet(t protocol.Time, seq uint64) bool {
	win := w.win
	for len(win.quiet) > 0 {
		best := 0 // win.quiet is in (lo, seq) order
		slot := win.quiet[best]
		e := w.queue.at(slot)
		pt := win.point(e, &win.info[slot])
		if pt > t || (pt == t && e.seq >= seq) {
			return false
		}
		win.quiet = slices.Delete(win.quiet, best, best+1)
		if w.winDispatch(slot, pt) {
			return true
		}
	}
	return false
}

// winEnd gives every event still queued when the run ended the latest time its window
// allows: by the window rule that is after the run's last event, so the plain replay ends
// where this run did and does not deliver them first.
func (w *World) winEnd() {
	win := w.win
	for _, slot := range slices.Concat(win.slots, win.quiet, win.exact) {
		if wi := &win.info[slot]; wi.dec != 0 {
			w.decisions[wi.dec-1].Value = int64(min(time.Duration(wi.hi-wi.lo0)+wi.off, wi.off+wi.span))
		}
	}
}

// winPending lists the queued events with when each could happen, whether it heads its
// channel, and whether it would change nothing.
func (w *World) winPending(ps []pending) []pending {
	win := w.win
	// What has become quiet leaves the list for good (it stays quiet) and waits in win.quiet
	// until something after it happens (winDrainQuiet).
	kept := win.slots[:0]
	for _, slot := range win.slots {
		e := w.queue.at(slot)
		if w.quiet(e) {
			w.addQuiet(slot)
			continue
		}
		kept = append(kept, slot)
		ps = append(ps, pending{slot: slot, t: win.point(e, &win.info[slot]), seq: e.seq, head: true})
	}
	win.slots = kept
	for len(win.exact) > 0 && w.quiet(w.queue.at(win.exact[0])) {
		w.addQuiet(win.exact[0])
		win.exact = win.exact[1:]
	}
	if len(win.exact) > 0 {
		slot := win.exact[0]
		e := w.queue.at(slot)
		ps = append(ps, pending{slot: slot, t: win.point(e, &win.info[slot]), seq: e.seq, head: true})
	}
	// slots are in push order, so the first event seen of a channel is its head.
	clear(win.seen)
	for i := range ps {
		if ch := win.info[ps[i].slot].ch; ch != 0 {
			if _, ok := win.seen[ch]; ok {
				ps[i].head = false
			} else {
				win.seen[ch] = struct{}{}
			}
		}
	}
	return ps
}

// winDispatch takes the event in slot off the list and processes it at t: its decision gets
// the delay or jitter that time means, and the next event of its channel can come no sooner
// than 1 ns after it. It reports true when the run is over (stable).
func (w *World) winDispatch(slot int32, t protocol.Time) bool {
	win := w.win
	if len(win.exact) > 0 && win.exact[0] == slot {
		win.exact = win.exact[1:]
	} else if i := slices.Index(win.slots, slot); i >= 0 {
		win.slots = slices.Delete(win.slots, i, i+1)
	}
	e := w.queue.at(slot)
	wi := win.info[slot]
	e.at = t
	if wi.dec != 0 {
		v := min(time.Duration(t-wi.lo0)+wi.off, wi.off+wi.span)
		w.decisions[wi.dec-1].Value = int64(v)
	}
	if wi.ch != 0 {
		next := int32(-1)
		for _, s := range win.slots {
			if win.info[s].ch == wi.ch {
				next = s // the earliest pushed: slots are in push order
				break
			}
		}
		if next >= 0 {
			ni := &win.info[next]
			ni.lo, ni.hi = max(ni.lo, t+1), max(ni.hi, t+1)
		}
	}
	win.lastAt, win.lastSeq = t, e.seq
	fault := e.kind == evStart || e.kind == evFault
	if !fault && (!win.baseTaken || win.baseAt != t) {
		win.baseTaken, win.baseAt = true, t
		for i := range w.servers {
			win.base[i] = w.servers[i].writes
		}
	}
	win.inFault = fault
	ev := *e // the slot may be reused by what the dispatch pushes
	w.queue.release(slot)
	stable := w.process(&ev)
	win.inFault = false
	return stable
}

// winFault injects a chosen crash or restart at its boundary time, as a scheduled fault.
func (w *World) winFault(o Choice) bool {
	win := w.win
	f := Fault{Kind: FaultCrash, At: o.At, Server: o.Server}
	if o.Kind == ChoiceRestart {
		f.Kind = FaultRestart
	}
	i := w.addFault(f)
	win.lastAt, win.lastSeq = o.At, 0 // in the replay the fault was queued first of all
	win.inFault = true
	ev := event{at: o.At, kind: evFault, fault: i, server: -1}
	stable := w.process(&ev)
	win.inFault = false
	return stable
}

// quiet reports whether dispatching e now would change nothing but the event count: it is
// meant for a process that has died, a socket that is closed, or it is a dead timer. Such
// an event stays quiet: incarnations, closed ends and timer generations only move on.
func (w *World) quiet(e *event) bool {
	switch e.kind {
	case evStart, evFault, evClient, evDial:
		return false
	case evConnectArrive:
		c := &w.conns[e.conn]
		l := &w.servers[c.ends[0]]
		return !l.up || l.inc != c.inc[0]
	case evBooted:
		s := &w.servers[e.server]
		return !s.booting || s.bootSeq != e.inc
	}
	s := &w.servers[e.server]
	if !s.up || s.inc != e.inc {
		return true
	}
	if s.paused {
		return false
	}
	switch e.kind {
	case evDeliver, evFin:
		c := &w.conns[e.conn]
		return c.closed[w.endOf(c, e.server)]
	case evTimer:
		return !w.timerLive(s.peer, e.timer)
	case evListen:
		return s.listenSeq != uint32(e.fault)
	}
	return false
}

// eventServer is the server an event happens at, for a choice's description.
func (w *World) eventServer(e *event) protocol.ServerID {
	if e.server < 0 {
		if e.kind == evFault && e.fault >= 0 {
			return w.spec.Faults[e.fault].Server
		}
		return -1
	}
	return w.servers[e.server].id
}

// Describe says in words what a choice of the choice point being asked does.
func (w *World) Describe(c Choice) string {
	switch c.Kind {
	case ChoiceEvent:
		if c.slot < 0 {
			return "nothing more happens"
		}
		return fmt.Sprintf("%s at %s", w.describeEvent(w.queue.at(c.slot)), protocol.FormatTime(c.At))
	case ChoiceCrash:
		return fmt.Sprintf("crash s%d at %s", c.Server, protocol.FormatTime(c.At))
	case ChoiceRestart:
		return fmt.Sprintf("restart s%d at %s", c.Server, protocol.FormatTime(c.At))
	case ChoiceWriteOK:
		return fmt.Sprintf("s%d's %s write at %s goes through", c.Server, c.Write, protocol.FormatTime(c.At))
	case ChoiceWriteCrash:
		return fmt.Sprintf("s%d crashes %s its %s write at %s", c.Server, crashPointWhere[c.Point], c.Write, protocol.FormatTime(c.At))
	case ChoiceWriteFails:
		return fmt.Sprintf("s%d's %s write at %s fails (IOException)", c.Server, c.Write, protocol.FormatTime(c.At))
	case ChoiceOrder:
		return fmt.Sprintf("the %d threads s%d woke at %s run in order %v", c.N, c.Server, protocol.FormatTime(c.At), OrderOf(c.N, c.Rank))
	}
	return c.Kind.String()
}

func (w *World) describeEvent(e *event) string {
	srv := w.eventServer(e)
	switch e.kind {
	case evDeliver:
		c := &w.conns[e.conn]
		return fmt.Sprintf("%s s%d->s%d", e.msg.Type, w.servers[c.ends[1-w.endOf(c, e.server)]].id, srv)
	case evNotify:
		return fmt.Sprintf("notification s%d->s%d", w.servers[e.fault].id, srv)
	case evFin:
		return fmt.Sprintf("s%d sees conn %d close", srv, e.conn)
	case evTimer:
		return fmt.Sprintf("s%d's %s timer", srv, e.timer.Kind)
	case evConnectArrive:
		return fmt.Sprintf("SYN of s%d reaches s%d", w.servers[w.conns[e.conn].ends[0]].id, srv)
	case evConnected:
		return fmt.Sprintf("s%d's connect to s%d completes", srv, w.servers[w.conns[e.conn].ends[1]].id)
	case evConnectFailed:
		return fmt.Sprintf("s%d's connect fails", srv)
	case evDial:
		return fmt.Sprintf("election dial s%d->s%d", w.servers[e.fault].id, srv)
	case evResume:
		return fmt.Sprintf("s%d's woken thread %s runs", srv, e.timer.Kind)
	case evClient:
		return fmt.Sprintf("client write %d at s%d", e.fault+1, srv)
	case evStart:
		return fmt.Sprintf("s%d starts", srv)
	case evFault:
		return fmt.Sprintf("fault %d", e.fault+1)
	}
	return fmt.Sprintf("event %d at s%d", e.kind, srv)
}

// Windowed reports whether the run is windowed (SetChooser).
func (w *World) Windowed() bool { return w.win != nil }

// Pending reports how many events are queued (for the explorer's progress).
func (w *World) Pending() int {
	if w.win != nil {
		return len(w.win.slots) + len(w.win.quiet) + len(w.win.exact)
	}
	return w.queue.len()
}
