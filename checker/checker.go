// Package checker judges runs: safety invariants after every event (shared/spec/invariants.md),
// liveness once the faults heal, and the report a run leaves. It watches the world through
// sim.Observer and read-only views and never changes anything.
package checker

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"zabsim/protocol"
	"zabsim/sim"
)

// Invariant names, as in shared/spec/invariants.md.
const (
	EpochFileOrder             = "EpochFileOrder"             // 1
	EpochMonotone              = "EpochMonotone"              // 2
	FreshEpoch                 = "FreshEpoch"                 // 3
	AcceptedBeforeAnnounced    = "AcceptedBeforeAnnounced"    // 4
	OneLeaderPerEpoch          = "OneLeaderPerEpoch"          // 5
	ActivationNeedsVoterQuorum = "ActivationNeedsVoterQuorum" // 6
	LeaderNotBehind            = "LeaderNotBehind"            // 7
	FollowerEpochGate          = "FollowerEpochGate"          // 8
	AckImpliesDurable          = "AckImpliesDurable"          // 9
	MessageLegal               = "MessageLegal"               // 21
	NonVotersNeverLead         = "NonVotersNeverLead"         // 24
	ElectionTerminates         = "ElectionTerminates"         // 25 (liveness)
	FalseLeaderAbdicates       = "FalseLeaderAbdicates"       // 27
	// 22, 23 and 26 are in election.go
	RestartAlwaysPossible = "RestartAlwaysPossible" // 28
)

// Invariants lists every invariant this checker evaluates, in spec order.
var Invariants = invariantNames[:]

var invariantNames = [...]string{EpochFileOrder, EpochMonotone, FreshEpoch, AcceptedBeforeAnnounced,
	OneLeaderPerEpoch, ActivationNeedsVoterQuorum, LeaderNotBehind, FollowerEpochGate,
	AckImpliesDurable, MessageLegal, VoteMonotone, SelfElectionRoundCheck, NonVotersNeverLead, ElectionTerminates,
	JoinerFollows, FalseLeaderAbdicates, RestartAlwaysPossible}

// Violation is one broken invariant, with the virtual time and the servers involved.
type Violation struct {
	Invariant string
	At        protocol.Time
	Servers   []protocol.ServerID
	Detail    string
	// TraceIndex is the index in the trace of the last event seen when the invariant broke
	// (-1: before any), where a viewer marks it.
	TraceIndex int
}

// attempt is the ghost of one leadership attempt (one Leader.lead() call).
type attempt struct {
	active        bool
	startedAt     protocol.Time
	accAtStart    protocol.Epoch
	summary       protocol.StateSummary
	epoch         protocol.Epoch // decided epoch, -1 before
	epochAcked    bool
	infoAcc       []sidEpoch // max acceptedEpoch each learner reported in FOLLOWERINFO/OBSERVERINFO
	ackEpoch      []sidSummary
	newLeaderAcks []protocol.ServerID
	broadcast     bool
	lostSince     protocol.Time // broadcast: when the ghost supporters fell below a quorum (-1: they did not)
	// waitStart is when the leader's own getEpochToPropose began to wait (-1: it is not
	// waiting); quitDue is set when maxTimeToWaitForEpoch says it must quit in this step.
	waitStart protocol.Time
	quitDue   string
}

type epochLeader struct {
	epoch  protocol.Epoch
	leader protocol.ServerID
}

type sidEpoch struct {
	sid protocol.ServerID
	e   protocol.Epoch
}

type sidSummary struct {
	sid protocol.ServerID
	ss  protocol.StateSummary
}

// learnerGhost follows one learner's handshake.
type learnerGhost struct {
	leaderInfoEpoch protocol.Epoch
	accAtLeaderInfo protocol.Epoch
	newLeaderEpoch  protocol.Epoch // NEWLEADER received, ACK not yet sent; -1 otherwise
	syncedThrough   protocol.Zxid  // the last txn the leader sent in this sync
	maxAcc, maxCur  protocol.Epoch
	booted          bool
	// operatorDisk: the disk is one the run put in place (a replaced disk) and the server
	// has not written to it since; ZooKeeper refusing it is not the protocol's doing.
	operatorDisk bool
}

// connGhost follows the packet grammar of one learner connection (invariant 21).
type connGhost struct {
	leader, learner protocol.ServerID
	known           bool
	leaderStage     uint8 // 0 nothing, 1 LEADERINFO, 2 sync start, 3 NEWLEADER, 4 UPTODATE
	learnerStage    uint8 // 0 nothing, 1 *INFO, 2 ACKEPOCH, 3 NEWLEADER ACK
}

// Checker is a sim.Observer that evaluates the invariants.
type Checker struct {
	spec        *sim.RunSpec
	cfg         *protocol.Config
	violations  []Violation
	counts      [len(invariantNames)]int
	attempts    []attempt
	learners    []learnerGhost
	conns       []connGhost
	leaderOf    []epochLeader // who reached SYNCHRONIZATION as leader of each epoch
	healAt      protocol.Time
	heals       bool
	livenessMet bool
	livenessAt  protocol.Time
	healSeen    bool
	dirty       bool // a role, crash or partition changed since the last AfterStep
	scratch     []protocol.ServerID
	elections   []electionGhost
	outsiders   []Outsider
	report      *reportBuilder
	// pausedAt is when each server's process was stopped (-1: it runs).
	pausedAt []protocol.Time
	// traced counts the trace events seen, to place each violation in the trace.
	traced int
}

// New returns a checker for spec.
func New(spec *sim.RunSpec) *Checker {
	c := &Checker{}
	c.Reset(spec)
	return c
}

// Reset makes c a fresh checker for spec, reusing its storage.
func (c *Checker) Reset(spec *sim.RunSpec) {
	n := len(spec.Config.Servers)
	paused := c.pausedAt
	attempts := c.attempts[:cap(c.attempts)]
	if len(attempts) < n {
		attempts = append(attempts, make([]attempt, n-len(attempts))...)
	}
	for i := range attempts {
		a := &attempts[i]
		*a = attempt{infoAcc: a.infoAcc[:0], ackEpoch: a.ackEpoch[:0], newLeaderAcks: a.newLeaderAcks[:0]}
	}
	*c = Checker{spec: spec, cfg: &spec.Config,
		attempts: attempts[:n], learners: resize(c.learners, n), conns: c.conns[:0],
		leaderOf: c.leaderOf[:0], violations: nil, scratch: c.scratch[:0], elections: resizeElections(c.elections, n),
		healAt: spec.LastHeal(), heals: spec.FaultsHeal(), livenessAt: -1}
	for i := range c.learners {
		c.learners[i] = learnerGhost{leaderInfoEpoch: -1, newLeaderEpoch: -1, maxAcc: -1, maxCur: -1}
	}
	c.pausedAt = resize(paused, n)
	for i := range c.pausedAt {
		c.pausedAt[i] = -1
	}
	c.report = newReportBuilder(n)
}

func resizeElections(s []electionGhost, n int) []electionGhost {
	s = s[:cap(s)]
	if len(s) < n {
		s = append(s, make([]electionGhost, n-len(s))...)
	}
	for i := range s {
		s[i] = electionGhost{heard: s[i].heard[:0], lookingFrom: -1}
	}
	return s[:n]
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// Violations returns what was found so far: the first violation of each invariant.
func (c *Checker) Violations() []Violation { return c.violations }

// Count returns how many times the invariant was violated.
func (c *Checker) Count(invariant string) int {
	if i := slices.Index(Invariants, invariant); i >= 0 {
		return c.counts[i]
	}
	return 0
}

func (c *Checker) fail(inv string, at protocol.Time, detail string, servers ...protocol.ServerID) {
	i := slices.Index(Invariants, inv)
	c.counts[i]++
	if c.counts[i] > 1 {
		return
	}
	ids := slices.Clone(servers)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	c.violations = append(c.violations, Violation{Invariant: inv, At: at, Servers: ids, Detail: detail, TraceIndex: c.traced - 1})
}

// LivenessBound is how long after the last fault heals a leader must have a synced voter
// quorum. Justification from the timers: an activation attempt that is under way when the
// faults heal can run each of its three waits (epoch, epoch ack, NEWLEADER ack) to its
// initLimit*tickTime deadline; the next attempt can lose one more initLimit*tickTime to a
// learner that joined the doomed one late and waits out its read timeout; a leader in
// BROADCAST that lost its quorum notices within syncLimit ticks plus one tick; each server
// then takes the election's decision delay (plus an observer's random pause) twice, and a
// learner may spend five 100 ms connect retries. One second covers network delays.
//
// With Fast Leader Election, each of the two elections can take longer than the assigned
// decision delay: a server may sit in a notification poll of up to maxNotificationInterval (its
// back-off grew while the faults lasted) before it sends again, and then waits finalizeWait.
func LivenessBound(cfg *protocol.Config) time.Duration {
	election := cfg.Election.Delay
	if !cfg.Election.Assigned {
		election = cfg.Election.MaxNotificationInterval + 2*cfg.Election.FinalizeWait
	}
	return 4*cfg.InitLimitTime() + time.Duration(cfg.SyncLimit+1)*cfg.TickTime +
		2*(election+cfg.ObserverElectionDelay) + 5*cfg.LeaderConnectDelayDuringRetry + time.Second
}

// OnTrace checks the invariants an event can break, as it happens.
func (c *Checker) OnTrace(w *sim.World, e *sim.TraceEvent) {
	c.traced++
	c.report.onTrace(w, e)
	switch e.Kind {
	case sim.TrCrash, sim.TrStart, sim.TrPartition, sim.TrHeal, sim.TrState, sim.TrPause, sim.TrResume:
		c.dirty = true
		if (e.Kind == sim.TrCrash || e.Kind == sim.TrStart) && e.At > c.healAt {
			// A crash point can fire after the restart meant to heal it: liveness is judged
			// from the last crash or restart that really happened.
			c.healAt, c.healSeen, c.livenessMet = e.At, false, false
		}
	case sim.TrNote:
		c.dirty = c.dirty || e.Note.Kind == protocol.NoteSynced
	}
	if !c.cfg.Election.Assigned {
		c.electionTrace(w, e)
	}
	switch e.Kind {
	case sim.TrState:
		c.onState(w, e)
	case sim.TrPersist:
		c.onPersist(w, e)
	case sim.TrNote:
		c.onNote(w, e)
	case sim.TrSend:
		c.onSend(w, e)
	case sim.TrRecv:
		c.onRecv(w, e)
	case sim.TrAccepted:
		g := c.conn(e.Conn)
		g.leader, g.learner, g.known = e.Server, e.Peer, true
	case sim.TrRefused:
		// A disk that an operator put in place is ZooKeeper's to refuse: the refusal is
		// reported, and it is not the protocol's fault.
		i := w.Index(e.Server)
		if c.replacedDisk(e) {
			c.learners[i].operatorDisk = true
		}
		if c.learners[i].booted && !c.learners[i].operatorDisk {
			c.fail(RestartAlwaysPossible, e.At, fmt.Sprintf("server %d cannot restart: %s", e.Server, e.Detail), e.Server)
		}
	case sim.TrStart:
		i := w.Index(e.Server)
		g := &c.learners[i]
		g.booted = true
		if c.replacedDisk(e) {
			// A restored backup or an edited file may hold lower epochs: the durable history
			// the epoch invariants follow starts again from this disk.
			g.maxAcc, g.maxCur = w.Disk(i).AcceptedEpoch, w.Disk(i).CurrentEpoch
			g.operatorDisk = true
		}
		g.maxAcc = max(g.maxAcc, w.Disk(i).AcceptedEpoch)
		g.maxCur = max(g.maxCur, w.Disk(i).CurrentEpoch)
		c.attempts[i].active = false
	case sim.TrPause:
		c.pausedAt[w.Index(e.Server)] = e.At
	case sim.TrResume:
		// A stopped process takes no step: its deadlines move by the time it was stopped.
		i := w.Index(e.Server)
		d := e.At - c.pausedAt[i]
		c.pausedAt[i] = -1
		if a := &c.attempts[i]; a.active {
			a.startedAt += d
			if a.lostSince >= 0 {
				a.lostSince += d
			}
		}
	case sim.TrCrash:
		c.attempts[w.Index(e.Server)].active = false
		c.pausedAt[w.Index(e.Server)] = -1 // SIGKILL ends a stopped process too
	}
}

// replacedDisk: the event is a restart from a disk the run put in place (sim.Fault.Disk).
func (c *Checker) replacedDisk(e *sim.TraceEvent) bool {
	return e.Fault > 0 && c.spec.Faults[e.Fault-1].Disk != nil
}

func (c *Checker) conn(id protocol.ConnID) *connGhost {
	for int(id) >= len(c.conns) {
		c.conns = append(c.conns, connGhost{})
	}
	return &c.conns[id]
}

func (c *Checker) onState(w *sim.World, e *sim.TraceEvent) {
	i := w.Index(e.Server)
	a := &c.attempts[i]
	if e.State == protocol.LEADING && !c.cfg.IsParticipant(e.Server) {
		c.fail(NonVotersNeverLead, e.At, fmt.Sprintf("non-voter %d is LEADING", e.Server), e.Server)
	}
	if e.State != protocol.LEADING {
		a.active = false
		return
	}
	switch e.Zab {
	case protocol.DISCOVERY:
		v, _ := w.View(i)
		*a = attempt{active: true, startedAt: e.At, accAtStart: w.Disk(i).AcceptedEpoch, epoch: -1, lostSince: -1, waitStart: -1,
			summary: protocol.StateSummary{CurrentEpoch: v.CurrentEpoch, LastZxid: v.LastZxid},
			infoAcc: a.infoAcc[:0], ackEpoch: a.ackEpoch[:0], newLeaderAcks: a.newLeaderAcks[:0]}
	case protocol.SYNCHRONIZATION:
		if !a.active {
			return
		}
		for _, el := range c.leaderOf {
			if el.epoch == a.epoch && el.leader != e.Server {
				c.fail(OneLeaderPerEpoch, e.At, fmt.Sprintf("servers %d and %d both lead epoch %d", el.leader, e.Server, a.epoch), el.leader, e.Server)
			}
		}
		c.leaderOf = append(c.leaderOf, epochLeader{a.epoch, e.Server})
	}
}

// onPersist: epoch files stay ordered and loadable (1, 28's durable side), epochs never go
// back (2), and a leader writes currentEpoch only after a voter quorum acked the epoch (6).
func (c *Checker) onPersist(w *sim.World, e *sim.TraceEvent) {
	i := w.Index(e.Server)
	d := w.Disk(i)
	g := &c.learners[i]
	g.operatorDisk = false
	if _, _, err := protocol.LoadDataBase(*d); err != nil {
		c.fail(EpochFileOrder, e.At, fmt.Sprintf("after %s the disk of server %d would not load: %v", e.Write.Kind, e.Server, err), e.Server)
	}
	switch e.Write.Kind {
	case protocol.WriteAcceptedEpoch:
		if d.AcceptedEpoch < g.maxAcc {
			c.fail(EpochMonotone, e.At, fmt.Sprintf("server %d acceptedEpoch went from %d to %d", e.Server, g.maxAcc, d.AcceptedEpoch), e.Server)
		}
		g.maxAcc = max(g.maxAcc, d.AcceptedEpoch)
	case protocol.WriteCurrentEpoch:
		if d.CurrentEpoch < g.maxCur {
			c.fail(EpochMonotone, e.At, fmt.Sprintf("server %d currentEpoch went from %d to %d", e.Server, g.maxCur, d.CurrentEpoch), e.Server)
		}
		g.maxCur = max(g.maxCur, d.CurrentEpoch)
		if a := &c.attempts[i]; a.active && a.epoch == e.Write.Epoch {
			acked := append(c.scratch[:0], e.Server)
			for _, s := range a.ackEpoch {
				if s.ss.CurrentEpoch != -1 {
					acked = append(acked, s.sid)
				}
			}
			if !c.voterQuorum(acked) {
				c.fail(ActivationNeedsVoterQuorum, e.At, fmt.Sprintf("leader %d wrote currentEpoch %d with epoch acks only from %v", e.Server, e.Write.Epoch, voters(c.cfg, acked)), e.Server)
			}
		}
	}
}

// voterQuorum: a majority of the voters, each counted once, observers never.
func (c *Checker) voterQuorum(set []protocol.ServerID) bool {
	n := 0
	for i, id := range set {
		if c.cfg.IsParticipant(id) && !slices.Contains(set[:i], id) {
			n++
		}
	}
	return 2*n > c.cfg.Voters()
}

func voters(cfg *protocol.Config, set []protocol.ServerID) []protocol.ServerID {
	var out []protocol.ServerID
	for _, id := range set {
		if cfg.IsParticipant(id) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (c *Checker) onNote(w *sim.World, e *sim.TraceEvent) {
	i := w.Index(e.Server)
	a := &c.attempts[i]
	n := &e.Note
	for _, s := range n.Sids {
		if !c.cfg.IsParticipant(s) && (n.Kind == protocol.NoteEpochDecided || n.Kind == protocol.NoteEpochAcked ||
			n.Kind == protocol.NoteNewLeaderQuorum || n.Kind == protocol.NoteTickSynced) {
			c.fail(NonVotersNeverLead, e.At, fmt.Sprintf("leader %d counted non-voter %d in %s", e.Server, s, n.Kind), e.Server, s)
		}
	}
	switch n.Kind {
	case protocol.NoteEpochWait:
		a.waitStart = e.At
	case protocol.NoteEpochDecided:
		c.checkFreshEpoch(e, a)
		a.epoch, a.waitStart = n.Epoch, -1
	case protocol.NoteEpochAcked:
		a.epochAcked = true
		for _, s := range a.ackEpoch {
			if slices.Contains(n.Sids, s.sid) && s.ss.CurrentEpoch != -1 && s.ss.IsMoreRecentThan(a.summary) {
				c.fail(LeaderNotBehind, e.At, fmt.Sprintf("leader %d (%d, %s) is behind follower %d (%d, %s)", e.Server,
					a.summary.CurrentEpoch, a.summary.LastZxid, s.sid, s.ss.CurrentEpoch, s.ss.LastZxid), e.Server, s.sid)
			}
		}
	case protocol.NoteSynced:
		li := w.Index(e.Server)
		if acc := w.Disk(li).AcceptedEpoch; n.Epoch < acc {
			c.fail(FollowerEpochGate, e.At, fmt.Sprintf("server %d follows epoch %d below its acceptedEpoch %d", e.Server, n.Epoch, acc), e.Server)
		}
	}
}

// checkFreshEpoch is invariant 3: the decided epoch exceeds the acceptedEpoch of every voter in
// the connecting quorum, and that quorum is a voter quorum that contains the leader.
func (c *Checker) checkFreshEpoch(e *sim.TraceEvent, a *attempt) {
	n := &e.Note
	if !slices.Contains(n.Sids, e.Server) {
		c.fail(FreshEpoch, e.At, fmt.Sprintf("leader %d decided epoch %d from %v, without itself", e.Server, n.Epoch, n.Sids), e.Server)
	}
	if !c.voterQuorum(n.Sids) {
		c.fail(FreshEpoch, e.At, fmt.Sprintf("leader %d decided epoch %d from %v, not a voter quorum", e.Server, n.Epoch, n.Sids), e.Server)
	}
	if a.active && n.Epoch <= a.accAtStart {
		c.fail(FreshEpoch, e.At, fmt.Sprintf("leader %d decided epoch %d but had accepted epoch %d", e.Server, n.Epoch, a.accAtStart), e.Server)
	}
	for _, s := range a.infoAcc {
		if slices.Contains(n.Sids, s.sid) && c.cfg.IsParticipant(s.sid) && n.Epoch <= s.e {
			c.fail(FreshEpoch, e.At, fmt.Sprintf("leader %d decided epoch %d but voter %d had accepted epoch %d", e.Server, n.Epoch, s.sid, s.e), e.Server, s.sid)
		}
	}
}

func (c *Checker) onRecv(w *sim.World, e *sim.TraceEvent) {
	i := w.Index(e.Server)
	v, _ := w.View(i)
	g := c.conn(e.Conn)
	if g.known {
		if e.Server == g.leader && v.State != protocol.LEADING {
			c.fail(MessageLegal, e.At, fmt.Sprintf("%s from %d processed by %d in %s, not as leader", e.Msg.Type, e.Peer, e.Server, v.State), e.Server, e.Peer)
		}
		if e.Server == g.learner && (v.State == protocol.LOOKING || v.State == protocol.LEADING || v.Leader != e.Peer) {
			c.fail(MessageLegal, e.At, fmt.Sprintf("%s from %d processed by %d in %s, not as its learner", e.Msg.Type, e.Peer, e.Server, v.State), e.Server, e.Peer)
		}
	}
	a := &c.attempts[i]
	lg := &c.learners[i]
	switch e.Msg.Type {
	case protocol.NOTIFICATION:
		// FalseLeaderAbdicates with maxTimeToWaitForEpoch (ZOOKEEPER-3109): a leader still in
		// its own epoch wait longer than that must quit on a voter's LOOKING notification.
		if max := c.cfg.MaxTimeToWaitForEpoch; max > 0 && a.active && a.waitStart >= 0 && e.Msg.Vote.State == protocol.LOOKING &&
			c.cfg.IsParticipant(e.Peer) && e.Peer != e.Server && time.Duration(e.At-a.waitStart) > max {
			a.quitDue = fmt.Sprintf("leader %d kept waiting for its epoch quorum after voter %d sent LOOKING, %v into the wait (maxTimeToWaitForEpoch %v)",
				e.Server, e.Peer, time.Duration(e.At-a.waitStart), max)
		}
	case protocol.FOLLOWERINFO, protocol.OBSERVERINFO:
		if a.active && a.epoch < 0 {
			a.infoAcc = raise(a.infoAcc, e.Msg.Sid, e.Msg.Zxid.Epoch())
		}
	case protocol.ACKEPOCH:
		if a.active && !a.epochAcked {
			a.ackEpoch = append(a.ackEpoch, sidSummary{sid: e.Peer, ss: protocol.StateSummary{CurrentEpoch: e.Msg.Epoch, LastZxid: e.Msg.Zxid}})
		}
	case protocol.ACK:
		if a.active && a.epoch >= 0 && e.Msg.Zxid == protocol.MakeZxid(a.epoch, 0) {
			a.newLeaderAcks = append(a.newLeaderAcks, e.Peer)
		}
	case protocol.LEADERINFO:
		lg.leaderInfoEpoch = e.Msg.Zxid.Epoch()
		lg.accAtLeaderInfo = w.Disk(i).AcceptedEpoch
		lg.syncedThrough = 0
	case protocol.SNAPPKT, protocol.TRUNCPKT, protocol.DIFFPKT:
		lg.syncedThrough = e.Msg.Zxid
		if e.Msg.Type == protocol.SNAPPKT && len(e.Msg.Txns) > 0 {
			lg.syncedThrough = e.Msg.Txns[len(e.Msg.Txns)-1]
		}
		if e.Msg.Type == protocol.DIFFPKT {
			lg.syncedThrough = min(e.Msg.Zxid, w.Disk(i).LastZxid())
		}
	case protocol.PROPOSAL:
		lg.syncedThrough = max(lg.syncedThrough, e.Msg.Zxid)
	case protocol.NEWLEADER:
		lg.newLeaderEpoch = e.Msg.Zxid.Epoch()
	}
}

func raise(s []sidEpoch, sid protocol.ServerID, e protocol.Epoch) []sidEpoch {
	for i := range s {
		if s[i].sid == sid {
			s[i].e = max(s[i].e, e)
			return s
		}
	}
	return append(s, sidEpoch{sid: sid, e: e})
}

// onSend checks what leaves a server: the per-connection grammar (21), LEADERINFO only once
// acceptedEpoch is durable (4), the learner's epoch gate (8), a NEWLEADER ACK only after the
// history and currentEpoch are durable (9), UPTODATE only after a NEWLEADER quorum (6).
func (c *Checker) onSend(w *sim.World, e *sim.TraceEvent) {
	i := w.Index(e.Server)
	g := c.conn(e.Conn)
	a := &c.attempts[i]
	lg := &c.learners[i]
	switch e.Msg.Type {
	case protocol.FOLLOWERINFO, protocol.OBSERVERINFO:
		c.stage(e, &g.learnerStage, 0, 1)
	case protocol.LEADERINFO:
		c.stage(e, &g.leaderStage, 0, 1)
		ep := e.Msg.Zxid.Epoch()
		if !a.active || a.epoch != ep {
			c.fail(MessageLegal, e.At, fmt.Sprintf("leader %d sent LEADERINFO(%d) before deciding that epoch", e.Server, ep), e.Server)
		}
		if acc := w.Disk(i).AcceptedEpoch; acc != ep {
			c.fail(AcceptedBeforeAnnounced, e.At, fmt.Sprintf("leader %d sent LEADERINFO(%d) with acceptedEpoch %d on disk", e.Server, ep, acc), e.Server)
		}
	case protocol.ACKEPOCH:
		c.stage(e, &g.learnerStage, 1, 2)
		ep, acc := lg.leaderInfoEpoch, lg.accAtLeaderInfo
		switch {
		case e.Msg.Epoch == -1 && ep != acc:
			c.fail(FollowerEpochGate, e.At, fmt.Sprintf("server %d answered LEADERINFO(%d) with -1 but its acceptedEpoch on disk was %d", e.Server, ep, acc), e.Server, e.Peer)
		case e.Msg.Epoch != -1 && ep <= acc:
			c.fail(FollowerEpochGate, e.At, fmt.Sprintf("server %d acked LEADERINFO(%d) with acceptedEpoch %d on disk", e.Server, ep, acc), e.Server, e.Peer)
		}
	case protocol.DIFFPKT, protocol.TRUNCPKT, protocol.SNAPPKT:
		c.stage(e, &g.leaderStage, 1, 2)
		if !a.active || !a.epochAcked {
			c.fail(MessageLegal, e.At, fmt.Sprintf("leader %d sent %s before a quorum acked epoch %d", e.Server, e.Msg.Type, a.epoch), e.Server, e.Peer)
		}
	case protocol.NEWLEADER:
		c.stage(e, &g.leaderStage, 2, 3)
	case protocol.UPTODATE:
		c.stage(e, &g.leaderStage, 3, 4)
		acks := append(append(c.scratch[:0], e.Server), a.newLeaderAcks...)
		if !a.active || !c.voterQuorum(acks) {
			c.fail(ActivationNeedsVoterQuorum, e.At, fmt.Sprintf("leader %d sent UPTODATE with NEWLEADER acks only from %v", e.Server, voters(c.cfg, acks)), e.Server, e.Peer)
		}
	case protocol.ACK:
		if lg.newLeaderEpoch >= 0 && e.Msg.Zxid == protocol.MakeZxid(lg.newLeaderEpoch, 0) {
			c.stage(e, &g.learnerStage, 2, 3)
			d := w.Disk(i)
			if d.CurrentEpoch != lg.newLeaderEpoch {
				c.fail(AckImpliesDurable, e.At, fmt.Sprintf("server %d acked NEWLEADER(%d) with currentEpoch %d on disk", e.Server, lg.newLeaderEpoch, d.CurrentEpoch), e.Server, e.Peer)
			}
			if c.cfg.IsParticipant(e.Server) && d.LastZxid() < lg.syncedThrough {
				c.fail(AckImpliesDurable, e.At, fmt.Sprintf("server %d acked NEWLEADER(%d) with history only through %s on disk, synced through %s", e.Server, lg.newLeaderEpoch, d.LastZxid(), lg.syncedThrough), e.Server, e.Peer)
			}
			lg.newLeaderEpoch = -1
		}
	}
}

// stage advances a connection's grammar: a packet that needs stage `from` moves it to `to`.
func (c *Checker) stage(e *sim.TraceEvent, s *uint8, from, to uint8) {
	if *s != from {
		c.fail(MessageLegal, e.At, fmt.Sprintf("%d sent %s to %d out of order on connection %d", e.Server, e.Msg.Type, e.Peer, e.Conn), e.Server, e.Peer)
	}
	*s = to
}

// AfterStep checks what depends on elapsed time: a leader that cannot finish activating gives
// up within its deadlines, a leader in BROADCAST without a supporting voter quorum abdicates
// within syncLimit (27), and whether liveness has been reached since the last heal. Support and
// establishment change only with roles, crashes and partitions, so they are recomputed only
// after such an event; the deadlines are checked after every event.
func (c *Checker) AfterStep(w *sim.World) {
	now := w.Now()
	if !c.healSeen && now >= c.healAt {
		c.healSeen, c.dirty = true, true
	}
	if c.dirty {
		c.dirty = false
		for i := range c.attempts {
			if a := &c.attempts[i]; a.active {
				v, _ := w.Role(i)
				a.broadcast = v.Zab == protocol.BROADCAST
				switch {
				case !a.broadcast:
				case c.supported(w, i, v):
					a.lostSince = -1
				case a.lostSince < 0:
					a.lostSince = now
				}
			}
		}
		if !c.livenessMet && c.healSeen && c.established(w) {
			c.livenessMet, c.livenessAt = true, now
		}
	}
	activation := 3*c.cfg.InitLimitTime() + c.cfg.LeaderSelfRegisterDelay + c.cfg.LeaderSelfRegisterJitter + time.Millisecond
	// A learner that has not yet sent a packet after its sync keeps its handler's first ack
	// deadline, tick0 + initLimit + syncLimit, and any live handler counts as synced (spec
	// §5.9); a syncing handler's read timeout is initLimit. So a leader may keep BROADCAST that
	// long after its support is gone, and ZooKeeper does.
	abdicate := time.Duration(c.cfg.InitLimit+c.cfg.SyncLimit+1)*c.cfg.TickTime + 10*time.Millisecond
	for i := range c.attempts {
		a := &c.attempts[i]
		switch {
		case a.active && a.quitDue != "":
			c.fail(FalseLeaderAbdicates, now, a.quitDue, w.ServerAt(i))
			a.quitDue = ""
		case !a.active || c.pausedAt[i] >= 0:
		case !a.broadcast && time.Duration(now-a.startedAt) > activation:
			c.fail(FalseLeaderAbdicates, now, fmt.Sprintf("leader %d has been activating for %v", w.ServerAt(i), time.Duration(now-a.startedAt)), w.ServerAt(i))
		case a.broadcast && a.lostSince >= 0 && time.Duration(now-a.lostSince) > abdicate:
			c.fail(FalseLeaderAbdicates, now, fmt.Sprintf("leader %d kept BROADCAST for %v without a voter quorum", w.ServerAt(i), time.Duration(now-a.lostSince)), w.ServerAt(i))
		}
	}
}

// supported: the leader plus the voters that follow it in its epoch and that it can exchange
// packets with form a voter quorum.
func (c *Checker) supported(w *sim.World, li int, lv protocol.Role) bool {
	n := 1
	for j := 0; j < w.ServerCount(); j++ {
		if j == li {
			continue
		}
		v, up := w.Role(j)
		if !up || v.State != protocol.FOLLOWING || v.Leader != lv.Leader || v.Epoch != lv.Epoch {
			continue
		}
		if id := w.ServerAt(j); w.Blocked(id, lv.Leader) || w.Blocked(lv.Leader, id) || c.pausedAt[j] >= 0 {
			continue
		}
		n++
	}
	return 2*n > c.cfg.Voters()
}

// established: some leader is in BROADCAST and a voter quorum (with it) is synced to it.
func (c *Checker) established(w *sim.World) bool {
	for i := 0; i < w.ServerCount(); i++ {
		lv, up := w.Role(i)
		if !up || lv.State != protocol.LEADING || lv.Zab != protocol.BROADCAST {
			continue
		}
		n := 1
		for j := 0; j < w.ServerCount(); j++ {
			if v, up := w.Role(j); j != i && up && v.State == protocol.FOLLOWING && v.Synced && v.Leader == lv.Leader && v.Epoch == lv.Epoch {
				n++
			}
		}
		if 2*n > c.cfg.Voters() {
			return true
		}
	}
	return false
}

// Liveness is how a run was judged for liveness; it prints itself only when asked.
type Liveness struct {
	// Judged is false when the faults never heal or the run ended before the bound.
	Judged bool
	// OK: a leader with a synced voter quorum existed at At, within Bound.
	OK    bool
	At    protocol.Time
	Bound protocol.Time
	Why   string
}

func (l Liveness) String() string {
	switch {
	case !l.Judged:
		return "not judged: " + l.Why
	case l.OK:
		return "ok: leader with a synced quorum at " + protocol.FormatTime(l.At) + " (bound " + protocol.FormatTime(l.Bound) + ")"
	}
	return "violated: " + l.Why
}

// MarshalText prints the verdict as String does.
func (l Liveness) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// MarshalJSON prints the verdict as an object, for machines: checked (whether liveness was
// judged at all), ok, the times (seconds, as every report time) and the detail in words.
func (l Liveness) MarshalJSON() ([]byte, error) {
	v := struct {
		Checked bool   `json:"checked"`
		OK      bool   `json:"ok"`
		At      string `json:"at,omitempty"`
		Bound   string `json:"bound,omitempty"`
		Detail  string `json:"detail"`
	}{Checked: l.Judged, OK: l.Judged && l.OK, Detail: l.String()}
	if l.Judged && l.OK {
		v.At = protocol.FormatTime(l.At)
	}
	if l.Bound != 0 {
		v.Bound = protocol.FormatTime(l.Bound)
	}
	return json.Marshal(v)
}

// Finish judges liveness at the end of a run that ended at end: when every fault heals, a leader
// with a synced voter quorum must exist within LivenessBound of the last heal.
func (c *Checker) Finish(w *sim.World, end protocol.Time, truncated bool) Liveness {
	if truncated {
		return Liveness{Why: "the run hit its event budget"}
	}
	if !c.heals {
		return Liveness{Why: "faults do not heal"}
	}
	for i := 0; i < w.ServerCount(); i++ {
		if c.learners[i].booted && !w.Up(i) {
			return Liveness{Why: fmt.Sprintf("server %d is down at the end (a crash point fired after its restart)", w.ServerAt(i))}
		}
	}
	deadline := c.healAt.Add(LivenessBound(c.cfg))
	switch {
	case c.livenessMet && c.livenessAt <= deadline:
		if !c.cfg.Election.Assigned {
			c.outsiders = c.judgeJoiners(w, end)
		}
		return Liveness{Judged: true, OK: true, At: c.livenessAt, Bound: deadline}
	case c.livenessMet:
		c.fail(ElectionTerminates, c.livenessAt, fmt.Sprintf("a leader with a synced quorum only at %s, after the bound %s", c.livenessAt, deadline))
		return Liveness{Judged: true, At: c.livenessAt, Bound: deadline, Why: "leader established after the bound"}
	case end >= deadline:
		c.fail(ElectionTerminates, deadline, fmt.Sprintf("no leader with a synced voter quorum within %v of the last heal at %s", LivenessBound(c.cfg), c.healAt))
		return Liveness{Judged: true, Bound: deadline, Why: "no leader with a synced voter quorum"}
	}
	return Liveness{Bound: deadline, Why: "the run ended before the bound"}
}
