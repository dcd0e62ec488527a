package checker

import (
	"time"

	"zabsim/protocol"
	"zabsim/sim"
)

// tracker keeps the ghosts: what the invariants need to remember of the run, updated by one
// step per trace event (event) and one after each step (afterStep). On a trace event it runs
// after the judges, so they see the ghosts as they were before the event and the world as it
// is after it; after a step it runs before them. Only the tracker writes these fields.
type tracker struct {
	attempts  []attempt      // per server: its current leadership attempt
	learners  []learnerGhost // per server: its learner handshake and durable epochs
	conns     []connGhost    // per connection: its two ends
	leaderOf  []epochLeader  // who reached SYNCHRONIZATION as leader of each epoch
	elections []electionGhost
	// pausedAt is when each server's process was stopped (-1: it runs).
	pausedAt []protocol.Time

	// Liveness: the last heal, and whether and when a leader had a synced voter quorum since.
	healAt      protocol.Time
	heals       bool
	healSeen    bool
	livenessMet bool
	livenessAt  protocol.Time
	dirty       bool // a role, crash or partition changed since the last AfterStep
	// firstAt, firstEstablished: in a windowed run, the time of the last instant and whether a
	// leader was established after its first step (Checker.OnFaultAdded); -1 otherwise.
	firstAt          protocol.Time
	firstEstablished bool

	hist historyGhost // client transactions: C and what invariants 10-20 compare against
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
	// waiting).
	waitStart protocol.Time
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

// connGhost is one learner connection's two ends, known once the leader accepted it.
type connGhost struct {
	leader, learner protocol.ServerID
	known           bool
}

// heard is one notification a server received during its current election.
type heard struct {
	from protocol.ServerID
	v    protocol.Vote
}

// electionGhost follows one server's elections (Fast Leader Election only).
type electionGhost struct {
	round       int64
	proposal    protocol.Vote // the last proposal announced in round
	hasProposal bool
	heard       []heard // notifications received since this election started
	lookingFrom protocol.Time
	upSince     protocol.Time
	lastReason  string
	lastLeft    protocol.LeaveCause // the typed cause of the last NoteLearnerLeft (LeftOther for a leader shutdown)
	// fedSince is when the current streak of LOOKING notifications from other voters began,
	// each arriving before the last one's minNotificationInterval ran out, so lookForLeader's
	// poll never timed out in it; fedLast is the latest. fedBy marks (by server index) who sent
	// them lately: since fedMark, and in the span before it.
	fedSince, fedLast, fedMark protocol.Time
	// fedTimeout is the poll timeout (notTimeout) at the latest of them.
	fedTimeout         time.Duration
	fedBy, fedByBefore uint64
	// recvDropped counts the notifications its receive queue discarded since it started
	// LOOKING; droppedReplies those of them that were FOLLOWING or LEADING votes.
	recvDropped, droppedReplies int
}

// fedSpan is how far back the senders of a starving streak of notifications are remembered.
const fedSpan = 10 * time.Second

// reset makes t a fresh tracker for spec, reusing its storage.
func (t *tracker) reset(spec *sim.RunSpec) {
	n := len(spec.Config.Servers)
	attempts := t.attempts[:cap(t.attempts)]
	if len(attempts) < n {
		attempts = append(attempts, make([]attempt, n-len(attempts))...)
	}
	for i := range attempts {
		a := &attempts[i]
		*a = attempt{infoAcc: a.infoAcc[:0], ackEpoch: a.ackEpoch[:0], newLeaderAcks: a.newLeaderAcks[:0]}
	}
	hist := t.hist
	hist.reset(n)
	*t = tracker{hist: hist, attempts: attempts[:n], learners: resize(t.learners, n), conns: t.conns[:0],
		leaderOf: t.leaderOf[:0], elections: resizeElections(t.elections, n), pausedAt: resize(t.pausedAt, n),
		healAt: spec.LastHeal(), heals: spec.FaultsHeal(), livenessAt: -1, firstAt: -1}
	for i := range t.learners {
		t.learners[i] = learnerGhost{leaderInfoEpoch: -1, newLeaderEpoch: -1, maxAcc: -1, maxCur: -1}
	}
	for i := range t.pausedAt {
		t.pausedAt[i] = -1
	}
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

// conn returns the two ends of connection id (zero until the leader accepted it).
func (t *tracker) conn(id protocol.ConnID) connGhost {
	if int(id) < len(t.conns) {
		return t.conns[id]
	}
	return connGhost{}
}

// event applies trace event e to the ghosts, after the judges saw it.
func (t *tracker) event(x *env, e *sim.TraceEvent) {
	switch e.Kind {
	case sim.TrCrash, sim.TrStart, sim.TrPartition, sim.TrHeal, sim.TrState, sim.TrPause, sim.TrResume:
		t.dirty = true
		if (e.Kind == sim.TrCrash || e.Kind == sim.TrStart) && e.At > t.healAt {
			// A crash point can fire after the restart meant to heal it: liveness is judged
			// from the last crash or restart that really happened.
			t.healAt, t.healSeen, t.livenessMet = e.At, false, false
		}
	case sim.TrNote:
		t.dirty = t.dirty || e.Note.Kind == protocol.NoteSynced
	}
	if !x.cfg.Election.Assigned {
		t.electionEvent(x, e)
	}
	t.historyEvent(x, e)
	switch e.Kind {
	case sim.TrState:
		t.onState(x, e)
	case sim.TrPersist:
		t.onPersist(x, e)
	case sim.TrNote:
		t.onNote(x, e)
	case sim.TrSend:
		lg := &t.learners[x.srv]
		if e.Msg.Type == protocol.ACK && lg.newLeaderEpoch >= 0 && e.Msg.Zxid == protocol.MakeZxid(lg.newLeaderEpoch, 0) {
			lg.newLeaderEpoch = -1
		}
	case sim.TrRecv:
		t.onRecv(x, e)
	case sim.TrAccepted:
		for int(e.Conn) >= len(t.conns) {
			t.conns = append(t.conns, connGhost{})
		}
		t.conns[e.Conn] = connGhost{leader: e.Server, learner: e.Peer, known: true}
	case sim.TrRefused:
		if replacedDisk(x.spec, e) {
			t.learners[x.srv].operatorDisk = true
		}
	case sim.TrStart:
		i := x.srv
		g := &t.learners[i]
		g.booted = true
		d := x.Disk(i)
		if replacedDisk(x.spec, e) {
			// A restored backup or an edited file may hold lower epochs: the durable history
			// the epoch invariants follow starts again from this disk.
			g.maxAcc, g.maxCur = d.AcceptedEpoch, d.CurrentEpoch
			g.operatorDisk = true
		}
		g.maxAcc = max(g.maxAcc, d.AcceptedEpoch)
		g.maxCur = max(g.maxCur, d.CurrentEpoch)
		t.attempts[i].active = false
	case sim.TrPause:
		t.pausedAt[x.srv] = e.At
	case sim.TrResume:
		// A stopped process takes no step: its deadlines move by the time it was stopped.
		i := x.srv
		d := e.At - t.pausedAt[i]
		t.pausedAt[i] = -1
		if a := &t.attempts[i]; a.active {
			a.startedAt += d
			if a.lostSince >= 0 {
				a.lostSince += d
			}
		}
	case sim.TrCrash:
		i := x.srv
		t.attempts[i].active = false
		t.pausedAt[i] = -1 // SIGKILL ends a stopped process too
		if e.Detail == "killed while starting" && replacedDisk(x.spec, e) {
			// A boot killed before it ran (Processing.Boot), begun by a replaced-disk
			// restart: the disk is the operator's all the same.
			t.learners[i].operatorDisk = true
		}
	}
}

func (t *tracker) onState(x *env, e *sim.TraceEvent) {
	i := x.srv
	a := &t.attempts[i]
	if e.State != protocol.LEADING {
		a.active = false
		return
	}
	switch e.Zab {
	case protocol.DISCOVERY:
		v, _ := x.View(i)
		*a = attempt{active: true, startedAt: e.At, accAtStart: x.Disk(i).AcceptedEpoch, epoch: -1, lostSince: -1, waitStart: -1,
			summary: protocol.StateSummary{CurrentEpoch: v.CurrentEpoch, LastZxid: v.LastZxid},
			infoAcc: a.infoAcc[:0], ackEpoch: a.ackEpoch[:0], newLeaderAcks: a.newLeaderAcks[:0]}
	case protocol.SYNCHRONIZATION:
		if a.active {
			t.leaderOf = append(t.leaderOf, epochLeader{a.epoch, e.Server})
		}
	}
}

func (t *tracker) onPersist(x *env, e *sim.TraceEvent) {
	i := x.srv
	g := &t.learners[i]
	g.operatorDisk = false
	switch e.Write.Kind {
	case protocol.WriteAcceptedEpoch:
		g.maxAcc = max(g.maxAcc, x.Disk(i).AcceptedEpoch)
	case protocol.WriteCurrentEpoch:
		g.maxCur = max(g.maxCur, x.Disk(i).CurrentEpoch)
	}
}

func (t *tracker) onNote(x *env, e *sim.TraceEvent) {
	a := &t.attempts[x.srv]
	switch n := &e.Note; n.Kind {
	case protocol.NoteEpochWait:
		a.waitStart = e.At
	case protocol.NoteEpochDecided:
		a.epoch, a.waitStart = n.Epoch, -1
	case protocol.NoteEpochAcked:
		a.epochAcked = true
	}
}

func (t *tracker) onRecv(x *env, e *sim.TraceEvent) {
	i := x.srv
	a := &t.attempts[i]
	lg := &t.learners[i]
	switch e.Msg.Type {
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
		lg.accAtLeaderInfo = x.Disk(i).AcceptedEpoch
		lg.syncedThrough = 0
	case protocol.SNAPPKT, protocol.TRUNCPKT, protocol.DIFFPKT:
		lg.syncedThrough = e.Msg.Zxid
		if e.Msg.Type == protocol.SNAPPKT && len(e.Msg.Txns) > 0 {
			lg.syncedThrough = e.Msg.Txns[len(e.Msg.Txns)-1].Zxid
		}
		if e.Msg.Type == protocol.DIFFPKT {
			d := x.Disk(i)
			lg.syncedThrough = min(e.Msg.Zxid, d.LastZxid())
		}
	case protocol.COMMIT, protocol.INFORM:
		// Invariant 9 asks for the history as of NEWLEADER: what the sync sent and every
		// txn committed during it. A proposal still outstanding when NEWLEADER comes (one
		// startForwarding queued) may stay in memory until UPTODATE, as in master.
		if lg.newLeaderEpoch < 0 && lg.leaderInfoEpoch >= 0 {
			lg.syncedThrough = max(lg.syncedThrough, e.Msg.Zxid)
		}
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

// electionEvent follows the elections: notifications received and discarded, proposals,
// decisions, and since when and why each server is outside an ensemble.
func (t *tracker) electionEvent(x *env, e *sim.TraceEvent) {
	switch e.Kind {
	case sim.TrRecv, sim.TrRecvQueueDrop, sim.TrNote, sim.TrStart, sim.TrState:
	default:
		return // not a server's event
	}
	g := &t.elections[x.srv]
	switch e.Kind {
	case sim.TrRecv:
		if e.Msg.Type == protocol.NOTIFICATION {
			t.onNotificationRecv(x, g, e)
		}
	case sim.TrRecvQueueDrop:
		g.recvDropped++
		if e.Msg.Vote.State == protocol.FOLLOWING || e.Msg.Vote.State == protocol.LEADING {
			g.droppedReplies++
		}
	case sim.TrNote:
		switch n := &e.Note; n.Kind {
		case protocol.NoteProposal:
			if n.Round != g.round {
				g.round, g.hasProposal = n.Round, false
			}
			g.proposal = protocol.Vote{Leader: n.Peer, Zxid: n.Zxid, PeerEpoch: n.Epoch}
			g.hasProposal = true
		case protocol.NoteElected:
			g.heard = g.heard[:0]
			g.lookingFrom = -1
		case protocol.NoteLearnerLeft, protocol.NoteLeaderShutdown:
			g.lastReason, g.lastLeft = n.Reason, n.Left
		}
	case sim.TrStart:
		g.upSince, g.lookingFrom, g.lastReason, g.lastLeft = e.At, e.At, "LOOKING since it started", protocol.LeftOther
		g.fedBy, g.fedByBefore = 0, 0
		g.recvDropped, g.droppedReplies = 0, 0
		g.heard = g.heard[:0]
		g.round, g.hasProposal = 0, false
	case sim.TrState:
		if e.State == protocol.LOOKING {
			// A new lookForLeader: its rounds may repeat numbers of an earlier one, since an
			// out-of-election decision sets logicalclock back to the leader's round.
			g.heard = g.heard[:0]
			g.hasProposal = false
			g.recvDropped, g.droppedReplies = 0, 0
			g.lookingFrom = e.At
		}
	}
}

func (t *tracker) onNotificationRecv(x *env, g *electionGhost, e *sim.TraceEvent) {
	v := e.Msg.Vote
	if v.State == protocol.LOOKING && e.Peer != e.Server && x.cfg.IsParticipant(e.Peer) {
		// The poll that this notification ended began at the last one; it timed out only if
		// the gap reached its timeout, notTimeout, which has doubled at every earlier timeout.
		v, _ := x.View(x.srv)
		g.fedTimeout = max(v.NotTimeout, x.cfg.Election.MinNotificationInterval)
		if g.fedBy == 0 || time.Duration(e.At-g.fedLast) >= g.fedTimeout {
			g.fedSince, g.fedMark, g.fedBy, g.fedByBefore = e.At, e.At, 0, 0
		}
		if time.Duration(e.At-g.fedMark) > fedSpan {
			g.fedMark, g.fedByBefore, g.fedBy = e.At, g.fedBy, 0
		}
		g.fedLast = e.At
		if j := x.Index(e.Peer); j >= 0 && j < 64 {
			g.fedBy |= 1 << j
		}
	}
	for _, h := range g.heard { // a long election repeats itself: keep each distinct vote once
		if h.from == e.Peer && h.v.Leader == v.Leader && h.v.State == v.State && h.v.ElectionEpoch == v.ElectionEpoch {
			return
		}
	}
	g.heard = append(g.heard, heard{from: e.Peer, v: v})
}

// afterStep brings up to date what depends on roles, crashes, partitions and time: whether each
// leader in BROADCAST has a supporting voter quorum, and whether liveness has been reached since
// the last heal. Support and establishment change only with roles, crashes and partitions, so
// they are recomputed only after such an event.
func (t *tracker) afterStep(x *env) {
	now := x.Now()
	if t.firstAt != now && x.view.w.Windowed() {
		t.firstAt, t.firstEstablished = now, established(x)
	}
	if !t.healSeen && now >= t.healAt {
		t.healSeen, t.dirty = true, true
	}
	if !t.dirty {
		return
	}
	t.dirty = false
	for i := range t.attempts {
		if a := &t.attempts[i]; a.active {
			v, _ := x.Role(i)
			a.broadcast = v.Zab == protocol.BROADCAST
			switch {
			case !a.broadcast:
			case t.supported(x, i, v):
				a.lostSince = -1
			case a.lostSince < 0:
				a.lostSince = now
			}
		}
	}
	if !t.livenessMet && t.healSeen && established(x) {
		t.livenessMet, t.livenessAt = true, now
	}
}

// supported: the leader plus the voters that follow it in its epoch and that it can exchange
// packets with form a voter quorum.
func (t *tracker) supported(x *env, li int, lv protocol.Role) bool {
	n := 1
	for j := 0; j < x.ServerCount(); j++ {
		if j == li {
			continue
		}
		v, up := x.Role(j)
		if !up || v.State != protocol.FOLLOWING || v.Leader != lv.Leader || v.Epoch != lv.Epoch {
			continue
		}
		if id := x.ServerAt(j); x.Blocked(id, lv.Leader) || x.Blocked(lv.Leader, id) || t.pausedAt[j] >= 0 {
			continue
		}
		n++
	}
	return 2*n > x.cfg.Voters()
}
