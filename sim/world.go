package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"zabsim/protocol"
)

// Observer sees every trace event as it happens, and the world after every step. The checker
// is one; it reads the world through World's read-only methods and never changes it.
type Observer interface {
	OnTrace(w *World, e *TraceEvent)
	AfterStep(w *World)
}

// Mutator breaks the protocol on purpose, for tests that prove the checker notices. Input sees
// each input after the trace recorded it and before the peer does (return false to drop it);
// Effects may rewrite what a step emitted before the world applies it. Never set in real runs.
type Mutator struct {
	Input   func(id protocol.ServerID, in *protocol.Input) bool
	Effects func(id protocol.ServerID, effects []protocol.Effect) []protocol.Effect
}

// server is the world's record of one machine: its disk survives crashes; its process (peer)
// does not.
type server struct {
	id        protocol.ServerID
	peer      *protocol.QuorumPeer // nil while down
	spare     *protocol.QuorumPeer // a dead process's memory, reused by the next start
	disk      protocol.Disk
	log       []protocol.Txn // the array disk's txn log grows in (Disk.ApplyGrowing)
	inc       uint32         // incarnation: bumped at every crash
	up        bool
	listening bool
	exited    bool
	refused   string
	writes    [protocol.WriteClearUpdatingEpochMarker + 1]int // writes done, per kind
	// paused: the process is stopped (FaultPause) until pausedUntil; the events meant for it
	// wait in held, in the order they came, and are handed to it when it resumes.
	paused      bool
	pausedUntil protocol.Time
	pauseFault  int // the pause fault that stopped it
	held        []event
	// busyUntil: the process works on its own until then (Options.Processing) and what
	// reaches it waits in held; waking: an evWake for it is queued. acceptFrom: a new
	// leader's LearnerHandlers start then (Processing.Lead).
	busyUntil  protocol.Time
	waking     bool
	acceptFrom protocol.Time
	// booting: the process was started and is still in its Processing.Boot; bootSeq names
	// the boot its evBooted ends, bootWhy why it started. listenSeq names the latest
	// EffectListen, so that a bind delayed by Processing.Lead opens only the port still asked
	// for.
	booting   bool
	bootAt    protocol.Time // when the boot's evBooted is due
	bootLeft  time.Duration // what a pause (bootPaused) left of the boot
	bootPause bool
	bootSeq   uint32
	bootWhy   string
	bootFault int // the fault (index+1) that began the boot, 0 for none
	listenSeq uint32
}

// conn is one TCP connection: ends[0] is the learner that connected, ends[1] the leader.
type conn struct {
	id       protocol.ConnID
	ends     [2]int
	inc      [2]uint32
	closed   [2]bool // this end's socket is closed
	broken   bool    // a message was lost; nothing more gets through
	accepted bool    // the leader accepted it: until then there is no socket pair
	// backlog: the leader's kernel took it but its LearnerCnxAcceptor has not started yet
	// (Processing.Lead); what reaches the leader's end waits until the accept.
	backlog    bool
	lastArrive [2]protocol.Time // per direction (0: ends[0]→ends[1]), for FIFO order
	deadline   protocol.Time    // when the learner's connect gives up
}

// Result is what a run leaves behind besides what observers collected.
type Result struct {
	// Truncated: the run hit MaxEvents before Until.
	Truncated bool
	// Divergence says why a run that follows recorded decisions stopped ("" if it did not).
	Divergence string
	Events     uint64
	// DeadTimers counts the timers dropped unseen because their server would have ignored
	// them (World.dropTimer); Events counts them too.
	DeadTimers uint64
	End        protocol.Time
	TraceHash  uint64
	Probes     [protocol.ProbeCount]int
	// Stop says why the run ended: StopStable, StopUntil, StopQuiet (nothing left to
	// happen), StopEvents (the event budget), StopObserver or StopDivergence.
	Stop string
	// Faults says, per scheduled fault (same index as RunSpec.Faults), what became of it.
	Faults []FaultOutcome
}

// Why a run ended (Result.Stop).
const (
	StopStable     = "stable"     // StopWhenStable: synced to one leader, nothing left to fire
	StopUntil      = "until"      // the run reached RunSpec.Until
	StopQuiet      = "quiet"      // the event queue ran dry
	StopEvents     = "events"     // the event budget ran out (Truncated)
	StopObserver   = "observer"   // an observer stopped it (the first violation, say)
	StopDivergence = "divergence" // a replay asked a question its file does not answer
)

// FaultOutcome is what became of one scheduled fault, so that a report can show that every
// fault either happened or why it could not.
type FaultOutcome struct {
	// Happened: the fault took effect.
	Happened bool
	// At is when it took effect; for one that did not, when it was due.
	At protocol.Time
	// Note says what it did, or why it did not happen.
	Note string
}

// World is one simulated run.
type World struct {
	spec      *RunSpec
	cfg       protocol.Config
	now       protocol.Time
	seq       uint64
	queue     eventQueue
	servers   []server
	conns     []conn // index = ConnID; 0 unused
	netRand   *rand.Rand
	jitRand   *rand.Rand
	netPCG    *rand.PCG
	jitPCG    *rand.PCG
	procRand  *rand.Rand
	procPCG   *rand.PCG
	spares    []*protocol.QuorumPeer
	hash      hasher
	obs       []Observer
	effects   []protocol.Effect
	trace     TraceEvent
	result    Result
	armed     []bool // per fault: a crash point or disk fault is armed (its At has passed)
	fired     []bool // per fault: a crash point or disk fault has been used
	base      []int  // per fault: the server's count of that write kind when it was armed
	mutator   *Mutator
	record    bool
	decisions []Decision
	streams   map[decisionKey]*decisionStream
	// recordedKinds: the kinds of decision the followed file recorded at all (lookups only)
	recordedKinds map[DecisionKind]bool
	stableStop    bool
	mutIn         protocol.Input
	qcm           qcmState
	links         uint64 // message ids issued (TraceEvent.Link)
	stopped       bool
	changed       bool // a role changed or a fault happened in this step (for StopWhenStable)
	outcomes      []FaultOutcome
	applied       []uint8           // per fault: 1 once it was applied, 2 once a lasting fault ended too
	faultCause    int               // the fault (index+1) whose effects are being applied, for TraceEvent.Fault
	wakes         []protocol.Effect // threads woken together, waiting for runWoken to order them
	order         []int             // scratch for a drawn order
	refusedCount  []int             // per fault: connects a refuse-connect fault refused
	processing    bool              // Options.Processing is not zero: servers take time of their own
	// keepDeadTimers fires timers the peer would ignore, as the world did before it dropped
	// them (tests only: they show that dropping them changes nothing else).
	keepDeadTimers bool
	// liveOverride replaces QuorumPeer.TimerLive (tests only: a wrong one must be caught).
	liveOverride func(*protocol.QuorumPeer, protocol.TimerID) bool
	// win is the windowed mode's state (SetChooser); nil in a plain run.
	win *windowed
}

// NewWorld builds the world for spec. The spec must be valid (RunSpec.Validate).
func NewWorld(spec *RunSpec, observers ...Observer) *World {
	w := &World{}
	w.Reset(spec, observers...)
	return w
}

// Reset makes w a fresh world for spec, reusing its storage (and the memory of its peers)
// so that a sweep allocates almost nothing per run.
func (w *World) Reset(spec *RunSpec, observers ...Observer) {
	q := w.queue
	q.reset()
	spares := w.spares[:0]
	*w = World{spec: spec, cfg: spec.Config, obs: append(w.obs[:0], observers...),
		conns: append(w.conns[:0], conn{}), queue: q,
		servers: w.servers[:0], effects: w.effects[:0], netRand: w.netRand, jitRand: w.jitRand,
		qcm: w.qcm, wakes: w.wakes[:0], order: w.order[:0], decisions: w.decisions[:0],
		netPCG: w.netPCG, jitPCG: w.jitPCG, procRand: w.procRand, procPCG: w.procPCG,
		armed: resize(w.armed, len(spec.Faults)), fired: resize(w.fired, len(spec.Faults)), base: resize(w.base, len(spec.Faults)),
		outcomes: resize(w.outcomes, len(spec.Faults)), applied: resize(w.applied, len(spec.Faults)), refusedCount: resize(w.refusedCount, len(spec.Faults))}
	var master rand.PCG
	master.Seed(spec.Seed, 0x7a616273696d) // "zabsim"
	// Each subsystem draws from its own stream, so a change in how often one draws does not
	// shift the other's choices.
	if w.netPCG == nil {
		w.netPCG, w.jitPCG = new(rand.PCG), new(rand.PCG)
		w.netRand, w.jitRand = rand.New(w.netPCG), rand.New(w.jitPCG)
	}
	w.netPCG.Seed(master.Uint64(), master.Uint64())
	w.jitPCG.Seed(master.Uint64(), master.Uint64())
	w.processing = !spec.Options.Processing.IsZero()
	if w.processing {
		if w.procPCG == nil {
			w.procPCG = new(rand.PCG)
			w.procRand = rand.New(w.procPCG)
		}
		w.procPCG.Seed(master.Uint64(), master.Uint64())
	}
	w.hash.enc = protocol.NewHashEnc(fnvOffset)
	for i := range w.servers[:cap(w.servers)] {
		old := &w.servers[:cap(w.servers)][i]
		for _, p := range [2]*protocol.QuorumPeer{old.peer, old.spare} {
			if p != nil {
				spares = append(spares, p)
			}
		}
		*old = server{held: old.held[:0]} // no peer is collected twice by a later Reset
	}
	for _, sc := range spec.Config.Servers {
		s := server{id: sc.ID, disk: spec.DiskOf(sc.ID).Shared()}
		if i := len(w.servers); i < cap(w.servers) {
			s.held = w.servers[:cap(w.servers)][i].held[:0]
		}
		if n := len(spares); n > 0 {
			s.spare, spares = spares[n-1], spares[:n-1]
		}
		w.servers = append(w.servers, s)
	}
	w.spares = spares
	w.qcm.reset(len(w.servers))
	// Servers boot before the faults due at the same time: a crash at 0 kills a running process.
	for i := range w.servers {
		if !startsLate(spec, w.servers[i].id) {
			w.push(event{at: 0, kind: evStart, server: i})
		}
	}
	for i, f := range spec.Faults {
		w.push(event{at: f.At, kind: evFault, fault: i, server: -1})
	}
	for i, cw := range spec.Writes {
		w.push(event{at: cw.At, kind: evClient, server: w.Index(cw.Server), fault: i})
	}
}

func startsLate(spec *RunSpec, id protocol.ServerID) bool {
	for _, f := range spec.Faults {
		if f.Kind == FaultStart && f.Server == id {
			return true
		}
	}
	return false
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// SetMutator installs a Mutator (tests only).
func (w *World) SetMutator(m *Mutator) { w.mutator = m }

// Now is the current virtual time.
func (w *World) Now() protocol.Time { return w.now }

// Spec is the run's spec.
func (w *World) Spec() *RunSpec { return w.spec }

// Config is the cluster configuration.
func (w *World) Config() *protocol.Config { return &w.cfg }

// Servers lists the server ids in configuration order.
func (w *World) Servers() []protocol.ServerID {
	ids := make([]protocol.ServerID, len(w.servers))
	for i := range w.servers {
		ids[i] = w.servers[i].id
	}
	return ids
}

// ServerCount is the number of servers.
func (w *World) ServerCount() int { return len(w.servers) }

// ServerAt returns the id of the i-th server.
func (w *World) ServerAt(i int) protocol.ServerID { return w.servers[i].id }

// Up reports whether server i's process is running.
func (w *World) Up(i int) bool { return w.servers[i].up }

// View returns server i's peer view; ok is false while it is down.
func (w *World) View(i int) (protocol.View, bool) {
	s := &w.servers[i]
	if !s.up {
		return protocol.View{ID: s.id, State: protocol.LOOKING, Leader: -1, Epoch: -1}, false
	}
	return s.peer.View(), true
}

// Role returns server i's role; ok is false while it is down.
func (w *World) Role(i int) (protocol.Role, bool) {
	if s := &w.servers[i]; s.up {
		return s.peer.Role(), true
	}
	return protocol.Role{Leader: -1, Epoch: -1}, false
}

// Peer exposes server i's peer for read-only visits (VisitHandlers); nil while down.
func (w *World) Peer(i int) *protocol.QuorumPeer { return w.servers[i].peer }

// Disk returns server i's durable disk.
func (w *World) Disk(i int) *protocol.Disk { return &w.servers[i].disk }

// Index returns the index of server id, or -1.
func (w *World) Index(id protocol.ServerID) int {
	for i := range w.servers {
		if w.servers[i].id == id {
			return i
		}
	}
	return -1
}

// Refused returns why server i refused to start, or "".
func (w *World) Refused(i int) string { return w.servers[i].refused }

// Blocked reports whether a learner-port message from a to b would be held by a partition now.
func (w *World) Blocked(a, b protocol.ServerID) bool {
	return w.unblockedAt(a, b, w.now, PortLearner) != w.now
}

// BlockedElection is Blocked for election notifications.
func (w *World) BlockedElection(a, b protocol.ServerID) bool {
	return w.unblockedAt(a, b, w.now, PortElection) != w.now
}

// Events is the number of events processed so far.
func (w *World) Events() uint64 { return w.result.Events }

// Stop ends the run after the current step (an observer may call it).
func (w *World) Stop() { w.stopped = true }

func (w *World) push(e event) {
	w.seq++
	e.seq = w.seq
	if w.win != nil {
		w.winPush(&e)
		return
	}
	w.queue.push(&e)
}

// Run runs until the queue is empty, spec.Until passes, or the run is stopped.
func (w *World) Run() Result {
	if w.win != nil {
		return w.runWindowed()
	}
	budget := w.spec.MaxEvents
	if budget == 0 {
		budget = DefaultMaxEvents
	}
	for !w.stopped {
		// A storm grows the queue faster than it drains; bound the memory as well as the time.
		if w.result.Events >= budget || uint64(w.queue.len()) > budget/4 {
			w.result.Truncated, w.result.Stop = true, StopEvents
			break
		}
		slot, ok := w.queue.pop()
		if !ok {
			w.result.Stop = StopQuiet
			break
		}
		ev := w.queue.at(slot)
		if ev.at > w.spec.Until {
			w.queue.release(slot)
			w.result.Stop = StopUntil
			break
		}
		stable := w.process(ev)
		w.queue.release(slot)
		if stable {
			break
		}
	}
	return w.finish()
}

// process dispatches one event at its time, counts it and lets the observers judge the world
// after it. It reports true when the run is over because it became stable (StopWhenStable).
func (w *World) process(ev *event) bool {
	w.now = ev.at
	w.changed = false
	dead := w.result.DeadTimers
	w.dispatch(ev)
	w.result.Events++
	if w.result.DeadTimers != dead {
		return false // a dead timer dropped unseen: nothing happened to judge (dropTimer)
	}
	for _, o := range w.obs {
		o.AfterStep(w)
	}
	if w.spec.StopWhenStable && w.changed && w.stable() {
		w.stableStop, w.result.Stop = true, StopStable
		return true
	}
	return false
}

// finish closes a run: why it stopped, what became of its faults, its hash.
func (w *World) finish() Result {
	if w.stopped && w.result.Stop == "" {
		w.result.Stop = StopObserver
		if w.result.Divergence != "" {
			w.result.Stop = StopDivergence
		}
	}
	if w.result.Stop == StopUntil {
		w.now = max(w.now, w.spec.Until)
	}
	w.result.End = w.now
	w.finishOutcomes()
	w.result.Faults = w.outcomes
	w.result.TraceHash = w.hash.enc.H
	w.checkAllFollowed()
	return w.result
}

func (w *World) emit(e *TraceEvent) {
	e.At, e.Step = w.now, w.result.Events
	w.hash.event(e)
	for _, o := range w.obs {
		o.OnTrace(w, e)
	}
}

// emitSimple emits a trace line with only a kind, server, peer, conn and detail.
func (w *World) emitSimple(kind TraceKind, srv int, peer protocol.ServerID, c protocol.ConnID, detail string) {
	w.trace = TraceEvent{Kind: kind, Server: w.servers[srv].id, Peer: peer, Conn: c, Detail: detail, Fault: w.faultCause}
	w.emit(&w.trace)
}

func (w *World) dispatch(ev *event) {
	if ev.kind == evFault {
		w.applyFault(ev.fault)
		return
	}
	if ev.kind == evStart {
		w.startServer(ev.server, "boot")
		return
	}
	if ev.kind == evBooted {
		w.booted(ev)
		return
	}
	if ev.kind == evConnectLater {
		if s := &w.servers[ev.server]; s.up && s.inc == ev.inc {
			w.connect(ev.server, protocol.ServerID(ev.fault), time.Duration(ev.link))
		}
		return
	}
	if ev.kind == evListen {
		if s := &w.servers[ev.server]; s.up && s.inc == ev.inc && s.listenSeq == uint32(ev.fault) {
			s.listening = true
		}
		return
	}
	if ev.kind == evDial {
		w.dialArrives(ev)
		return
	}
	if ev.kind == evConnectArrive {
		// A SYN reaches a port, not a process: whoever runs there now answers it.
		w.connectArrive(ev)
		return
	}
	s := &w.servers[ev.server]
	if ev.kind == evClient {
		// A client's request reaches a machine, whichever process runs there now.
		ev.inc = s.inc
		if !s.up {
			w.trace = TraceEvent{Kind: TrReply, Server: s.id, Reply: protocol.Reply{Value: uint64(ev.fault) + 1, Code: protocol.ReplyNotServing}, Detail: "down"}
			w.emit(&w.trace)
			return
		}
	}
	if !s.up || s.inc != ev.inc {
		return // meant for a process that has since died
	}
	if s.paused {
		s.held = append(s.held, *ev) // it waits in the socket, or the timer fires late
		return
	}
	if ev.kind == evWake {
		w.wake(ev.server)
		return
	}
	if (ev.kind == evDeliver || ev.kind == evFin) && w.conns[ev.conn].backlog && w.conns[ev.conn].ends[1] == ev.server && s.acceptFrom > w.now {
		ev.at = s.acceptFrom // behind the accept, which was queued first
		w.push(*ev)
		return
	}
	if s.busyUntil > w.now || s.waking {
		// Busy, or others already wait: it queues behind them.
		s.held = append(s.held, *ev)
		w.scheduleWake(ev.server)
		return
	}
	in := protocol.Input{Now: w.now, Conn: ev.conn}
	switch ev.kind {
	case evTimer:
		if !w.keepDeadTimers && !w.processing && !w.timerLive(s.peer, ev.timer) {
			w.dropTimer(ev)
			return
		}
		in.Kind, in.Timer = protocol.InputTimer, ev.timer
		if ev.timer.Kind == protocol.TimerElection {
			in.HaveDelivered = w.haveDelivered(ev.server)
		}
		w.trace = TraceEvent{Kind: TrTimer, Server: s.id, Timer: ev.timer}
		w.emit(&w.trace)
	case evDeliver:
		c := &w.conns[ev.conn]
		end := w.endOf(c, ev.server)
		if c.closed[end] {
			return
		}
		in.Kind, in.Msg, in.From = protocol.InputMessage, ev.msg, w.servers[c.ends[1-end]].id
		w.trace = TraceEvent{Kind: TrRecv, Server: s.id, Peer: in.From, Conn: ev.conn, Msg: ev.msg, Link: ev.link}
		w.emit(&w.trace)
	case evFin:
		c := &w.conns[ev.conn]
		end := w.endOf(c, ev.server)
		if c.closed[end] {
			return
		}
		c.closed[end] = true
		in.Kind, in.From = protocol.InputClosed, w.servers[c.ends[1-end]].id
		w.emitSimple(TrClosed, ev.server, in.From, ev.conn, "")
	case evConnected:
		c := &w.conns[ev.conn]
		in.Kind, in.From = protocol.InputConnected, w.servers[c.ends[1]].id
		w.emitSimple(TrConnected, ev.server, in.From, ev.conn, "")
	case evAccept:
		w.accept(ev.server, ev.conn)
		return
	case evResume:
		in.Kind, in.Timer = protocol.InputResume, ev.timer
		w.trace = TraceEvent{Kind: TrRun, Server: s.id, Timer: ev.timer}
		w.emit(&w.trace)
	case evClient:
		in.Kind, in.Msg = protocol.InputClientRequest, protocol.Message{Type: protocol.REQUEST, Txn: protocol.Txn{Value: uint64(ev.fault) + 1}}
		w.trace = TraceEvent{Kind: TrClient, Server: s.id, Reply: protocol.Reply{Value: uint64(ev.fault) + 1}}
		w.emit(&w.trace)
	case evNotify:
		in.Kind, in.Msg, in.From = protocol.InputNotification, ev.msg, w.servers[ev.fault].id
		w.trace = TraceEvent{Kind: TrRecv, Server: s.id, Peer: in.From, Msg: ev.msg, Link: ev.link}
		w.emit(&w.trace)
	case evConnectFailed:
		c := &w.conns[ev.conn]
		c.closed = [2]bool{true, true}
		in.Kind, in.From = protocol.InputConnectFailed, w.servers[c.ends[1]].id
		why := "timed out"
		if ev.fault == connRefused {
			why = "refused"
		}
		w.emitSimple(TrConnectFailed, ev.server, in.From, ev.conn, why)
	}
	w.step(ev.server, in)
}

func (w *World) timerLive(p *protocol.QuorumPeer, t protocol.TimerID) bool {
	if w.liveOverride != nil {
		return w.liveOverride(p, t)
	}
	return p.TimerLive(t)
}

// dropTimer drops a dead timer unseen: a timer its running, ready server would ignore without
// changing a thing (protocol.QuorumPeer.TimerLive), one a newer timer of its kind superseded,
// which ZooKeeper never has (a socket's read timeout is reset by each read, not left to fire).
// In a generated run with writes nine in ten queued events are such timers, and nearly half
// the events processed. No observer sees it, no peer steps, nothing is judged after it. With
// processing time the world fires them as it did, because there each step costs a drawn time
// and dropping them would change the runs. It still counts as an event, and the trace hash digests the line its firing
// showed before the world dropped such timers, so that event numbers and hashes of recorded
// runs stay what they were (the hash covers every line the trace shows, and these).
func (w *World) dropTimer(ev *event) {
	w.result.DeadTimers++
	w.trace = TraceEvent{Kind: TrTimer, Server: w.servers[ev.server].id, Timer: ev.timer, At: w.now, Step: w.result.Events}
	w.hash.event(&w.trace)
}

func (w *World) endOf(c *conn, srv int) int {
	if c.ends[0] == srv {
		return 0
	}
	return 1
}

// step hands one input to a peer and applies its effects in order (see protocol.Effect). A
// failed write stops the step and is answered with InputWriteFailed; a crash point stops it
// for good.
func (w *World) step(srv int, in protocol.Input) {
	for {
		s := &w.servers[srv]
		if w.mutator != nil && w.mutator.Input != nil {
			w.mutIn = in // a field, so that taking its address does not move every input to the heap
			if !w.mutator.Input(s.id, &w.mutIn) {
				return
			}
			in = w.mutIn
		}
		w.effects = s.peer.Step(in, w.effects[:0])
		if w.mutator != nil && w.mutator.Effects != nil {
			w.effects = w.mutator.Effects(s.id, w.effects)
		}
		failed, ok := w.apply(srv, w.effects)
		if ok {
			w.work(srv, in)
			return
		}
		in = protocol.Input{Kind: protocol.InputWriteFailed, Now: w.now, Write: failed, Disk: s.disk}
	}
}

// apply performs effects in order. It returns false with the failed write when a write fails.
func (w *World) apply(srv int, effects []protocol.Effect) (protocol.DiskWrite, bool) {
	s := &w.servers[srv]
	inc := s.inc
	var setup time.Duration // a new learner's set-up (Processing.Lead) delays its connect
	for i := range effects {
		if !s.up || s.inc != inc {
			return protocol.DiskWrite{}, true // crashed in the middle of the step
		}
		e := &effects[i]
		switch e.Kind {
		case protocol.EffectSend:
			w.send(srv, e.Conn, &e.Msg)
		case protocol.EffectConnect:
			if setup > 0 {
				w.push(event{at: w.now.Add(setup), kind: evConnectLater, server: srv, inc: s.inc, fault: int(e.To), link: uint64(e.After)})
			} else {
				w.connect(srv, e.To, e.After)
			}
		case protocol.EffectClose:
			w.close(srv, e.Conn)
		case protocol.EffectSetTimer:
			after := e.After
			if e.Jitter > 0 && w.win != nil {
				w.winJitter(s.id, e.Jitter)
			} else if e.Jitter > 0 {
				j := int64(e.Jitter)
				after += time.Duration(w.decide(DecideJitter, s.id, 0, func() int64 { return w.jitRand.Int64N(j + 1) }))
			}
			w.push(event{at: w.now.Add(after), kind: evTimer, server: srv, inc: s.inc, timer: e.Timer})
		case protocol.EffectPersist:
			if !w.persist(srv, e.Write, i+1 < len(effects)) {
				return e.Write, false
			}
		case protocol.EffectState:
			if p := w.spec.Options.Processing.Lead; w.processing && !p.IsZero() && e.Zab == protocol.DISCOVERY && (e.State == protocol.FOLLOWING || e.State == protocol.OBSERVING) {
				// QuorumPeer.run makes the Follower or Observer before it connects.
				setup = w.drawProcessing(DecideLeadTime, s.id, p)
				s.busyUntil = max(s.busyUntil, w.now.Add(setup))
			}
			w.changed = true
			w.trace = TraceEvent{Kind: TrState, Server: s.id, State: e.State, Zab: e.Zab}
			w.emit(&w.trace)
		case protocol.EffectListen:
			w.listen(srv, e.Listen)
		case protocol.EffectNote:
			w.trace = TraceEvent{Kind: TrNote, Server: s.id, Note: e.Note}
			w.emit(&w.trace)
		case protocol.EffectReply:
			w.trace = TraceEvent{Kind: TrReply, Server: s.id, Reply: e.Reply}
			w.emit(&w.trace)
		case protocol.EffectProbe:
			w.result.Probes[e.Probe]++
		case protocol.EffectNotify:
			w.notify(srv, e.To, &e.Msg)
		case protocol.EffectConnectAll:
			w.connectAll(srv)
		case protocol.EffectWake:
			w.wakes = append(w.wakes, *e)
			if i+1 == len(effects) || effects[i+1].Kind != protocol.EffectWake {
				w.runWoken(srv)
			}
		case protocol.EffectExit:
			w.emitSimple(TrExit, srv, 0, 0, "QUORUM_PACKET_ERROR")
			w.crash(srv, "exit")
			s.exited = true
		}
	}
	return protocol.DiskWrite{}, true
}

// runWoken schedules the threads one step woke together (EffectWake). ZooKeeper's notifyAll
// lets the JVM run them in any order; the world draws the order (a recorded decision, so
// replays and hand edits follow it; 0 is the order the peer listed them in, its own thread
// first) and runs each at least its After from now.
func (w *World) runWoken(srv int) {
	s := &w.servers[srv]
	n := len(w.wakes)
	w.order = w.order[:0]
	for i := 0; i < n; i++ {
		w.order = append(w.order, i)
	}
	if n > 1 && w.win != nil {
		unrank(w.order, w.winOrder(s.id, n))
	} else if n > 1 {
		rank := w.decide(DecideOrder, s.id, protocol.ServerID(n), func() int64 { return w.jitRand.Int64N(factorial(n)) })
		if rank < 0 || rank >= factorial(n) {
			w.diverge(fmt.Sprintf("at event %d (%s) the order of %d threads of s%d is recorded as %d, which is not below %d!",
				w.result.Events, protocol.FormatTime(w.now), n, s.id, rank, n))
			rank = 0
		}
		unrank(w.order, rank)
	}
	leaderAt, handlerFirst := protocol.Time(-1), false
	for _, k := range w.order {
		e := &w.wakes[k]
		at := w.now.Add(e.After)
		if e.Timer.Conn == 0 {
			leaderAt = at
		} else if leaderAt < 0 || at < leaderAt {
			handlerFirst = true
		}
		w.push(event{at: at, kind: evResume, server: srv, inc: s.inc, timer: e.Timer})
	}
	if leaderAt >= 0 && handlerFirst {
		w.result.Probes[protocol.ProbeHandlerBeforeLeader]++
	}
	w.wakes = w.wakes[:0]
}

// factorial is n! for the small n of threads woken together (a 64-server ensemble has at most
// 64 handlers; n is capped at 20 by the int64 range, beyond which the order falls back to
// draws of the first 20! orders).
func factorial(n int) int64 {
	f := int64(1)
	for i := 2; i <= min(n, 20); i++ {
		f *= int64(i)
	}
	return f
}

// unrank turns rank in [0, n!) into the rank-th permutation of order (the identity at 0), in
// lexicographic order (the Lehmer code).
func unrank(order []int, rank int64) {
	n := len(order)
	for i := 0; i < n && i < 20; i++ {
		f := factorial(n - 1 - i)
		j := i + int(rank/f)
		rank %= f
		v := order[j]
		copy(order[i+1:j+1], order[i:j])
		order[i] = v
	}
}

// persist applies one write, unless a scheduled disk fault fails it or a crash point falls on
// it. It returns false when the write failed.
func (w *World) persist(srv int, wr protocol.DiskWrite, moreEffects bool) bool {
	s := &w.servers[srv]
	s.writes[wr.Kind]++
	if w.win != nil {
		w.winWrite(srv, wr.Kind)
	}
	for i := range w.spec.Faults {
		f := &w.spec.Faults[i]
		if !w.armed[i] || w.fired[i] || f.Server != s.id || f.Write != wr.Kind {
			continue
		}
		if s.writes[wr.Kind]-w.base[i] < f.Occurrence {
			continue
		}
		w.fired[i] = true
		w.outcomes[i].Happened, w.outcomes[i].At = true, w.now
		if f.Kind == FaultDiskWrite {
			w.outcomes[i].Note = fmt.Sprintf("its %s write failed", wr.Kind)
			w.trace = TraceEvent{Kind: TrWriteFailed, Server: s.id, Write: wr, Fault: i + 1}
			w.emit(&w.trace)
			return false
		}
		w.outcomes[i].Note = fmt.Sprintf("crashed %s its %s write", crashPointWhere[f.Point], wr.Kind)
		switch f.Point {
		case CrashTorn:
			s.disk.ApplyTorn(wr)
		case CrashAfter:
			s.disk.Apply(wr)
			w.trace = TraceEvent{Kind: TrPersist, Server: s.id, Write: wr}
			w.emit(&w.trace)
		}
		if moreEffects {
			w.result.Probes[protocol.ProbeCrashBetweenWrites]++
			if wr.Kind == protocol.WriteTxns && f.Point == CrashAfter {
				// Durable, and the ACKs the rest of the step would send are lost.
				w.result.Probes[protocol.ProbeCrashLogToAck]++
			}
		}
		w.faultCause = i + 1
		w.crash(srv, "crash point "+f.Point.String()+" "+wr.Kind.String())
		w.faultCause = 0
		return true
	}
	s.disk.ApplyGrowing(wr, &s.log)
	w.trace = TraceEvent{Kind: TrPersist, Server: s.id, Write: wr}
	w.emit(&w.trace)
	return true
}

// startServer starts server srv's process: at once, or once its Processing.Boot has passed.
func (w *World) startServer(srv int, why string) {
	s := &w.servers[srv]
	if s.up || s.booting {
		return
	}
	if p := w.spec.Options.Processing.Boot; !p.IsZero() {
		s.booting, s.bootWhy, s.bootFault, s.bootPause = true, why, w.faultCause, false
		s.bootSeq++
		s.bootAt = w.now.Add(w.drawProcessing(DecideBootTime, s.id, p))
		w.push(event{at: s.bootAt, kind: evBooted, server: srv, inc: s.bootSeq, fault: w.faultCause})
		return
	}
	w.boot(srv, why)
}

// booted ends a boot: the process is up, unless it was killed while it started.
func (w *World) booted(ev *event) {
	s := &w.servers[ev.server]
	if !s.booting || s.bootSeq != ev.inc {
		return
	}
	s.booting = false
	w.faultCause = ev.fault
	w.boot(ev.server, s.bootWhy)
	w.faultCause = 0
	if i := ev.fault - 1; i >= 0 && s.refused != "" {
		w.outcomes[i].Note += ", refused to start: " + s.refused
	}
}

// listen opens or closes the leader's learner port; with Processing.Lead the bind comes that
// long after it is asked for, and with Processing.Snapshot its handlers start later still.
func (w *World) listen(srv int, on bool) {
	s := &w.servers[srv]
	s.listenSeq++
	p := &w.spec.Options.Processing
	if !on || p.Lead.IsZero() {
		s.listening = on
	}
	if !on {
		return
	}
	bound := w.now
	if !p.Lead.IsZero() {
		bound = w.now.Add(w.drawProcessing(DecideLeadTime, s.id, p.Lead))
		w.push(event{at: bound, kind: evListen, server: srv, inc: s.inc, fault: int(s.listenSeq)})
	}
	if !p.Snapshot.IsZero() {
		s.acceptFrom = bound.Add(w.drawProcessing(DecideSnapshotTime, s.id, p.Snapshot))
	}
}

// boot starts server srv's process now: it loads its disk (or refuses to) and starts.
func (w *World) boot(srv int, why string) {
	s := &w.servers[srv]
	peer := s.spare
	if peer == nil {
		peer = new(protocol.QuorumPeer)
	}
	err := peer.Reset(&w.cfg, s.id, s.disk)
	if err != nil {
		s.refused = err.Error()
		w.emitSimple(TrRefused, srv, 0, 0, err.Error())
		return
	}
	s.refused = ""
	s.peer, s.spare, s.up, s.exited, s.listening = peer, nil, true, false, false
	w.changed = true
	w.emitSimple(TrStart, srv, 0, 0, why)
	w.step(srv, protocol.Input{Kind: protocol.InputStart, Now: w.now})
}

// crash kills server srv's process. Its sockets die with it: the kernel resets them, so each
// live peer end sees the connection close one network delay later (if the network lets the
// reset through).
func (w *World) crash(srv int, why string) {
	s := &w.servers[srv]
	if !s.up {
		return
	}
	s.up, s.spare, s.peer, s.listening = false, s.peer, nil, false
	if s.paused {
		w.outcomes[s.pauseFault].Note = "killed while paused, at " + protocol.FormatTime(w.now)
	}
	s.paused, s.held = false, s.held[:0]
	s.busyUntil, s.waking, s.acceptFrom = 0, false, 0
	s.inc++
	w.changed = true
	w.emitSimple(TrCrash, srv, 0, 0, why)
	w.qcmCrash(srv)
	for id := 1; id < len(w.conns); id++ {
		c := &w.conns[id]
		for end := 0; end < 2; end++ {
			if c.accepted && c.ends[end] == srv && c.inc[end] == s.inc-1 && !c.closed[end] {
				w.closeEnd(protocol.ConnID(id), end)
			}
		}
	}
}

func (w *World) applyFault(i int) {
	w.changed = true // a fault may be the last thing the run waited for (StopWhenStable)
	if i < 0 {       // the end of a partition, pause or refusal, scheduled as -1-index
		w.applied[-1-i] = 2
		w.endFault(-1 - i)
		return
	}
	w.applied[i] = 1
	f := &w.spec.Faults[i]
	out := &w.outcomes[i]
	out.At = w.now
	srv := w.Index(f.Server)
	switch f.Kind {
	case FaultCrashPoint, FaultDiskWrite:
		w.armed[i] = true
		w.base[i] = w.servers[srv].writes[f.Write]
	case FaultStart, FaultRestart:
		s := &w.servers[srv]
		if s.up || s.booting {
			out.Note = fmt.Sprintf("server %d was already running", f.Server)
			return
		}
		why := "restart"
		if f.Kind == FaultStart {
			why = "delayed start"
		}
		if f.Disk != nil {
			s.disk = cloneDisk(*f.Disk)
			why = "restart from a replaced disk"
			w.result.Probes[protocol.ProbeReplacedDisk]++
		}
		out.Happened, out.Note = true, why
		w.faultCause = i + 1
		w.startServer(srv, why)
		w.faultCause = 0
		if s.refused != "" && !s.booting {
			out.Note = why + ", refused to start: " + s.refused
			if f.Disk != nil {
				w.result.Probes[protocol.ProbeReplacedDiskRefused]++
			}
		}
	case FaultCrash:
		if s := &w.servers[srv]; s.booting {
			s.booting, s.bootPause = false, false // the JVM dies before its QuorumPeer ran
			out.Happened, out.Note = true, "killed while it was starting"
			// Traced with the fault that began the boot, so that an observer learns of a disk
			// that start put in place even though no process ever ran on it.
			w.trace = TraceEvent{Kind: TrCrash, Server: s.id, Detail: "killed while starting", Fault: s.bootFault}
			w.emit(&w.trace)
			return
		}
		if !w.servers[srv].up {
			out.Note = fmt.Sprintf("server %d was not running", f.Server)
			return
		}
		out.Happened = true
		w.faultCause = i + 1
		w.crash(srv, "crash")
		w.faultCause = 0
	case FaultPartition:
		out.Happened = true
		w.trace = TraceEvent{Kind: TrPartition, Server: -1, Detail: describePartition(f), Fault: i + 1}
		w.emit(&w.trace)
	case FaultPause:
		s := &w.servers[srv]
		if s.booting {
			// A stopped JVM's start-up stops too (a real SIGSTOP during boot): what is left of
			// it runs after the heal.
			out.Happened = true
			s.pausedUntil = max(s.pausedUntil, f.Heal)
			if !s.bootPause {
				s.bootPause, s.bootLeft, s.pauseFault = true, time.Duration(s.bootAt-w.now), i
				s.bootSeq++
				w.trace = TraceEvent{Kind: TrPause, Server: s.id, Detail: "until " + protocol.FormatTime(f.Heal) + ", while starting", Fault: i + 1}
				w.emit(&w.trace)
			}
			break
		}
		if !s.up {
			out.Note = fmt.Sprintf("server %d was not running", f.Server)
			return
		}
		out.Happened = true
		s.pausedUntil = max(s.pausedUntil, f.Heal)
		if !s.paused {
			w.result.Probes[protocol.ProbePause]++
			s.paused, s.pauseFault = true, i
			w.trace = TraceEvent{Kind: TrPause, Server: s.id, Detail: "until " + protocol.FormatTime(f.Heal), Fault: i + 1}
			w.emit(&w.trace)
		}
	case FaultRefuseConnect:
		out.Happened = true
	}
	if sc, _ := SchemaOf(f.Kind); sc.Ends && f.Heal > 0 {
		w.push(event{at: f.Heal, kind: evFault, fault: -1 - i, server: -1})
	}
}

// endFault ends partition, pause or refusal i at its Heal.
func (w *World) endFault(i int) {
	f := &w.spec.Faults[i]
	switch f.Kind {
	case FaultPartition:
		w.trace = TraceEvent{Kind: TrHeal, Server: -1, Detail: describePartition(f), Fault: i + 1}
		w.emit(&w.trace)
		w.outcomes[i].Note = "healed at " + protocol.FormatTime(w.now)
	case FaultPause:
		srv := w.Index(f.Server)
		if s := &w.servers[srv]; s.booting && s.bootPause && w.now >= s.pausedUntil {
			s.bootPause = false
			s.bootAt = w.now.Add(s.bootLeft)
			w.push(event{at: s.bootAt, kind: evBooted, server: srv, inc: s.bootSeq, fault: s.bootFault})
			w.trace = TraceEvent{Kind: TrResume, Server: s.id, Detail: "still starting, " + s.bootLeft.String() + " left", Fault: i + 1}
			w.emit(&w.trace)
			w.outcomes[i].Note = "resumed at " + protocol.FormatTime(w.now) + ", still starting"
		} else if s := &w.servers[srv]; s.paused && w.now >= s.pausedUntil {
			w.outcomes[i].Note = "resumed at " + protocol.FormatTime(w.now)
			w.resume(srv, i)
		}
	case FaultRefuseConnect:
		w.outcomes[i].Note = fmt.Sprintf("refused %d connects; ended at %s", w.refusedCount[i], protocol.FormatTime(w.now))
	}
}

// resume wakes a paused process: what waited for it is handed to it now, in the order it came.
// Election notifications go through QuorumCnxManager's receive queue first, which holds
// RecvQueueCapacity messages and discards the oldest when a burst overfills it
// (CircularBlockingQueue: "Queue is full. Discarding oldest element").
func (w *World) resume(srv, fault int) {
	s := &w.servers[srv]
	s.paused = false
	w.trace = TraceEvent{Kind: TrResume, Server: s.id, Detail: fmt.Sprintf("%d events waited", len(s.held)), Fault: fault + 1}
	w.emit(&w.trace)
	notifications := 0
	for i := range s.held {
		if s.held[i].kind == evNotify {
			notifications++
		}
	}
	drop := max(0, notifications-RecvQueueCapacity)
	for i := range s.held {
		ev := s.held[i]
		if ev.kind == evNotify && drop > 0 {
			drop--
			w.result.Probes[protocol.ProbeRecvQueueDrop]++
			w.trace = TraceEvent{Kind: TrRecvQueueDrop, Server: s.id, Peer: w.servers[ev.fault].id, Msg: ev.msg, Link: ev.link}
			w.emit(&w.trace)
			continue
		}
		ev.at = w.now
		w.push(ev)
	}
	s.held = s.held[:0]
}

// work makes server srv busy after it handled in: Processing.Step after every input, plus
// Processing.Sync when a learner handled NEWLEADER. Nothing is drawn when processing is off, so
// such runs are what they were before processing time existed.
func (w *World) work(srv int, in protocol.Input) {
	if !w.processing {
		return
	}
	p := &w.spec.Options.Processing
	s := &w.servers[srv]
	if !s.up {
		return
	}
	var d time.Duration
	if !p.Step.IsZero() {
		d = w.drawProcessing(DecideStepTime, s.id, p.Step)
	}
	if !p.Sync.IsZero() && in.Kind == protocol.InputMessage && in.Msg.Type == protocol.NEWLEADER && s.peer.Role().State != protocol.LEADING {
		d += w.drawProcessing(DecideSyncTime, s.id, p.Sync)
	}
	s.busyUntil = max(s.busyUntil, w.now.Add(d))
}

func (w *World) drawProcessing(kind DecisionKind, id protocol.ServerID, sp Span) time.Duration {
	return time.Duration(w.decide(kind, id, 0, func() int64 {
		return int64(sp.Min) + w.procRand.Int64N(int64(sp.Max-sp.Min)+1)
	}))
}

// scheduleWake queues the moment busy server srv takes the next input waiting for it.
func (w *World) scheduleWake(srv int) {
	s := &w.servers[srv]
	if !s.waking {
		s.waking = true
		w.push(event{at: max(s.busyUntil, w.now), kind: evWake, server: srv, inc: s.inc})
	}
}

// wake hands server srv the first input that waited while it was busy; the rest wait on
// behind it, for as long as that one keeps it busy.
func (w *World) wake(srv int) {
	s := &w.servers[srv]
	s.waking = false
	if len(s.held) == 0 {
		return
	}
	if s.busyUntil > w.now {
		w.scheduleWake(srv)
		return
	}
	ev := s.held[0]
	copy(s.held, s.held[1:])
	s.held = s.held[:len(s.held)-1]
	w.dispatch(&ev)
	if s = &w.servers[srv]; s.up && len(s.held) > 0 {
		w.scheduleWake(srv)
	}
}

// crashPointWhere says where a crash point fell, for its fault's outcome.
var crashPointWhere = [...]string{CrashBefore: "before", CrashTorn: "inside", CrashAfter: "after"}

// RecvQueueCapacity is QuorumCnxManager.RECV_CAPACITY: the one receive queue every peer's
// notifications share.
const RecvQueueCapacity = 100

func cloneDisk(d protocol.Disk) protocol.Disk {
	d.Txns = append([]protocol.Txn(nil), d.Txns...)
	return d
}

// refuses reports whether a refuse-connect fault makes target's learner port reset a connect
// from learner now, and counts it.
func (w *World) refuses(target, learner protocol.ServerID) bool {
	for i := range w.spec.Faults {
		f := &w.spec.Faults[i]
		if f.Kind != FaultRefuseConnect || f.Server != target || f.At > w.now || (f.Heal != 0 && w.now >= f.Heal) {
			continue
		}
		if len(f.Peers) == 0 || slices.Contains(f.Peers, learner) {
			w.refusedCount[i]++
			w.result.Probes[protocol.ProbeRefusedByFault]++
			return true
		}
	}
	return false
}

func describePartition(f *Fault) string {
	b := []byte{}
	for gi, g := range f.Groups {
		if gi > 0 {
			if f.OneWay {
				b = append(b, " -> "...)
			} else {
				b = append(b, " | "...)
			}
		}
		b = append(b, '{')
		for j, id := range g {
			if j > 0 {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, "%d", id)
		}
		b = append(b, '}')
	}
	return string(b)
}

// stable reports whether a leader is in BROADCAST, every running server is synced to it, and
// nothing is left to fire: no fault is still due and no partition, pause or refusal has yet to
// end. A crash point or disk fault that is armed but has not fired does not hold the run: its
// write can only come from a change, and nothing is left to change anything (its outcome says
// so).
func (w *World) stable() bool {
	if w.faultStillDue() {
		return false
	}
	for i := range w.servers {
		if w.servers[i].booting {
			return false
		}
	}
	if n := len(w.spec.Writes); n > 0 && w.spec.Writes[n-1].At >= w.now {
		return false // writes are generated in time order, so the last is the latest
	}
	leader, epoch := protocol.ServerID(-1), protocol.Epoch(-1)
	for i := range w.servers {
		if !w.servers[i].up {
			continue
		}
		v := w.servers[i].peer.Role()
		if !v.Synced {
			return false
		}
		if leader == -1 {
			leader, epoch = v.Leader, v.Epoch
		} else if v.Leader != leader || v.Epoch != epoch {
			return false
		}
	}
	if leader < 0 {
		return false
	}
	li := w.Index(leader)
	if li < 0 || !w.servers[li].up {
		return false
	}
	if len(w.spec.Writes) == 0 {
		return true
	}
	// With writes, stable also means quiet: nothing outstanding at the leader and every server
	// applied what it applied, so a run ends with each acknowledged write everywhere.
	lp := w.servers[li].peer
	if _, ok := lp.Outstanding(0); ok {
		return false
	}
	last := lp.View().LastZxid
	for i := range w.servers {
		if w.servers[i].up && w.servers[i].peer.View().LastZxid != last {
			return false
		}
	}
	return true
}

// faultStillDue: some fault has not been applied yet (due later, or at this very time), or a
// lasting one has yet to end.
func (w *World) faultStillDue() bool {
	for i := range w.spec.Faults {
		f := &w.spec.Faults[i]
		if f.At > w.spec.Until {
			continue // it never comes in this run
		}
		if w.applied[i] == 0 {
			return true
		}
		if sc, _ := SchemaOf(f.Kind); sc.Ends && f.Heal > 0 && w.applied[i] < 2 {
			return true
		}
	}
	return false
}

// finishOutcomes explains, at the end of the run, every fault that did not happen.
func (w *World) finishOutcomes() {
	for i := range w.spec.Faults {
		f := &w.spec.Faults[i]
		out := &w.outcomes[i]
		switch {
		case out.Happened:
			if sc, _ := SchemaOf(f.Kind); sc.Ends && (f.Heal == 0 || f.Heal > w.now) {
				if f.Kind == FaultRefuseConnect {
					out.Note = fmt.Sprintf("refused %d connects; ", w.refusedCount[i])
				}
				out.Note += "still in force when the run ended at " + protocol.FormatTime(w.now)
			}
		case out.Note != "":
		case f.At > w.now:
			out.At = f.At
			out.Note = fmt.Sprintf("due at %s, after the run ended at %s (%s)", protocol.FormatTime(f.At), protocol.FormatTime(w.now), w.result.Stop)
		case w.armed[i]:
			srv := w.Index(f.Server)
			made := w.servers[srv].writes[f.Write] - w.base[i]
			out.Note = fmt.Sprintf("armed at %s; server %d made %d %s writes after that, not the %d it needs, by the end at %s (%s)",
				protocol.FormatTime(f.At), f.Server, made, f.Write, f.Occurrence, protocol.FormatTime(w.now), w.result.Stop)
		}
	}
}
