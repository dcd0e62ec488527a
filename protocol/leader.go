package protocol

import (
	"fmt"
	"slices"
	"time"
)

// StateSummary is a learner's (currentEpoch, lastZxid) as reported in ACKEPOCH
// (StateSummary.java).
type StateSummary struct {
	CurrentEpoch Epoch
	LastZxid     Zxid
}

// IsMoreRecentThan is StateSummary.isMoreRecentThan: lexicographic on (currentEpoch, lastZxid).
func (s StateSummary) IsMoreRecentThan(o StateSummary) bool {
	return s.CurrentEpoch > o.CurrentEpoch || (s.CurrentEpoch == o.CurrentEpoch && s.LastZxid > o.LastZxid)
}

// leaderPhase is where the leader's own thread (Leader.lead) is (spec §9.3).
type leaderPhase uint8

const (
	lpNone              leaderPhase = iota
	lpSelfRegister                  // acceptor started; own getEpochToPropose not called yet
	lpAwaitEpoch                    // own getEpochToPropose waiting
	lpAwaitEpochAck                 // own waitForEpochAck waiting
	lpAwaitNewLeaderAck             // own waitForNewLeaderAck waiting
	lpBroadcast                     // startZkServer done; tick loop
)

// handlerState is where one LearnerHandler thread is (spec §9.3).
type handlerState uint8

const (
	hDead                 handlerState = iota
	hAwaitInfo                         // reading FOLLOWERINFO/OBSERVERINFO
	hAwaitEpoch                        // in getEpochToPropose
	hAwaitAckEpoch                     // reading ACKEPOCH
	hAwaitEpochAckQuorum               // in waitForEpochAck
	hSendingSnapshot                   // writing a SNAP's snapshot to the socket; NEWLEADER not yet queued
	hAwaitNewLeaderAck                 // sync sent; reading the NEWLEADER ACK
	hAwaitNewLeaderQuorum              // in waitForNewLeaderAck
	hAwaitStartup                      // in waitForStartup
	hRunning                           // UPTODATE sent; main loop
)

var handlerStateNames = [...]string{"dead", "AwaitInfo", "AwaitEpoch", "AwaitAckEpoch",
	"AwaitEpochAckQuorum", "SendingSnapshot", "AwaitNewLeaderAck", "AwaitNewLeaderQuorum", "AwaitStartup", "Running"}

func (s handlerState) String() string { return handlerStateNames[s] }

// learnerHandler is one LearnerHandler: one learner connection on the leader.
type learnerHandler struct {
	conn        ConnID
	sid         ServerID // -1 until FOLLOWERINFO/OBSERVERINFO is read
	learnerType LearnerType
	state       handlerState
	// timer is the generation of this handler's one timer: the socket read timeout in a read
	// state, its own deadline in a wait (each waiter has its own: spec §5.3).
	timer                 uint32
	lastAcceptedEpoch     Epoch
	ss                    StateSummary
	tickOfNextAckDeadline int
	sendingThreadStarted  bool
	syncMode              SyncMode
	// woken: the wait this handler was in is over and its thread waits for the world to run
	// it (EffectWake); wakeGen names that wake.
	woken   bool
	wakeGen uint32
	// forwarding: the handler is in forwardingFollowers or observingLearners
	// (Leader.startForwarding), so live PROPOSAL, COMMIT and INFORM packets go to it.
	forwarding bool
	// unacked: the PROPOSALs sent to it and not yet acked, for SyncLimitCheck.
	unacked []unackedProposal
}

// leaderState is Leader.java's shared state plus the leader thread's own position.
type leaderState struct {
	phase               leaderPhase
	epoch               Epoch
	waitingForNewEpoch  bool
	electionFinished    bool
	quorumFormed        bool
	zkRunning           bool
	connectingFollowers []ServerID
	electingFollowers   []ServerID
	newLeaderAcks       []ServerID
	leaderStateSummary  StateSummary
	selfGen, waitGen    uint32
	tickGen             uint32
	tick                int
	tickSkip            bool
	handlers            []learnerHandler
	scratch             []ServerID
	// woken: the leader's own wait is over and its thread waits to be run (EffectWake).
	woken   bool
	wakeGen uint32
	// timeStartWaitForEpoch is when the leader's own getEpochToPropose began to wait (-1:
	// it has not), for maxTimeToWaitForEpoch (ZOOKEEPER-3109).
	timeStartWaitForEpoch Time
	// The broadcast phase: Leader.lastProposed, outstandingProposals (in zxid order) and
	// lastCommitted.
	lastProposed  Zxid
	lastCommitted Zxid
	outstanding   []proposal
}

// reset clears the leader state but keeps its slices' storage for the next term.
func (l *leaderState) reset() {
	*l = leaderState{
		epoch:                 -1,
		timeStartWaitForEpoch: -1,
		connectingFollowers:   l.connectingFollowers[:0],
		electingFollowers:     l.electingFollowers[:0],
		newLeaderAcks:         l.newLeaderAcks[:0],
		handlers:              l.handlers[:0],
		scratch:               l.scratch[:0],
		outstanding:           l.outstanding[:0],
	}
}

func (l *leaderState) handler(c ConnID) *learnerHandler {
	for i := range l.handlers {
		if h := &l.handlers[i]; h.conn == c && h.state != hDead {
			return h
		}
	}
	return nil
}

func addSid(set []ServerID, id ServerID) []ServerID {
	if slices.Contains(set, id) {
		return set
	}
	return append(set, id)
}

// becomeLeading starts Leader.lead() (spec §5.1 steps 1-3): DISCOVERY, zk.loadData() (which
// takes a snapshot), the leader's state summary, and the LearnerCnxAcceptor. The leader's own
// getEpochToPropose follows after a thread-scheduling gap the world resolves.
func (p *QuorumPeer) becomeLeading(now Time, out []Effect) []Effect {
	p.lead.reset()
	p.learnr.reset()
	l := &p.lead
	l.waitingForNewEpoch = true
	l.tickSkip = true
	out = p.setState(LEADING, DISCOVERY, out)
	out = p.persist(DiskWrite{Kind: WriteSnapshot, Txns: share(p.db), Zxid: p.lastProcessedZxid}, out)
	l.leaderStateSummary = StateSummary{CurrentEpoch: p.currentEpoch, LastZxid: p.lastProcessedZxid}
	out = append(out, Effect{Kind: EffectListen, Listen: true})
	l.phase = lpSelfRegister
	l.selfGen, out = p.newTimer(TimerLeaderSelfRegister, 0, p.cfg.LeaderSelfRegisterDelay, p.cfg.LeaderSelfRegisterJitter, out)
	return out
}

func (p *QuorumPeer) stepLeading(in *Input, out []Effect) []Effect {
	l := &p.lead
	switch in.Kind {
	case InputTimer:
		switch in.Timer.Kind {
		case TimerLeaderSelfRegister:
			if in.Timer.Gen == l.selfGen && l.phase == lpSelfRegister {
				out = p.leaderGetEpochToPropose(in.Now, out)
			}
		case TimerLeaderWait:
			if in.Timer.Gen == l.waitGen && !l.woken {
				out = p.leaderWaitExpired(in.Now, out)
			}
		case TimerLeaderTick:
			if in.Timer.Gen == l.tickGen && l.phase == lpBroadcast {
				out = p.leaderTick(in.Now, out)
			}
		case TimerHandler:
			if h := l.handler(in.Timer.Conn); h != nil && h.timer == in.Timer.Gen {
				out = p.handlerTimerExpired(in.Now, h, out)
			}
		}
	case InputResume:
		out = p.resumeThread(in.Now, in.Timer, out)
	case InputAccepted:
		out = p.acceptLearner(in, out)
	case InputMessage:
		if h := l.handler(in.Conn); h != nil {
			out = p.handlerRead(in.Now, h, in.Msg, out)
		}
	case InputClosed:
		if h := l.handler(in.Conn); h != nil {
			out = p.endHandler(h, "Unexpected exception causing shutdown while sock still open: connection closed", out)
		}
	case InputConnected:
		out = append(out, Effect{Kind: EffectClose, Conn: in.Conn})
	}
	if p.state == LEADING {
		l.handlers = slices.DeleteFunc(l.handlers, func(h learnerHandler) bool { return h.state == hDead })
	}
	return out
}

// acceptLearner is LearnerCnxAcceptor accepting a socket and starting its LearnerHandler: the
// read timeout is initLimit*tickTime and the first ack deadline tick+initLimit+syncLimit.
func (p *QuorumPeer) acceptLearner(in *Input, out []Effect) []Effect {
	l := &p.lead
	l.handlers = append(l.handlers, learnerHandler{conn: in.Conn, sid: -1, state: hAwaitInfo,
		tickOfNextAckDeadline: l.tick + p.cfg.InitLimit + p.cfg.SyncLimit})
	h := &l.handlers[len(l.handlers)-1]
	h.timer, out = p.newTimer(TimerHandler, h.conn, p.cfg.InitLimitTime(), 0, out)
	return out
}

func (p *QuorumPeer) handlerArm(h *learnerHandler, d time.Duration, out []Effect) []Effect {
	h.timer, out = p.newTimer(TimerHandler, h.conn, d, 0, out)
	return out
}

func (p *QuorumPeer) send(c ConnID, m Message, out []Effect) []Effect {
	return append(out, Effect{Kind: EffectSend, Conn: c, Msg: m})
}

// handlerRead is LearnerHandler.run reading one packet. A handler that is inside a wait is not
// reading; nothing a learner sends can arrive then (every learner waits for the leader's next
// packet), so such a packet is dropped.
func (p *QuorumPeer) handlerRead(now Time, h *learnerHandler, m Message, out []Effect) []Effect {
	l := &p.lead
	switch h.state {
	case hAwaitInfo:
		if m.Type != FOLLOWERINFO && m.Type != OBSERVERINFO {
			return p.endHandler(h, "First packet "+m.Type.String()+" is not FOLLOWERINFO or OBSERVERINFO!", out)
		}
		h.sid = m.Sid
		if m.Type == OBSERVERINFO {
			h.learnerType = OBSERVER
			out = probe(out, ProbeObserverRegistered)
		}
		if m.ConfigVersion > 0 {
			return p.endHandler(h, "Follower is ahead of the leader (has a later activated configuration)", out)
		}
		h.lastAcceptedEpoch = m.Zxid.Epoch()
		out = note(out, Note{Kind: NoteRegistered, Peer: h.sid, Epoch: h.lastAcceptedEpoch})
		if !l.waitingForNewEpoch {
			out = probe(out, ProbeLateJoiner)
		}
		if !l.waitingForNewEpoch {
			return p.sendLeaderInfo(h, out) // the epoch is decided: no wait
		}
		h.state = hAwaitEpoch
		if p.getEpochToPropose(h.sid, h.lastAcceptedEpoch, &out) {
			return p.wakeWaiters(out)
		}
		out = p.handlerArm(h, p.cfg.InitLimitTime(), out)
	case hAwaitAckEpoch:
		if m.Type != ACKEPOCH {
			return p.endHandler(h, "Next packet was supposed to be an ACKEPOCH, but received packet: "+m.Type.String(), out)
		}
		h.ss = StateSummary{CurrentEpoch: m.Epoch, LastZxid: m.Zxid}
		return p.handlerWaitForEpochAck(now, h, out)
	case hAwaitNewLeaderAck:
		if m.Type != ACK {
			return p.endHandler(h, "Next packet was supposed to be an ACK, but received packet: "+m.Type.String(), out)
		}
		return p.handlerWaitForNewLeaderAck(now, h, m.Zxid, out)
	case hRunning:
		// Every packet in the main loop moves the ack deadline (spec §5.7). An ACK goes to
		// processAck (the post-UPTODATE ACK, of counter 0, is ignored there); a REQUEST is a
		// client write a learner forwards.
		h.tickOfNextAckDeadline = l.tick + p.cfg.SyncLimit
		out = p.handlerArm(h, p.cfg.SyncLimitTime(), out)
		switch m.Type {
		case ACK:
			h.handlerAck(m.Zxid)
			out = p.processAck(now, h.sid, m.Zxid, out)
		case REQUEST:
			out = p.leaderRequest(now, m.Txn.Value, out)
		}
	}
	return out
}

// getEpochToPropose is Leader.getEpochToPropose (spec §5.3), minus the wait: every caller
// raises the epoch, only voters join connectingFollowers, and the decision needs a quorum that
// includes the leader. It reports whether this call decided the epoch; otherwise the caller
// waits (a state plus its own deadline) until a later call decides it and wakes the waiters.
func (p *QuorumPeer) getEpochToPropose(sid ServerID, lastAcceptedEpoch Epoch, out *[]Effect) bool {
	l := &p.lead
	if !l.waitingForNewEpoch {
		return false
	}
	if lastAcceptedEpoch >= l.epoch {
		l.epoch = lastAcceptedEpoch + 1
	}
	if p.cfg.counts(sid) {
		l.connectingFollowers = addSid(l.connectingFollowers, sid)
	}
	withLeader := slices.Contains(l.connectingFollowers, p.id) || p.cfg.Knobs.EpochQuorumIgnoresLeader
	if withLeader && p.cfg.ContainsQuorum(l.connectingFollowers) {
		l.waitingForNewEpoch = false
		// acceptedEpoch is durable before anyone is released, so before any LEADERINFO.
		*out = p.persistEpoch(WriteAcceptedEpoch, l.epoch, *out)
		*out = note(*out, Note{Kind: NoteEpochDecided, Epoch: l.epoch, Sids: slices.Clone(l.connectingFollowers)})
		return true
	}
	return false
}

// waitForEpochAck is Leader.waitForEpochAck (spec §5.5) minus the wait. It returns an error
// message when the learner is ahead of the leader; the caller checks electionFinished to see
// whether its call ended the election.
func (p *QuorumPeer) waitForEpochAck(sid ServerID, ss StateSummary, out *[]Effect) string {
	l := &p.lead
	if ss.CurrentEpoch != -1 {
		if ss.IsMoreRecentThan(l.leaderStateSummary) {
			return fmt.Sprintf("Follower is ahead of the leader, leader summary: %d (current epoch), %s (last zxid)",
				l.leaderStateSummary.CurrentEpoch, l.leaderStateSummary.LastZxid)
		}
		if ss.LastZxid != -1 && p.cfg.counts(sid) {
			l.electingFollowers = addSid(l.electingFollowers, sid)
		}
	}
	if slices.Contains(l.electingFollowers, p.id) && p.cfg.ContainsQuorum(l.electingFollowers) {
		l.electionFinished = true
		*out = note(*out, Note{Kind: NoteEpochAcked, Epoch: l.epoch, Sids: slices.Clone(l.electingFollowers)})
	}
	return ""
}

// waitForNewLeaderAck is Leader.waitForNewLeaderAck (spec §5.7) minus the wait. The leader's
// own ack is not required here. It reports false for an ACK of another epoch, which ZooKeeper
// only logs before letting the handler go on.
func (p *QuorumPeer) waitForNewLeaderAck(sid ServerID, zxid Zxid, out *[]Effect) bool {
	l := &p.lead
	if zxid != MakeZxid(l.epoch, 0) {
		return false
	}
	if p.cfg.counts(sid) {
		l.newLeaderAcks = addSid(l.newLeaderAcks, sid)
	}
	if p.cfg.ContainsQuorum(l.newLeaderAcks) {
		l.quorumFormed = true
		*out = note(*out, Note{Kind: NoteNewLeaderQuorum, Epoch: l.epoch, Sids: slices.Clone(l.newLeaderAcks)})
	}
	return true
}

func (p *QuorumPeer) handlerWaitForEpochAck(now Time, h *learnerHandler, out []Effect) []Effect {
	l := &p.lead
	if h.ss.CurrentEpoch == -1 {
		out = probe(out, ProbeAckEpochMinusOne)
	}
	if l.electionFinished {
		return p.syncFollower(now, h, out) // a late joiner: no wait, and no "ahead" check
	}
	if msg := p.waitForEpochAck(h.sid, h.ss, &out); msg != "" {
		out = probe(out, ProbeFollowerAhead)
		return p.endHandler(h, msg, out)
	}
	h.state = hAwaitEpochAckQuorum
	if l.electionFinished {
		return p.wakeWaiters(out)
	}
	return p.handlerArm(h, p.cfg.InitLimitTime(), out)
}

func (p *QuorumPeer) handlerWaitForNewLeaderAck(now Time, h *learnerHandler, zxid Zxid, out []Effect) []Effect {
	l := &p.lead
	if l.quorumFormed {
		return p.handlerWaitForStartup(h, out)
	}
	if !p.waitForNewLeaderAck(h.sid, zxid, &out) {
		// "NEWLEADER ACK from sid: X is from a different epoch": logged; the handler goes on.
		return p.handlerWaitForStartup(h, out)
	}
	h.state = hAwaitNewLeaderQuorum
	if l.quorumFormed {
		return p.wakeWaiters(out)
	}
	return p.handlerArm(h, p.cfg.InitLimitTime(), out)
}

// wakeWaiters is the notifyAll of Leader's three waits and of ZooKeeperServer.startup (which
// releases waitForStartup): every thread whose wait is over, the one whose call ended it
// included, is woken. ZooKeeper runs them in any order, so the world decides (EffectWake); the
// leader's own thread first is one of the orders (spec §2.4 step 4 MARK: then currentEpoch is
// durable before any NEWLEADER leaves; in the others a handler may send NEWLEADER first, as it
// may in ZooKeeper, Leader.java:711 against LearnerHandler.java:601-606).
func (p *QuorumPeer) wakeWaiters(out []Effect) []Effect {
	l := &p.lead
	over := l.phase == lpAwaitEpoch && !l.waitingForNewEpoch || l.phase == lpAwaitEpochAck && l.electionFinished ||
		l.phase == lpAwaitNewLeaderAck && l.quorumFormed
	if over && !l.woken {
		l.woken = true
		l.wakeGen++
		out = append(out, Effect{Kind: EffectWake, Timer: TimerID{Kind: TimerThread, Gen: l.wakeGen}, After: p.cfg.LeaderThreadDelay})
	}
	for i := range l.handlers {
		h := &l.handlers[i]
		over := h.state == hAwaitEpoch && !l.waitingForNewEpoch || h.state == hAwaitEpochAckQuorum && l.electionFinished ||
			h.state == hAwaitNewLeaderQuorum && l.quorumFormed || h.state == hAwaitStartup && l.zkRunning
		if over && !h.woken {
			h.woken, h.timer = true, 0 // its deadline no longer applies
			h.wakeGen++
			out = append(out, Effect{Kind: EffectWake, Timer: TimerID{Kind: TimerThread, Conn: h.conn, Gen: h.wakeGen}})
		}
	}
	return out
}

// resumeThread runs a woken thread's next step.
func (p *QuorumPeer) resumeThread(now Time, t TimerID, out []Effect) []Effect {
	l := &p.lead
	if t.Conn == 0 {
		if !l.woken || t.Gen != l.wakeGen {
			return out
		}
		l.woken = false
		switch l.phase {
		case lpAwaitEpoch:
			return p.leaderWaitForEpochAck(now, out)
		case lpAwaitEpochAck:
			return p.leaderSync(now, out)
		case lpAwaitNewLeaderAck:
			return p.startZkServer(now, out)
		}
		return out
	}
	h := l.handler(t.Conn)
	if h == nil || !h.woken || t.Gen != h.wakeGen {
		return out
	}
	h.woken = false
	switch h.state {
	case hAwaitEpoch:
		return p.sendLeaderInfo(h, out)
	case hAwaitEpochAckQuorum:
		return p.syncFollower(now, h, out)
	case hAwaitNewLeaderQuorum, hAwaitStartup:
		return p.handlerWaitForStartup(h, out)
	}
	return out
}

// sendLeaderInfo: LEADERINFO(e<<32, protocol 0x10000), then read ACKEPOCH (spec §5.4).
func (p *QuorumPeer) sendLeaderInfo(h *learnerHandler, out []Effect) []Effect {
	out = p.send(h.conn, Message{Type: LEADERINFO, Zxid: MakeZxid(p.lead.epoch, 0), Version: ProtocolVersion}, out)
	h.state = hAwaitAckEpoch
	return p.handlerArm(h, p.cfg.InitLimitTime(), out)
}

// syncFollower queues the sync packets and NEWLEADER, and starts the sender (spec §5.6, §5.7).
// Under the log lock it also calls Leader.startForwarding: the outstanding proposals newer than
// what the sync covers follow the sync packets (voters only; observers get INFORM at commit),
// and the handler joins the forwarding set, so every later PROPOSAL and COMMIT follows too.
// NEWLEADER is queued after all of it.
func (p *QuorumPeer) syncFollower(now Time, h *learnerHandler, out []Effect) []Effect {
	l := &p.lead
	k := &p.cfg.Knobs
	sk := SyncKnobs{TruncToZxidNotHeld: k.TruncToZxidNotHeld, NoTxnlogGapCheck: k.NoTxnlogGapCheck,
		LimitTxnLogRead: true, MaxTxnLogRead: p.cfg.maxTxnLogRead()}
	var plan SyncPlan
	if k.NoTxnlogGapCheck || k.TxnLogGapCheckAtEndOnly {
		// ZooKeeper reads every log file from the learner's zxid on, those a SNAP left too.
		plan = SyncFollowerLogs(h.ss.LastZxid, p.committedLog, p.disk.TxnLog(), p.lastProcessedZxid, sk)
	} else {
		// The model's leader does not read the files a SNAP superseded: across the gap they
		// end in, a DIFF would skip txns that 2418's check cannot see.
		plan = SyncFollowerLogs(h.ss.LastZxid, p.committedLog, p.disk.LoggedTxns(), p.lastProcessedZxid, sk)
		if len(p.disk.Superseded) > 0 {
			if zk := SyncFollowerLogs(h.ss.LastZxid, p.committedLog, p.disk.TxnLog(), p.lastProcessedZxid, sk); zk.Mode != plan.Mode {
				out = probe(out, ProbeSupersededLogSkipped)
			}
		}
	}
	if k.DiffInsteadOfTrunc && plan.Mode == TRUNC {
		// ZOOKEEPER-1154: the peer is told it is in sync up to the leader's last txn and
		// keeps what it has beyond it.
		plan = SyncPlan{Mode: DIFF, Zxid: plan.Zxid}
	}
	h.syncMode = plan.Mode
	if plan.Mode != DIFF && !k.AcksKeptAcrossResync {
		if p.dropResyncedAcks(h.sid, plan.Current) {
			out = probe(out, ProbeResyncDroppedAck)
		}
	}
	out = note(out, Note{Kind: NoteSyncChosen, Peer: h.sid, Mode: plan.Mode, Zxid: plan.Zxid, PeerZxid: h.ss.LastZxid, Epoch: l.epoch})
	switch plan.Mode {
	case SNAP:
		out = probe(out, ProbeSyncSNAP)
		if plan.RefusedTrunc {
			out = probe(out, ProbeSnapFromRefusedTrunc)
		}
		if plan.TxnLogTooLarge {
			out = probe(out, ProbeSnapFromTxnLogSize)
		}
		out = p.send(h.conn, Message{Type: SNAPPKT, Zxid: plan.Zxid, Txns: share(p.db)}, out)
	case TRUNC:
		out = probe(out, ProbeSyncTRUNC)
		out = p.send(h.conn, Message{Type: TRUNCPKT, Zxid: plan.Zxid}, out)
	default:
		out = probe(out, ProbeSyncDIFF)
		if plan.FromTxnLog {
			out = probe(out, ProbeDiffFromTxnLog)
		}
		out = p.send(h.conn, Message{Type: DIFFPKT, Zxid: plan.Zxid}, out)
	}
	newLeader := Message{Type: NEWLEADER, Zxid: MakeZxid(l.epoch, 0)}
	if k.NewLeaderSentUnqueued && len(plan.Proposals) > 0 {
		// ZOOKEEPER-1136: NEWLEADER is written to the socket at once, ahead of the queue.
		out = p.send(h.conn, newLeader, out)
	}
	for _, t := range plan.Proposals {
		out = p.send(h.conn, Message{Type: PROPOSAL, Zxid: t.Zxid, Txn: t}, out)
		out = p.send(h.conn, Message{Type: COMMIT, Zxid: t.Zxid}, out)
	}
	// startForwarding(handler, currentZxid): nothing is committed and not yet applied in the
	// model (the leader applies at commit), so only outstanding proposals are queued.
	if h.learnerType == PARTICIPANT {
		for _, pr := range l.outstanding {
			if pr.txn.Zxid > plan.Current {
				out = probe(out, ProbeWriteDuringSync)
				out = p.sendProposal(now, h, pr.txn, out)
			}
		}
	}
	h.forwarding = true
	if plan.Mode == SNAP {
		// LearnerHandler.run writes SNAP and the serialized database to the socket after
		// syncFollower has released the leader's lock, and only then starts the sender and
		// queues NEWLEADER; what commits meanwhile queues a COMMIT behind the forwarded
		// proposals, ahead of NEWLEADER, and the learner, still applying in memory, applies
		// it and takes it into its NEWLEADER snapshot, not its log. The model's snapshot is
		// the database at syncFollower, which the forwarded proposals continue; ZooKeeper's
		// is the database when it is written, which may already hold some of them.
		h.state = hSendingSnapshot
		d, j := p.cfg.snapshotSendDelay()
		h.timer, out = p.newTimer(TimerHandler, h.conn, d, j, out)
		return out
	}
	if !(k.NewLeaderSentUnqueued && len(plan.Proposals) > 0) {
		out = p.send(h.conn, newLeader, out)
	}
	return p.queuedNewLeader(h, out)
}

// queuedNewLeader: NEWLEADER is queued (startSendingPackets has run); read its ACK within
// initLimit.
func (p *QuorumPeer) queuedNewLeader(h *learnerHandler, out []Effect) []Effect {
	h.sendingThreadStarted = true
	h.state = hAwaitNewLeaderAck
	return p.handlerArm(h, p.cfg.InitLimitTime(), out)
}

// dropResyncedAcks forgets sid's acks of the outstanding proposals above current, the zxid a
// TRUNC or SNAP brings it to: its disk will no longer hold them, and it acks them again once
// startForwarding has re-sent them and it has logged them. ZooKeeper keeps these acks (the
// AcksKeptAcrossResync knob): Leader.removeLearnerHandler (Leader.java 293-303) only leaves the
// learner sets, and nothing on the new handler's path clears Proposal.qvAcksetPairs.
func (p *QuorumPeer) dropResyncedAcks(sid ServerID, current Zxid) (dropped bool) {
	for i := range p.lead.outstanding {
		pr := &p.lead.outstanding[i]
		if pr.txn.Zxid > current {
			if j := slices.Index(pr.acks, sid); j >= 0 {
				pr.acks = slices.Delete(slices.Clone(pr.acks), j, j+1)
				dropped = true
			}
		}
	}
	return dropped
}

// handlerWaitForStartup: read timeout becomes syncLimit, then waitForStartup; once the leader's
// zk server runs, queue UPTODATE and enter the main loop.
func (p *QuorumPeer) handlerWaitForStartup(h *learnerHandler, out []Effect) []Effect {
	if !p.lead.zkRunning {
		h.state = hAwaitStartup
		h.timer = 0 // waitForStartup has no timeout
		return out
	}
	out = p.send(h.conn, Message{Type: UPTODATE, Zxid: -1}, out)
	h.state = hRunning
	return p.handlerArm(h, p.cfg.SyncLimitTime(), out)
}

// handlerTimerExpired: a read timed out, or this handler's own deadline in a wait passed.
func (p *QuorumPeer) handlerTimerExpired(now Time, h *learnerHandler, out []Effect) []Effect {
	switch h.state {
	case hAwaitEpoch:
		return p.endHandler(h, "Timeout while waiting for epoch from quorum", out)
	case hAwaitEpochAckQuorum:
		if p.cfg.Knobs.EpochAckWaitsWrongFlag {
			// ZOOKEEPER-1192: the check after the wait looks at waitingForNewEpoch, which is
			// already false, so the handler goes on to sync without an epoch-ack quorum.
			return p.syncFollower(now, h, out)
		}
		return p.endHandler(h, "Timeout while waiting for epoch to be acked by quorum", out)
	case hAwaitNewLeaderQuorum:
		return p.endHandler(h, "Timeout while waiting for NEWLEADER to be acked by quorum", out)
	case hAwaitStartup:
		return out
	case hSendingSnapshot:
		out = p.send(h.conn, Message{Type: NEWLEADER, Zxid: MakeZxid(p.lead.epoch, 0)}, out)
		return p.queuedNewLeader(h, out)
	}
	return p.endHandler(h, "SocketTimeoutException: Read timed out", out)
}

// endHandler is LearnerHandler.shutdown: close the socket and leave the learner sets. The sid
// stays in connectingFollowers/electingFollowers, as in ZooKeeper.
func (p *QuorumPeer) endHandler(h *learnerHandler, reason string, out []Effect) []Effect {
	out = append(out, Effect{Kind: EffectClose, Conn: h.conn})
	out = note(out, Note{Kind: NoteHandlerEnded, Peer: h.sid, Reason: reason})
	h.state = hDead
	return out
}

// leaderGetEpochToPropose is lead() step 4: the leader's own registration.
func (p *QuorumPeer) leaderGetEpochToPropose(now Time, out []Effect) []Effect {
	l := &p.lead
	l.phase = lpAwaitEpoch
	if !l.waitingForNewEpoch {
		return p.leaderWaitForEpochAck(now, out) // decided without it (EpochQuorumIgnoresLeader)
	}
	if p.getEpochToPropose(p.id, p.acceptedEpoch, &out) {
		return p.wakeWaiters(out)
	}
	l.timeStartWaitForEpoch = now
	out = note(out, Note{Kind: NoteEpochWait, Epoch: l.epoch})
	l.waitGen, out = p.newTimer(TimerLeaderWait, 0, p.cfg.InitLimitTime(), 0, out)
	return out
}

// leaderWaitForEpochAck is lead() step 6: the leader's own waitForEpochAck.
func (p *QuorumPeer) leaderWaitForEpochAck(now Time, out []Effect) []Effect {
	l := &p.lead
	l.phase = lpAwaitEpochAck
	p.waitForEpochAck(p.id, l.leaderStateSummary, &out)
	if l.electionFinished {
		return p.wakeWaiters(out)
	}
	l.waitGen, out = p.newTimer(TimerLeaderWait, 0, p.cfg.InitLimitTime(), 0, out)
	return out
}

// leaderSync is lead() steps 7-8: write currentEpoch, SYNCHRONIZATION, count its own
// NEWLEADER ack. The NEWLEADER quorum does not need the leader, so it may be formed already.
func (p *QuorumPeer) leaderSync(now Time, out []Effect) []Effect {
	l := &p.lead
	out = p.persistEpoch(WriteCurrentEpoch, l.epoch, out)
	out = p.setZab(SYNCHRONIZATION, out)
	l.phase = lpAwaitNewLeaderAck
	if l.quorumFormed {
		return p.startZkServer(now, out)
	}
	p.waitForNewLeaderAck(p.id, MakeZxid(l.epoch, 0), &out)
	if l.quorumFormed {
		return p.wakeWaiters(out)
	}
	l.waitGen, out = p.newTimer(TimerLeaderWait, 0, p.cfg.InitLimitTime(), 0, out)
	return out
}

// startZkServer is spec §5.8: lastProcessedZxid := e<<32 in memory, the vote's peerEpoch := e,
// BROADCAST, and the tick loop. zk.startup() ends with notifyAll, which releases the handlers
// in waitForStartup.
func (p *QuorumPeer) startZkServer(now Time, out []Effect) []Effect {
	l := &p.lead
	l.phase = lpBroadcast
	l.zkRunning = true
	p.lastProcessedZxid = MakeZxid(l.epoch, 0)
	l.lastProposed, l.lastCommitted = p.lastProcessedZxid, p.lastProcessedZxid
	p.vote.PeerEpoch = l.epoch // updateElectionVote
	out = p.setZab(BROADCAST, out)
	l.tickGen, out = p.newTimer(TimerLeaderTick, 0, p.cfg.TickTime/2, 0, out)
	return p.wakeWaiters(out)
}

// reportLookingSid is Leader.reportLookingSid (ZOOKEEPER-3109), called by WorkerReceiver for a
// LOOKING notification from a voter: a leader whose own getEpochToPropose has waited longer
// than maxTimeToWaitForEpoch quits (quitLeading), and every waiter of getEpochToPropose, the
// leader's thread included, throws "Timeout while waiting for epoch from quorum". The vote
// set's hasSid is true for any voting member (SyncedLearnerTracker.hasSid), not only for the
// servers that elected this leader.
func (p *QuorumPeer) reportLookingSid(now Time, sid ServerID, out []Effect) []Effect {
	l := &p.lead
	max := p.cfg.MaxTimeToWaitForEpoch
	if max <= 0 || p.cfg.Knobs.NoQuitOnDisloyalVoter || l.timeStartWaitForEpoch < 0 || !l.waitingForNewEpoch || l.woken ||
		!p.cfg.IsParticipant(sid) || time.Duration(now-l.timeStartWaitForEpoch) <= max {
		return out
	}
	out = probe(out, ProbeQuitLeading)
	return p.leaderShutdown(now, fmt.Sprintf("Forcing shutdown: Timeout while waiting for epoch from quorum (Quit leading due to voter changed mind: %d is LOOKING)", sid), out)
}

// leaderWaitExpired: the leader's own deadline in its current wait passed (spec §7).
func (p *QuorumPeer) leaderWaitExpired(now Time, out []Effect) []Effect {
	l := &p.lead
	switch l.phase {
	case lpAwaitEpoch:
		out = probe(out, ProbeLeaderEpochTimeout)
		return p.leaderShutdown(now, "Forcing shutdown: Timeout while waiting for epoch from quorum", out)
	case lpAwaitEpochAck:
		if p.cfg.Knobs.EpochAckWaitsWrongFlag {
			return p.leaderSync(now, out) // ZOOKEEPER-1192: "succeeds" without a quorum
		}
		out = probe(out, ProbeLeaderEpochAckTimeout)
		return p.leaderShutdown(now, "Forcing shutdown: Timeout while waiting for epoch to be acked by quorum", out)
	case lpAwaitNewLeaderAck:
		out = probe(out, ProbeLeaderNewLeaderTimeout)
		return p.leaderShutdown(now, "Waiting for a quorum of followers, only synced with sids: "+
			string(appendSids(nil, l.newLeaderAcks)), out)
	}
	return out
}

// leaderTick is one pass of lead()'s loop (spec §5.9): every second pass tick++ and the synced
// quorum check; every pass pings the learners whose sender started.
func (p *QuorumPeer) leaderTick(now Time, out []Effect) []Effect {
	l := &p.lead
	if !l.tickSkip {
		l.tick++
		synced := append(l.scratch[:0], p.id)
		for i := range l.handlers {
			h := &l.handlers[i]
			if h.state != hDead && h.sid >= 0 && l.tick <= h.tickOfNextAckDeadline && p.cfg.counts(h.sid) {
				synced = addSid(synced, h.sid)
			}
		}
		l.scratch = synced
		if !p.cfg.ContainsQuorum(synced) {
			out = probe(out, ProbeTickQuorumLost)
			out = note(out, Note{Kind: NoteTickSynced, Sids: slices.Clone(synced), Reason: "lost"})
			return p.leaderShutdown(now, "Not sufficient followers synced, only synced with sids: "+
				string(appendSids(nil, synced)), out)
		}
	}
	l.tickSkip = !l.tickSkip
	for i := range l.handlers {
		h := &l.handlers[i]
		switch {
		case h.state == hDead || !h.sendingThreadStarted:
		case !p.syncLimitCheck(now, h):
			out = p.endHandler(h, "Closing connection to peer due to transaction timeout.", out)
		default:
			out = p.send(h.conn, Message{Type: PING, Zxid: l.lastProposed}, out)
		}
	}
	l.tickGen, out = p.newTimer(TimerLeaderTick, 0, p.cfg.TickTime/2, 0, out)
	return out
}

// leaderShutdown is Leader.shutdown(reason) followed by QuorumPeer going LOOKING (spec §5.10).
func (p *QuorumPeer) leaderShutdown(now Time, reason string, out []Effect) []Effect {
	out = note(out, Note{Kind: NoteLeaderShutdown, Reason: reason, Epoch: p.lead.epoch})
	for i := range p.lead.handlers {
		if h := &p.lead.handlers[i]; h.state != hDead {
			out = append(out, Effect{Kind: EffectClose, Conn: h.conn})
			h.state = hDead
		}
	}
	out = append(out, Effect{Kind: EffectListen, Listen: false})
	out = p.zkShutdown(p.lead.zkRunning, false, out)
	return p.becomeLooking(now, out)
}
