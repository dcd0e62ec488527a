package protocol

import (
	"fmt"
	"time"
)

// QuorumPeer is one ZooKeeper server (QuorumPeer.java): its role, its in-memory database and
// epochs, and the state of the role it plays. Step is the only method that changes it.
type QuorumPeer struct {
	cfg         *Config
	id          ServerID
	learnerType LearnerType

	state ServerState
	zab   ZabState

	// In-memory copies of the epoch files (QuorumPeer.acceptedEpoch/currentEpoch).
	acceptedEpoch Epoch
	currentEpoch  Epoch
	// The in-memory database: applied history and dataTree.lastProcessedZxid.
	db                []Txn
	lastProcessedZxid Zxid
	// committedLog is ZKDatabase.committedLog: the last commitLogCount txns a load replayed
	// from the txn log or processTxn(Request) applied, from which a leader DIFFs. A SNAP or a
	// TRUNC clears it (ZKDatabase.clear), the TRUNC's reload then refills it.
	committedLog []Txn
	// The request pipeline every role's ZooKeeperServer runs: what SyncRequestProcessor has
	// queued and not yet flushed (syncArmed: its flush is scheduled as timer syncGen), the
	// txns logged since the last snapshot, and the writes this server's clients asked for and
	// have not had answered.
	syncQueue []Txn
	syncArmed bool
	syncGen   uint32
	sinceSnap int
	clients   []uint64
	// disk mirrors what this process has made durable (the world holds the real disk and
	// hands it back when a write fails). Learner.shutdown reloads from it after a failed SNAP.
	disk Disk
	// diskLog is the array the mirror's txn log grows in (Disk.ApplyGrowing).
	diskLog []Txn
	// vote is QuorumPeer.currentVote: the last decided vote, which this server reports to
	// LOOKING servers; its PeerEpoch moves to the new epoch after sync (updateElectionVote).
	vote       Vote
	fle        fleState
	fleScratch []ServerID

	startWrites []DiskWrite
	booting     bool // the load-time writes of loadDataBase are under way
	timerGen    uint32
	electionGen uint32

	lead   leaderState
	learnr learnerState
}

// NewQuorumPeer rebuilds a server from its disk alone (QuorumPeer.start + loadDataBase). It
// returns a *LoadError when ZooKeeper refuses to start (spec §2.3). cfg must outlive the peer.
func NewQuorumPeer(cfg *Config, id ServerID, disk Disk) (*QuorumPeer, error) {
	p := new(QuorumPeer)
	if err := p.Reset(cfg, id, disk); err != nil {
		return nil, err
	}
	return p, nil
}

// Reset is NewQuorumPeer in place: p forgets everything (as a restarted process does) but
// keeps its storage, so a simulator can reuse the memory of a dead process.
func (p *QuorumPeer) Reset(cfg *Config, id ServerID, disk Disk) error {
	if !cfg.IsMember(id) {
		return &LoadError{Reason: fmt.Sprintf("My id %d not in the peer list", id)}
	}
	loaded, writes, err := loadDataBase(disk, p.startWrites)
	if err != nil {
		return err
	}
	t, _ := cfg.typeOf(id)
	loaded.Txns = share(loaded.Txns)
	lead, learnr, fle := p.lead, p.learnr, p.fle
	syncQueue, clients := p.syncQueue[:0], p.clients[:0]
	*p = QuorumPeer{
		cfg:               cfg,
		id:                id,
		learnerType:       t,
		acceptedEpoch:     loaded.AcceptedEpoch,
		currentEpoch:      loaded.CurrentEpoch,
		db:                loaded.Txns,
		lastProcessedZxid: loaded.LastZxid(),
		committedLog:      replayedAtLoad(&loaded, cfg.CommitLogCount),
		disk:              loaded,
		startWrites:       writes,
		lead:              lead,
		learnr:            learnr,
		syncQueue:         syncQueue,
		clients:           clients,
		fleScratch:        p.fleScratch[:0],
		// startLeaderElection: currentVote := (myid, lastLoggedZxid, currentEpoch).
		vote: Vote{Leader: id, Zxid: loaded.LastZxid(), ElectionEpoch: -1, PeerEpoch: loaded.CurrentEpoch},
	}
	p.fle.recvset, p.fle.outofelection = fle.recvset[:0], fle.outofelection[:0]
	p.lead.reset()
	p.learnr.reset()
	return nil
}

// ID returns the peer's sid.
func (p *QuorumPeer) ID() ServerID { return p.id }

// Step is the only door in. It handles what every role shares (start, write failures) and
// dispatches the rest to the current role: stepLooking, stepLeading, stepFollowing (which also
// serves OBSERVING). Effects are appended to out, which is returned.
func (p *QuorumPeer) Step(in Input, out []Effect) []Effect {
	if in.Kind != InputWriteFailed && in.Kind != InputStart {
		p.booting = false // a failed load-time write is answered before any other input
	}
	switch in.Kind {
	case InputStart:
		return p.start(&in, out)
	case InputWriteFailed:
		return p.writeFailed(&in, out)
	case InputNotification:
		return p.receiveNotification(in.Now, in.From, in.Msg.Vote, out)
	case InputClientRequest:
		return p.clientRequest(&in, out)
	case InputTimer:
		if in.Timer.Kind == TimerSync {
			if in.Timer.Gen == p.syncGen && p.syncArmed {
				out = p.syncFlush(in.Now, out)
			}
			return out
		}
	}
	switch p.state {
	case LOOKING:
		return p.stepLooking(&in, out)
	case LEADING:
		return p.stepLeading(&in, out)
	default:
		return p.stepLearner(&in, out)
	}
}

func (p *QuorumPeer) start(in *Input, out []Effect) []Effect {
	p.booting = len(p.startWrites) > 0
	for _, w := range p.startWrites {
		out = append(out, Effect{Kind: EffectPersist, Write: w})
		if w.Kind == WriteCurrentEpoch && w.Prev >= 0 {
			out = append(out, Effect{Kind: EffectProbe, Probe: ProbeUpdatingEpochRecovery})
		}
	}
	p.startWrites = p.startWrites[:0]
	return p.becomeLooking(in.Now, out)
}

// writeFailed handles an IOException from a durable write: the role exits and the server goes
// back to LOOKING (spec §7). With EpochMemoryBeforeFile the in-memory epoch keeps the value
// the file never got (ZOOKEEPER-2307).
func (p *QuorumPeer) writeFailed(in *Input, out []Effect) []Effect {
	out = append(out, Effect{Kind: EffectProbe, Probe: ProbeWriteFailed})
	p.disk = in.Disk
	p.disk.Txns = share(p.disk.Txns)
	if p.booting {
		// loadDataBase's writes happen in QuorumPeer.start: a failure there is fatal.
		out = note(out, Note{Kind: NoteLearnerLeft, Reason: "exit: loadDataBase failed: IOException writing " + in.Write.Kind.String()})
		return append(out, Effect{Kind: EffectExit})
	}
	if !p.cfg.Knobs.EpochMemoryBeforeFile {
		p.acceptedEpoch = in.Disk.AcceptedEpoch
		p.currentEpoch = in.Disk.CurrentEpoch
	}
	reason := "IOException writing " + in.Write.Kind.String()
	if l := &p.learnr; l.newLeaderSeen && l.phase == lnAwaitUptodate &&
		(in.Write.Kind == WriteUpdatingEpochMarker || in.Write.Kind == WriteSnapshot) {
		// The exception came before the NEWLEADER step applied its committed txns.
		p.db, p.lastProcessedZxid, p.committedLog = l.dbBefore, l.lastBefore, l.committedBefore
	}
	switch in.Write.Kind {
	case WriteTruncate:
		// FileTxnSnapLog.truncateLog catches the IOException and returns false, and
		// Learner.syncWithLeader exits on that (QUORUM_PACKET_ERROR), as it does when no log
		// holds the target (FileTxnSnapLog.java:513-534, Learner.java:619-627).
		return p.exit("Not able to truncate the log "+in.Write.Zxid.String()+": IOException writing truncate", out)
	case WriteTxns:
		// ZooKeeper applies a committed txn before, or apart from, its fsync (the NEWLEADER
		// step: appendRequest, processTxn, then ZKDatabase.commit; in BROADCAST the commit
		// and the logging thread run apart) and keeps it in memory when the fsync throws.
		// A failed write here leaves nothing on disk, so keeping it would leave a server
		// that reports, and is later DIFFed past, txns its log lacks: a hole. What a real
		// failed fsync leaves on disk is unknown, so the model takes the consistent side and
		// reloads the database from the disk (README, Modelling choices). ZOOKEEPER-4882
		// reports this data loss on ZooKeeper, and its pull request (apache/zookeeper#2268,
		// open) reloads the database the same way.
		p.reloadFromDisk()
	}
	switch p.state {
	case LEADING:
		return p.leaderShutdown(in.Now, "Forcing shutdown: "+reason, out)
	case FOLLOWING, OBSERVING:
		return p.learnerLeave(in.Now, reason, out)
	}
	return p.becomeLooking(in.Now, out)
}

// persistEpoch emits the write of an epoch file. ZooKeeper (since ZOOKEEPER-2307) updates the
// in-memory copy only after the file write succeeds; the model updates it now and undoes it
// in writeFailed, which is the same thing seen from outside.
func (p *QuorumPeer) persistEpoch(kind WriteKind, e Epoch, out []Effect) []Effect {
	w := DiskWrite{Kind: kind, Epoch: e}
	if kind == WriteAcceptedEpoch {
		w.Prev = p.acceptedEpoch
		p.acceptedEpoch = e
	} else {
		w.Prev = p.currentEpoch
		p.currentEpoch = e
	}
	return p.persist(w, out)
}

func (p *QuorumPeer) persist(w DiskWrite, out []Effect) []Effect {
	p.disk.ApplyGrowing(w, &p.diskLog)
	return append(out, Effect{Kind: EffectPersist, Write: w})
}

func (p *QuorumPeer) setState(s ServerState, z ZabState, out []Effect) []Effect {
	p.state, p.zab = s, z
	return append(out, Effect{Kind: EffectState, State: s, Zab: z})
}

func (p *QuorumPeer) setZab(z ZabState, out []Effect) []Effect {
	p.zab = z
	return append(out, Effect{Kind: EffectState, State: p.state, Zab: z})
}

// newTimer issues a fresh generation for a timer and arms it.
func (p *QuorumPeer) newTimer(kind TimerKind, conn ConnID, after, jitter time.Duration, out []Effect) (uint32, []Effect) {
	p.timerGen++
	id := TimerID{Kind: kind, Conn: conn, Gen: p.timerGen}
	return p.timerGen, append(out, Effect{Kind: EffectSetTimer, Timer: id, After: after, Jitter: jitter})
}

func note(out []Effect, n Note) []Effect { return append(out, Effect{Kind: EffectNote, Note: n}) }

func probe(out []Effect, pr Probe) []Effect { return append(out, Effect{Kind: EffectProbe, Probe: pr}) }

// becomeLooking is QuorumPeer.setPeerState(LOOKING) followed by the next lookForLeader. Role
// state is cleared here and only here.
func (p *QuorumPeer) becomeLooking(now Time, out []Effect) []Effect {
	wasObserver := p.state == OBSERVING
	p.lead.reset()
	p.learnr.reset()
	out = p.setState(LOOKING, ELECTION, out)
	return p.lookForLeader(now, wasObserver, out)
}

// View is a read-only snapshot of a peer, by value, for the checker and the report.
type View struct {
	ID            ServerID
	Type          LearnerType
	State         ServerState
	Zab           ZabState
	Leader        ServerID // the leader it leads or follows; -1 when LOOKING
	Epoch         Epoch    // leader: proposed/established epoch; learner: the leader's epoch; -1 if none
	AcceptedEpoch Epoch    // in memory
	CurrentEpoch  Epoch    // in memory
	LastZxid      Zxid     // dataTree.lastProcessedZxid
	PeerEpoch     Epoch
	Round         int64 // FLE's logical clock
	// NotTimeout is lookForLeader's current poll timeout (notTimeout): minNotificationInterval
	// at each new election, doubled at every poll that timed out.
	NotTimeout time.Duration
	Synced     bool // learner: processed UPTODATE; leader: in BROADCAST
	Listening  bool // accepting learner connections
}

// Role is the small part of a View that checkers consult after every event.
type Role struct {
	State  ServerState
	Zab    ZabState
	Synced bool
	Leader ServerID
	Epoch  Epoch
}

// Role returns the peer's role, leader and epoch.
func (p *QuorumPeer) Role() Role {
	switch p.state {
	case LEADING:
		return Role{State: p.state, Zab: p.zab, Leader: p.id, Epoch: p.lead.epoch, Synced: p.zab == BROADCAST}
	case FOLLOWING, OBSERVING:
		return Role{State: p.state, Zab: p.zab, Leader: p.learnr.leader, Epoch: p.learnr.newEpoch, Synced: p.learnr.phase == lnBroadcast}
	}
	return Role{State: p.state, Zab: p.zab, Leader: -1, Epoch: -1}
}

// View returns the peer's observable state without allocating.
func (p *QuorumPeer) View() View {
	v := View{ID: p.id, Type: p.learnerType, State: p.state, Zab: p.zab, Leader: -1, Epoch: -1,
		AcceptedEpoch: p.acceptedEpoch, CurrentEpoch: p.currentEpoch, LastZxid: p.lastProcessedZxid,
		PeerEpoch: p.vote.PeerEpoch, Round: p.fle.logicalclock, NotTimeout: p.fle.notTimeout}
	switch p.state {
	case LEADING:
		v.Leader = p.id
		v.Epoch = p.lead.epoch
		v.Synced = p.zab == BROADCAST
		v.Listening = true
	case FOLLOWING, OBSERVING:
		v.Leader = p.learnr.leader
		v.Epoch = p.learnr.newEpoch
		v.Synced = p.learnr.phase == lnBroadcast
	}
	return v
}

// HandlerView is a read-only view of one LearnerHandler of a leader.
type HandlerView struct {
	Conn     ConnID
	Sid      ServerID
	Type     LearnerType
	Phase    string
	SyncMode SyncMode
}

// VisitHandlers calls f for each live LearnerHandler, in accept order, without allocating.
func (p *QuorumPeer) VisitHandlers(f func(HandlerView)) {
	if p.state != LEADING {
		return
	}
	for i := range p.lead.handlers {
		h := &p.lead.handlers[i]
		if h.state == hDead {
			continue
		}
		f(HandlerView{Conn: h.conn, Sid: h.sid, Type: h.learnerType, Phase: h.state.String(), SyncMode: h.syncMode})
	}
}

// TimerLive reports whether firing timer t now could change anything. It is false only when
// Step would ignore the timer and change no state at all: a timer whose generation a newer one
// of its kind superseded (a socket read timeout re-armed by every packet read, a poll a
// notification cut short), or one whose wait is over. Such a timer is the model's artifact,
// not a thread of ZooKeeper's waking up, so the world drops it unseen (no trace line, no
// processing time). Each case repeats, read-only, the test the step function makes before it
// acts; when a step would clear some state on any input (the boot's pending writes, a
// learner's sync mode after NEWLEADER, a leader's ended handlers), the timer is reported live.
func (p *QuorumPeer) TimerLive(t TimerID) bool {
	if p.booting {
		return true // Step clears booting on any input
	}
	if t.Kind == TimerSync {
		return t.Gen == p.syncGen && p.syncArmed
	}
	switch p.state {
	case LOOKING:
		switch t.Kind {
		case TimerElection:
			return (p.cfg.Election.Assigned && t.Gen == p.electionGen) || (p.fle.running && t.Gen == p.fle.pollGen)
		case TimerFLEFinalize:
			return p.fle.running && t.Gen == p.fle.finalizeGen
		case TimerObserverPause:
			return t.Gen == p.electionGen && !p.fle.running
		}
		return false
	case LEADING:
		l := &p.lead
		for i := range l.handlers {
			if l.handlers[i].state == hDead {
				return true // stepLeading drops ended handlers after any input
			}
		}
		switch t.Kind {
		case TimerLeaderSelfRegister:
			return t.Gen == l.selfGen && l.phase == lpSelfRegister
		case TimerLeaderWait:
			return t.Gen == l.waitGen && !l.woken
		case TimerLeaderTick:
			return t.Gen == l.tickGen && l.phase == lpBroadcast
		case TimerHandler:
			h := l.handler(t.Conn)
			return h != nil && h.timer == t.Gen
		}
		return false
	default:
		l := &p.learnr
		if l.newLeaderSeen && l.mode != NONE {
			return true // stepLearner sets the sync mode to NONE on any input
		}
		switch t.Kind {
		case TimerLearnerRead:
			return t.Gen == l.readGen && l.conn != 0
		case TimerLearnerConnectRetry:
			return t.Gen == l.retryGen && l.phase == lnConnectSleep
		}
		return false
	}
}
