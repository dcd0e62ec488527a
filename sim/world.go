package sim

import (
	"fmt"
	"math/rand/v2"
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
	inc       uint32 // incarnation: bumped at every crash
	up        bool
	listening bool
	exited    bool
	refused   string
	writes    [protocol.WriteClearUpdatingEpochMarker + 1]int // writes done, per kind
}

// conn is one TCP connection: ends[0] is the learner that connected, ends[1] the leader.
type conn struct {
	ends       [2]int
	inc        [2]uint32
	closed     [2]bool          // this end's socket is closed
	broken     bool             // a message was lost; nothing more gets through
	accepted   bool             // the leader accepted it: until then there is no socket pair
	lastArrive [2]protocol.Time // per direction (0: ends[0]→ends[1]), for FIFO order
}

// Result is what a run leaves behind besides what observers collected.
type Result struct {
	// Truncated: the run hit MaxEvents before Until.
	Truncated bool
	// Divergence says why a run that follows recorded decisions stopped ("" if it did not).
	Divergence string
	Events     uint64
	End        protocol.Time
	TraceHash  uint64
	Probes     [protocol.ProbeCount]int
}

// World is one simulated run.
type World struct {
	spec       *RunSpec
	cfg        protocol.Config
	now        protocol.Time
	seq        uint64
	queue      eventQueue
	servers    []server
	conns      []conn // index = ConnID; 0 unused
	netRand    *rand.Rand
	jitRand    *rand.Rand
	netPCG     *rand.PCG
	jitPCG     *rand.PCG
	spares     []*protocol.QuorumPeer
	hash       hasher
	obs        []Observer
	effects    []protocol.Effect
	trace      TraceEvent
	result     Result
	armed      []bool // per fault: a crash point or disk fault is armed (its At has passed)
	fired      []bool // per fault: a crash point or disk fault has been used
	base       []int  // per fault: the server's count of that write kind when it was armed
	mutator    *Mutator
	record     bool
	decisions  []Decision
	streams    map[decisionKey]*decisionStream
	stableStop bool
	mutIn      protocol.Input
	// electLast is the last arrival time of a notification per (sender, receiver) pair.
	electLast []protocol.Time
	// pendingNotify is each pair's one-message send queue, for a receiver that is down.
	pendingNotify []protocol.Message
	pendingLink   []uint64
	hasPending    []bool
	links         uint64 // message ids issued (TraceEvent.Link)
	stopped       bool
	changed       bool // a role changed in this step (for StopWhenStable)
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
	*w = World{spec: spec, cfg: spec.Config, obs: append(w.obs[:0], observers...),
		conns: append(w.conns[:0], conn{}), queue: eventQueue{items: w.queue.items[:0]},
		servers: w.servers[:0], effects: w.effects[:0], netRand: w.netRand, jitRand: w.jitRand, electLast: w.electLast,
		pendingNotify: w.pendingNotify, pendingLink: w.pendingLink, hasPending: w.hasPending, decisions: w.decisions[:0],
		netPCG: w.netPCG, jitPCG: w.jitPCG,
		armed: resize(w.armed, len(spec.Faults)), fired: resize(w.fired, len(spec.Faults)), base: resize(w.base, len(spec.Faults))}
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
	w.hash.h = fnvOffset
	for i, f := range spec.Faults {
		w.push(event{at: f.At, kind: evFault, fault: i, server: -1})
	}
	spares := w.spares[:0]
	for i := range w.servers[:cap(w.servers)] {
		old := &w.servers[:cap(w.servers)][i]
		for _, p := range [2]*protocol.QuorumPeer{old.peer, old.spare} {
			if p != nil {
				spares = append(spares, p)
			}
		}
		*old = server{} // so that no peer is collected twice by a later Reset
	}
	for _, sc := range spec.Config.Servers {
		s := server{id: sc.ID, disk: spec.DiskOf(sc.ID)}
		if n := len(spares); n > 0 {
			s.spare, spares = spares[n-1], spares[:n-1]
		}
		w.servers = append(w.servers, s)
	}
	w.spares = spares
	w.electLast = resize(w.electLast, len(w.servers)*len(w.servers))
	w.pendingNotify = resize(w.pendingNotify, len(w.servers)*len(w.servers))
	w.pendingLink = resize(w.pendingLink, len(w.servers)*len(w.servers))
	w.hasPending = resize(w.hasPending, len(w.servers)*len(w.servers))
	for i := range w.servers {
		if !startsLate(spec, w.servers[i].id) {
			w.push(event{at: 0, kind: evStart, server: i})
		}
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
	w.queue.push(e)
}

// Run runs until the queue is empty, spec.Until passes, or the run is stopped.
func (w *World) Run() Result {
	budget := w.spec.MaxEvents
	if budget == 0 {
		budget = DefaultMaxEvents
	}
	for !w.stopped {
		// A storm grows the queue faster than it drains; bound the memory as well as the time.
		if w.result.Events >= budget || uint64(len(w.queue.items)) > budget/4 {
			w.result.Truncated = true
			break
		}
		ev, ok := w.queue.pop()
		if !ok || ev.at > w.spec.Until {
			break
		}
		w.now = ev.at
		w.changed = false
		w.dispatch(ev)
		w.result.Events++
		for _, o := range w.obs {
			o.AfterStep(w)
		}
		if w.spec.StopWhenStable && w.changed && w.stable() {
			w.stableStop = true
			break
		}
	}
	w.result.End = w.now
	w.result.TraceHash = w.hash.h
	w.checkAllFollowed()
	return w.result
}

func (w *World) emit(e *TraceEvent) {
	e.At = w.now
	w.hash.event(e)
	for _, o := range w.obs {
		o.OnTrace(w, e)
	}
}

// emitSimple emits a trace line with only a kind, server, peer, conn and detail.
func (w *World) emitSimple(kind TraceKind, srv int, peer protocol.ServerID, c protocol.ConnID, detail string) {
	w.trace = TraceEvent{Kind: kind, Server: w.servers[srv].id, Peer: peer, Conn: c, Detail: detail}
	w.emit(&w.trace)
}

func (w *World) dispatch(ev event) {
	if ev.kind == evFault {
		w.applyFault(ev.fault)
		return
	}
	if ev.kind == evStart {
		w.startServer(ev.server, "boot")
		return
	}
	if ev.kind == evNotifyHeal {
		w.notifyHeal(ev)
		return
	}
	if ev.kind == evConnectArrive {
		// A SYN reaches a port, not a process: whoever runs there now answers it.
		w.connectArrive(ev)
		return
	}
	s := &w.servers[ev.server]
	if !s.up || s.inc != ev.inc {
		return // meant for a process that has since died
	}
	in := protocol.Input{Now: w.now, Conn: ev.conn}
	switch ev.kind {
	case evTimer:
		in.Kind, in.Timer = protocol.InputTimer, ev.timer
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
	case evNotify:
		in.Kind, in.Msg, in.From = protocol.InputNotification, ev.msg, w.servers[ev.fault].id
		w.trace = TraceEvent{Kind: TrRecv, Server: s.id, Peer: in.From, Msg: ev.msg, Link: ev.link}
		w.emit(&w.trace)
	case evConnectFailed:
		c := &w.conns[ev.conn]
		c.closed = [2]bool{true, true}
		in.Kind, in.From = protocol.InputConnectFailed, w.servers[c.ends[1]].id
		w.emitSimple(TrConnectFailed, ev.server, in.From, ev.conn, "")
	}
	w.step(ev.server, in)
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
			return
		}
		in = protocol.Input{Kind: protocol.InputWriteFailed, Now: w.now, Write: failed, Disk: s.disk}
	}
}

// apply performs effects in order. It returns false with the failed write when a write fails.
func (w *World) apply(srv int, effects []protocol.Effect) (protocol.DiskWrite, bool) {
	s := &w.servers[srv]
	inc := s.inc
	for i := range effects {
		if !s.up || s.inc != inc {
			return protocol.DiskWrite{}, true // crashed in the middle of the step
		}
		e := &effects[i]
		switch e.Kind {
		case protocol.EffectSend:
			w.send(srv, e.Conn, e.Msg)
		case protocol.EffectConnect:
			w.connect(srv, e.To, e.After)
		case protocol.EffectClose:
			w.close(srv, e.Conn)
		case protocol.EffectSetTimer:
			after := e.After
			if e.Jitter > 0 {
				j := int64(e.Jitter)
				after += time.Duration(w.decide(DecideJitter, s.id, 0, func() int64 { return w.jitRand.Int64N(j + 1) }))
			}
			w.push(event{at: w.now.Add(after), kind: evTimer, server: srv, inc: s.inc, timer: e.Timer})
		case protocol.EffectPersist:
			if !w.persist(srv, e.Write, i+1 < len(effects)) {
				return e.Write, false
			}
		case protocol.EffectState:
			w.changed = true
			w.trace = TraceEvent{Kind: TrState, Server: s.id, State: e.State, Zab: e.Zab}
			w.emit(&w.trace)
		case protocol.EffectListen:
			s.listening = e.Listen
		case protocol.EffectNote:
			w.trace = TraceEvent{Kind: TrNote, Server: s.id, Note: e.Note}
			w.emit(&w.trace)
		case protocol.EffectProbe:
			w.result.Probes[e.Probe]++
		case protocol.EffectNotify:
			w.notify(srv, e.To, e.Msg)
		case protocol.EffectExit:
			w.emitSimple(TrExit, srv, 0, 0, "QUORUM_PACKET_ERROR")
			w.crash(srv, "exit")
			s.exited = true
		}
	}
	return protocol.DiskWrite{}, true
}

// persist applies one write, unless a scheduled disk fault fails it or a crash point falls on
// it. It returns false when the write failed.
func (w *World) persist(srv int, wr protocol.DiskWrite, moreEffects bool) bool {
	s := &w.servers[srv]
	s.writes[wr.Kind]++
	for i := range w.spec.Faults {
		f := &w.spec.Faults[i]
		if !w.armed[i] || w.fired[i] || f.Server != s.id || f.Write != wr.Kind {
			continue
		}
		if s.writes[wr.Kind]-w.base[i] < f.Occurrence {
			continue
		}
		w.fired[i] = true
		if f.Kind == FaultDiskWrite {
			w.trace = TraceEvent{Kind: TrWriteFailed, Server: s.id, Write: wr}
			w.emit(&w.trace)
			return false
		}
		switch f.Point {
		case "torn":
			s.disk.ApplyTorn(wr)
		case "after":
			s.disk.Apply(wr)
			w.trace = TraceEvent{Kind: TrPersist, Server: s.id, Write: wr}
			w.emit(&w.trace)
		}
		if moreEffects {
			w.result.Probes[protocol.ProbeCrashBetweenWrites]++
		}
		w.crash(srv, "crash point "+f.Point+" "+wr.Kind.String())
		return true
	}
	s.disk.Apply(wr)
	w.trace = TraceEvent{Kind: TrPersist, Server: s.id, Write: wr}
	w.emit(&w.trace)
	return true
}

func (w *World) startServer(srv int, why string) {
	s := &w.servers[srv]
	if s.up {
		return
	}
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
	w.flushNotifications(srv)
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
	s.inc++
	w.changed = true
	w.emitSimple(TrCrash, srv, 0, 0, why)
	w.dropQueuedNotifications(srv)
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
	if i < 0 { // a heal, scheduled as -1-index of its partition
		w.trace = TraceEvent{Kind: TrHeal, Server: -1, Detail: describePartition(&w.spec.Faults[-1-i])}
		w.emit(&w.trace)
		return
	}
	f := &w.spec.Faults[i]
	switch f.Kind {
	case FaultCrashPoint, FaultDiskWrite:
		if srv := w.Index(f.Server); srv >= 0 {
			w.armed[i] = true
			w.base[i] = w.servers[srv].writes[f.Write]
		}
	case FaultStart:
		w.startServer(w.Index(f.Server), "delayed start")
	case FaultCrash:
		w.crash(w.Index(f.Server), "crash")
	case FaultRestart:
		w.startServer(w.Index(f.Server), "restart")
	case FaultPartition:
		w.trace = TraceEvent{Kind: TrPartition, Server: -1, Detail: describePartition(f)}
		w.emit(&w.trace)
		if f.Heal > 0 {
			w.push(event{at: f.Heal, kind: evFault, fault: -1 - i, server: -1})
		}
	}
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
// no fault is still to come.
func (w *World) stable() bool {
	if at, ok := w.nextFaultAt(); ok && at > w.now {
		return false
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
	return li >= 0 && w.servers[li].up
}

func (w *World) nextFaultAt() (protocol.Time, bool) {
	var next protocol.Time
	found := false
	for i, f := range w.spec.Faults {
		at := f.At
		if f.Kind == FaultPartition && f.Heal > 0 && f.Heal > w.now {
			at = f.Heal
		}
		if f.Kind == FaultCrashPoint || f.Kind == FaultDiskWrite {
			if w.fired[i] {
				continue
			}
			return 0, true // an armed crash point or disk fault: never call the run stable
		}
		if at > w.now && (!found || at < next) {
			next, found = at, true
		}
	}
	if !found {
		return 0, false
	}
	return next, true
}
