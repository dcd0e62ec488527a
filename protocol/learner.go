package protocol

import (
	"fmt"
	"time"
)

// learnerPhase is where Follower.followLeader / Observer.observeLeader is (spec §9.3).
type learnerPhase uint8

const (
	lnNone            learnerPhase = iota
	lnConnecting                   // a connect attempt is under way
	lnConnectSleep                 // sleeping between tries
	lnAwaitLeaderInfo              // registerWithLeader: FOLLOWERINFO sent
	lnAwaitSyncStart               // ACKEPOCH sent; syncWithLeader reads DIFF/TRUNC/SNAP
	lnSyncing                      // reading PROPOSAL/COMMIT until NEWLEADER
	lnAwaitUptodate                // NEWLEADER acknowledged; waiting for UPTODATE
	lnBroadcast                    // following
)

// learnerState is Learner.java's state for one followLeader/observeLeader call.
type learnerState struct {
	phase          learnerPhase
	leader         ServerID
	conn           ConnID
	tries          int
	connectStart   Time
	readGen        uint32
	retryGen       uint32
	newEpoch       Epoch
	lastLoggedZxid Zxid
	mode           SyncMode
	snapshotNeeded bool
	writeToTxnLog  bool
	newLeaderSeen  bool
	syncLimitReads bool // the read timeout switched to syncLimit at NEWLEADER
	lastProposal   Zxid
	// dbBefore and lastBefore are the database as NEWLEADER found it: a write that fails
	// before the committed txns are applied (the marker, the snapshot) leaves it so.
	dbBefore        []Txn
	committedBefore []Txn
	lastBefore      Zxid
	// packetsNotLogged and packetsCommitted are syncWithLeader's lists.
	packetsNotLogged []Txn
	packetsCommitted []Zxid
	// pendingTxns is FollowerZooKeeperServer.pendingTxns: logged or being logged, awaiting
	// COMMIT. lastQueued is Follower's last PROPOSAL zxid in broadcast.
	pendingTxns []Txn
	lastQueued  Zxid
}

func (l *learnerState) reset() {
	*l = learnerState{leader: -1, newEpoch: -1,
		packetsNotLogged: l.packetsNotLogged[:0], packetsCommitted: l.packetsCommitted[:0],
		pendingTxns: l.pendingTxns[:0]}
}

// becomeLearner starts Follower.followLeader or Observer.observeLeader (spec §6.1): DISCOVERY,
// findLeader, connectToLeader.
func (p *QuorumPeer) becomeLearner(now Time, s ServerState, leader ServerID, out []Effect) []Effect {
	p.lead.reset()
	p.learnr.reset()
	out = p.setState(s, DISCOVERY, out)
	l := &p.learnr
	l.leader = leader
	if !p.cfg.IsMember(leader) {
		return p.learnerLeave(now, fmt.Sprintf("NullPointerException: leader %d not in the view", leader), out)
	}
	l.connectStart = now
	return p.connectAttempt(now, out)
}

func (p *QuorumPeer) connectTimeout() time.Duration {
	if p.cfg.ConnectToLearnerMasterLimit > 0 {
		return time.Duration(p.cfg.ConnectToLearnerMasterLimit) * p.cfg.TickTime
	}
	return p.cfg.InitLimitTime()
}

// connectAttempt is one try of LeaderConnector (spec §6.2): the attempt may take
// min(connectTimeout, remaining).
func (p *QuorumPeer) connectAttempt(now Time, out []Effect) []Effect {
	l := &p.learnr
	remaining := p.connectTimeout() - time.Duration(now-l.connectStart)
	if remaining <= 0 {
		return p.learnerLeave(now, "Failed connect to leader: connect budget spent", out)
	}
	l.phase = lnConnecting
	return append(out, Effect{Kind: EffectConnect, To: l.leader, After: min(p.connectTimeout(), remaining)})
}

// connectFailed: recompute the budget; give up after the fifth try or when less than the retry
// delay remains; otherwise sleep leaderConnectDelayDuringRetryMs and try again.
func (p *QuorumPeer) connectFailed(now Time, out []Effect) []Effect {
	l := &p.learnr
	remaining := p.connectTimeout() - time.Duration(now-l.connectStart)
	if remaining <= p.cfg.LeaderConnectDelayDuringRetry || l.tries == 4 {
		return p.learnerLeave(now, fmt.Sprintf("Failed connect to leader %d after %d tries", l.leader, l.tries+1), out)
	}
	l.tries++
	out = probe(out, ProbeConnectRetry)
	l.phase = lnConnectSleep
	l.retryGen, out = p.newTimer(TimerLearnerConnectRetry, 0, p.cfg.LeaderConnectDelayDuringRetry, 0, out)
	return out
}

// stepLearner handles inputs while FOLLOWING or OBSERVING.
func (p *QuorumPeer) stepLearner(in *Input, out []Effect) []Effect {
	l := &p.learnr
	if l.newLeaderSeen {
		// QuorumPeer.setSyncMode(NONE) comes after the NEWLEADER writes. A failed write is
		// answered (InputWriteFailed) before any other input, so reaching here means they all
		// succeeded; until then Learner.shutdown still sees SNAP and reloads from disk.
		l.mode = NONE
	}
	switch in.Kind {
	case InputTimer:
		switch {
		case in.Timer.Kind == TimerLearnerRead && in.Timer.Gen == l.readGen && l.conn != 0:
			return p.learnerLeave(in.Now, "SocketTimeoutException: Read timed out", out)
		case in.Timer.Kind == TimerLearnerConnectRetry && in.Timer.Gen == l.retryGen && l.phase == lnConnectSleep:
			return p.connectAttempt(in.Now, out)
		}
	case InputConnected:
		if l.phase != lnConnecting {
			return append(out, Effect{Kind: EffectClose, Conn: in.Conn})
		}
		l.conn = in.Conn
		return p.registerWithLeader(out)
	case InputConnectFailed:
		if l.phase == lnConnecting {
			return p.connectFailed(in.Now, out)
		}
	case InputClosed:
		if in.Conn == l.conn && l.conn != 0 {
			return p.learnerLeave(in.Now, "EOFException: connection to leader closed", out)
		}
	case InputMessage:
		if in.Conn == l.conn && l.conn != 0 {
			return p.learnerRead(in.Now, in.Msg, out)
		}
	case InputAccepted:
		return append(out, Effect{Kind: EffectClose, Conn: in.Conn})
	}
	return out
}

// armRead restarts the socket read timeout: initLimit*tickTime until NEWLEADER is processed,
// syncLimit*tickTime after (spec §6.4's timing trap).
func (p *QuorumPeer) armRead(out []Effect) []Effect {
	d := p.cfg.InitLimitTime()
	if p.learnr.syncLimitReads {
		d = p.cfg.SyncLimitTime()
	}
	p.learnr.readGen, out = p.newTimer(TimerLearnerRead, 0, d, 0, out)
	return out
}

// registerWithLeader, first half (spec §6.3): capture lastLoggedZxid, send FOLLOWERINFO or
// OBSERVERINFO carrying acceptedEpoch<<32 and LearnerInfo.
func (p *QuorumPeer) registerWithLeader(out []Effect) []Effect {
	l := &p.learnr
	l.lastLoggedZxid = p.lastProcessedZxid
	t := FOLLOWERINFO
	if p.state == OBSERVING {
		t = OBSERVERINFO
	}
	out = p.send(l.conn, Message{Type: t, Zxid: MakeZxid(p.acceptedEpoch, 0), Sid: p.id, Version: ProtocolVersion}, out)
	l.phase = lnAwaitLeaderInfo
	return p.armRead(out)
}

// learnerRead is one packet read by registerWithLeader, syncWithLeader or the main loop.
func (p *QuorumPeer) learnerRead(now Time, m Message, out []Effect) []Effect {
	l := &p.learnr
	out = p.armRead(out)
	switch l.phase {
	case lnAwaitLeaderInfo:
		return p.receiveLeaderInfo(now, m, out)
	case lnAwaitSyncStart:
		return p.receiveSyncStart(now, m, out)
	case lnSyncing, lnAwaitUptodate:
		return p.receiveSyncPacket(now, m, out)
	case lnBroadcast:
		switch m.Type {
		case PING:
			out = p.send(l.conn, Message{Type: PING, Zxid: m.Zxid}, out)
		case PROPOSAL:
			if p.state == FOLLOWING {
				out = p.followerProposal(m.Txn, out)
			}
		case COMMIT:
			if p.state == FOLLOWING {
				out = p.followerCommit(m.Zxid, out)
			}
		case INFORM:
			if p.state == OBSERVING {
				out = p.observerInform(m.Txn, out)
			}
		}
	}
	return out
}

// receiveLeaderInfo is registerWithLeader's second half (spec §6.3): the learner's epoch gate.
func (p *QuorumPeer) receiveLeaderInfo(now Time, m Message, out []Effect) []Effect {
	l := &p.learnr
	if m.Type != LEADERINFO {
		return p.learnerLeave(now, "First packet should have been NEWLEADER", out)
	}
	newEpoch := m.Zxid.Epoch()
	var epochField Epoch
	switch {
	case newEpoch > p.acceptedEpoch:
		epochField = p.currentEpoch
		out = p.persistEpoch(WriteAcceptedEpoch, newEpoch, out)
	case newEpoch == p.acceptedEpoch:
		// "We've already acked this epoch: don't count us, but do sync us."
		epochField = -1
		out = probe(out, ProbeAckEpochMinusOne)
	default:
		out = probe(out, ProbeEpochRejected)
		return p.learnerLeaveFor(now, LeftEpochRefused, fmt.Sprintf("Leaders epoch, %d is less than accepted epoch, %d", newEpoch, p.acceptedEpoch), out)
	}
	out = p.send(l.conn, Message{Type: ACKEPOCH, Zxid: l.lastLoggedZxid, Epoch: epochField}, out)
	l.newEpoch = newEpoch
	l.phase = lnAwaitSyncStart
	return p.setZab(SYNCHRONIZATION, out)
}

// receiveSyncStart is the first read of syncWithLeader (spec §6.4): DIFF, SNAP or TRUNC.
func (p *QuorumPeer) receiveSyncStart(now Time, m Message, out []Effect) []Effect {
	l := &p.learnr
	switch m.Type {
	case DIFFPKT:
		l.mode = DIFF
		if p.cfg.Knobs.LastProcessedSetOnDiff {
			// ZOOKEEPER-2355: the zxid is taken before the txns that bring the database there.
			p.lastProcessedZxid = max(p.lastProcessedZxid, m.Zxid)
		}
	case SNAPPKT:
		l.mode = SNAP
		p.db = share(m.Txns)
		p.lastProcessedZxid = m.Zxid
		p.committedLog = nil // deserializeSnapshot clears the database
		l.snapshotNeeded = true
	case TRUNCPKT:
		l.mode = TRUNC
		if !p.disk.CanTruncate(m.Zxid) {
			// FileTxnLog.truncate: "No log files found to truncate!"; Learner exits with
			// QUORUM_PACKET_ERROR (LearnerTest.truncFailTest).
			return p.exit("Not able to truncate the log "+m.Zxid.String()+": No log files found to truncate!", out)
		}
		if i := indexAbove(p.disk.Txns, m.Zxid); len(p.disk.Txns)-i >= 2 {
			out = probe(out, ProbeTruncMultiTxn)
		}
		if first, ok := p.disk.firstLoggedFrom(m.Zxid); ok && first != m.Zxid {
			out = probe(out, ProbeTruncTargetNotLogged)
		}
		out = p.persist(DiskWrite{Kind: WriteTruncate, Zxid: m.Zxid, KeepAbove: p.cfg.Knobs.TruncToZxidNotHeld}, out)
		p.db = share(p.disk.Txns)
		p.lastProcessedZxid = m.Zxid
		p.committedLog = replayedAtLoad(&p.disk, p.cfg.CommitLogCount) // ZKDatabase.truncateLog: clear, loadDataBase
		l.snapshotNeeded = true
	default:
		return p.exit("Got unexpected packet from leader: "+m.Type.String()+", exiting ... ", out)
	}
	l.writeToTxnLog = !l.snapshotNeeded
	l.phase = lnSyncing
	return out
}

// receiveSyncPacket is syncWithLeader's loop after the first packet (spec §6.4).
func (p *QuorumPeer) receiveSyncPacket(now Time, m Message, out []Effect) []Effect {
	l := &p.learnr
	switch m.Type {
	case PROPOSAL:
		if l.lastProposal != 0 && m.Zxid != l.lastProposal+1 && m.Zxid.Epoch() <= l.lastProposal.Epoch() {
			return p.learnerLeave(now, fmt.Sprintf("Got zxid %s expected %s", m.Zxid, l.lastProposal+1), out)
		}
		if l.phase == lnAwaitUptodate {
			out = probe(out, ProbeWriteDuringSync)
		}
		l.lastProposal = m.Zxid
		l.packetsNotLogged = append(l.packetsNotLogged, m.Txn)
	case COMMIT, INFORM:
		if m.Type == INFORM {
			// Observers: a committed txn in one packet (Learner.syncWithLeader's INFORM case).
			if !l.writeToTxnLog {
				p.applyTxn(m.Txn)
				return out
			}
			l.packetsNotLogged = append(l.packetsNotLogged, m.Txn)
		}
		if l.writeToTxnLog {
			l.packetsCommitted = append(l.packetsCommitted, m.Zxid)
			return out
		}
		if len(l.packetsNotLogged) == 0 {
			return p.learnerLeave(now, "NullPointerException: COMMIT with no pending proposal", out)
		}
		if l.packetsNotLogged[0].Zxid == m.Zxid {
			p.applyTxn(l.packetsNotLogged[0])
			l.packetsNotLogged = l.packetsNotLogged[1:]
		}
	case NEWLEADER:
		if l.phase == lnSyncing {
			return p.receiveNewLeader(m, out)
		}
	case UPTODATE:
		return p.receiveUptodate(now, out)
	}
	return out
}

// applyTxn is syncWithLeader's processTxn. Since ZOOKEEPER-4925's fix it is
// processTxn(Request), which caches the txn in the committedLog as the broadcast phase does;
// 3.9.3 called processTxn(hdr, txn), which does not (the CommittedLogHole knob), so a DIFF
// left a hole in a learner's committedLog that it DIFFed past once it led.
func (p *QuorumPeer) applyTxn(t Txn) {
	p.processTxnInDB(t)
	if !p.cfg.Knobs.CommittedLogHole {
		p.addCommittedProposal(t)
	}
}

func (p *QuorumPeer) processTxnInDB(t Txn) {
	p.db = append(p.db, t)
	p.lastProcessedZxid = max(p.lastProcessedZxid, t.Zxid)
}

// addCommittedProposal is ZKDatabase.addCommittedProposal: a txn at or below the newest
// cached one is ignored, and the oldest drops out beyond commitLogCount. Master also throws on
// a txn that does not follow the newest one within its epoch; in the model only the
// CommittedLogHole knob makes one, and it is cached as 3.9.3 did.
func (p *QuorumPeer) addCommittedProposal(t Txn) {
	if n := len(p.committedLog); n > 0 && t.Zxid <= p.committedLog[n-1].Zxid {
		return
	}
	p.committedLog = append(p.committedLog, t)
	if n := p.cfg.CommitLogCount; len(p.committedLog) > n {
		p.committedLog = p.committedLog[len(p.committedLog)-n:]
	}
}

// replayedAtLoad is the committedLog a load leaves: ZKDatabase.loadDataBase caches each txn
// FileTxnSnapLog.restore replays from the log above the snapshot (commitProposalPlaybackListener).
func replayedAtLoad(d *Disk, commitLogCount int) []Txn {
	r := d.Txns[indexAbove(d.Txns, d.SnapshotZxid):]
	return share(windowOf(r, commitLogCount))
}

// receiveNewLeader persists the synced history and then currentEpoch, and only then ACKs
// (spec §2.4 learner step 5), as master does (Learner.syncWithLeader, NEWLEADER case, since
// ZOOKEEPER-3911, 4394, 4643 and 4785): the snapshot a SNAP or TRUNC needs, then the
// committed txns received so far, appended, applied and fsynced, then currentEpoch, then the
// ACK. Proposals not yet committed stay in packetsNotLogged until UPTODATE. The updatingEpoch
// marker brackets the writes so that a crash between the history and the epoch can be
// recovered at load (ZOOKEEPER-1653).
func (p *QuorumPeer) receiveNewLeader(m Message, out []Effect) []Effect {
	l := &p.learnr
	k := &p.cfg.Knobs
	l.newLeaderSeen = true
	l.dbBefore, l.lastBefore, l.committedBefore = share(p.db), p.lastProcessedZxid, share(p.committedLog)
	follower := p.state == FOLLOWING
	// 3.8.0's NEWLEADER (the three knobs below) hands every proposal to the logging thread
	// and does not wait for it; master logs the committed ones itself.
	async := k.AckNewLeaderBeforeTxnsDurable || k.CurrentEpochBeforeTxnsDurable || k.AsyncSyncAck
	logNow := follower && !async && len(l.packetsCommitted) > 0
	marker := !k.SnapshotBeforeEpochNoMarker && (l.snapshotNeeded || logNow)
	if marker {
		out = p.persist(DiskWrite{Kind: WriteUpdatingEpochMarker}, out)
	}
	if l.snapshotNeeded {
		out = p.persist(DiskWrite{Kind: WriteSnapshot, Txns: share(p.db), Zxid: p.lastProcessedZxid, FromLeader: l.mode == SNAP}, out)
	}
	l.writeToTxnLog = true
	switch {
	case !follower:
	case k.AsyncSyncAck && len(l.packetsNotLogged) > 0:
		// ZOOKEEPER-4685: the logging thread wins the race: it logs the proposals and ACKs
		// them before this thread sends the NEWLEADER ACK.
		batch := appendCopy(nil, l.packetsNotLogged...)
		l.pendingTxns = append(l.pendingTxns, batch...)
		l.packetsNotLogged = l.packetsNotLogged[:0]
		out = p.persist(DiskWrite{Kind: WriteTxns, Txns: batch, Zxid: lastZxid(batch)}, out)
		for _, t := range batch {
			out = p.send(l.conn, Message{Type: ACK, Zxid: t.Zxid}, out)
		}
	case async:
		// ZOOKEEPER-3911/4646 (AckNewLeaderBeforeTxnsDurable): the logging thread gets
		// them and the ACK does not wait. ZOOKEEPER-4643/4785 (CurrentEpochBeforeTxnsDurable):
		// they are logged only once UPTODATE came, after currentEpoch and the ACK.
		if k.AckNewLeaderBeforeTxnsDurable {
			for _, t := range l.packetsNotLogged {
				l.pendingTxns = append(l.pendingTxns, t)
				out = p.logRequest(t, out)
			}
			l.packetsNotLogged = l.packetsNotLogged[:0]
		}
	case k.CommitAfterNewLeaderNPE:
		// ZOOKEEPER-4394: the committed txns are logged and the rest are dropped, so a
		// COMMIT that follows NEWLEADER names a proposal the learner no longer has.
		out = p.logCommitted(out)
		l.packetsNotLogged = l.packetsNotLogged[:0]
	case logNow:
		out = p.logCommitted(out)
	}
	if !k.CurrentEpochOnUptodate {
		out = p.persistEpoch(WriteCurrentEpoch, l.newEpoch, out)
	}
	if marker {
		out = p.persist(DiskWrite{Kind: WriteClearUpdatingEpochMarker}, out)
	}
	l.syncLimitReads = true
	out = p.armRead(out)
	out = p.send(l.conn, Message{Type: ACK, Zxid: MakeZxid(l.newEpoch, 0)}, out)
	l.phase = lnAwaitUptodate
	return out
}

// logCommitted appends and fsyncs every committed txn whose proposal heads packetsNotLogged
// (a committed zxid that does not is skipped: "Committing 0x..., but next proposal is ..."),
// applying each to memory; the proposals not committed stay.
func (p *QuorumPeer) logCommitted(out []Effect) []Effect {
	l := &p.learnr
	var logged []Txn
	for _, z := range l.packetsCommitted {
		if len(l.packetsNotLogged) == 0 || l.packetsNotLogged[0].Zxid != z {
			continue
		}
		logged = append(logged, l.packetsNotLogged[0])
		l.packetsNotLogged = l.packetsNotLogged[1:]
	}
	l.packetsCommitted = l.packetsCommitted[:0]
	for _, t := range logged {
		p.applyTxn(t)
	}
	if len(logged) == 0 {
		return out
	}
	return p.persist(DiskWrite{Kind: WriteTxns, Txns: logged, Zxid: lastZxid(logged)}, out)
}

// receiveUptodate ends syncWithLeader (spec §6.4): ACK, start serving, updateElectionVote,
// then the logging thread's held-back ACKs go out, every proposal that came after NEWLEADER
// goes to the logging thread (ACKed once durable), and every remembered COMMIT is applied in
// order (FollowerZooKeeperServer.commit). An observer applies each INFORM it kept. A pre-1.0
// leader (no NEWLEADER seen) gets the snapshot and currentEpoch written now; so does every
// leader under CurrentEpochOnUptodate.
func (p *QuorumPeer) receiveUptodate(now Time, out []Effect) []Effect {
	l := &p.learnr
	k := &p.cfg.Knobs
	if !l.newLeaderSeen {
		out = p.persist(DiskWrite{Kind: WriteSnapshot, Txns: share(p.db), Zxid: p.lastProcessedZxid, FromLeader: l.mode == SNAP}, out)
		out = p.persistEpoch(WriteCurrentEpoch, l.newEpoch, out)
	} else if k.CurrentEpochOnUptodate {
		out = p.persistEpoch(WriteCurrentEpoch, l.newEpoch, out)
	}
	out = p.send(l.conn, Message{Type: ACK, Zxid: MakeZxid(l.newEpoch, 0)}, out)
	p.vote.PeerEpoch = l.newEpoch // updateElectionVote
	l.phase = lnBroadcast
	out = p.setZab(BROADCAST, out)
	out = note(out, Note{Kind: NoteSynced, Peer: l.leader, Epoch: l.newEpoch})
	if p.state == OBSERVING {
		for _, t := range l.packetsNotLogged {
			if len(l.packetsCommitted) == 0 || l.packetsCommitted[0] != t.Zxid {
				continue // "Committing 0x..., but next proposal is ..."
			}
			l.packetsCommitted = l.packetsCommitted[1:]
			out = p.observerInform(t, out)
		}
		l.packetsNotLogged, l.packetsCommitted = l.packetsNotLogged[:0], l.packetsCommitted[:0]
		return out
	}
	for _, t := range l.packetsNotLogged {
		l.pendingTxns = append(l.pendingTxns, t)
		out = p.logRequest(t, out)
		l.lastQueued = t.Zxid
	}
	l.packetsNotLogged = l.packetsNotLogged[:0]
	for _, z := range l.packetsCommitted {
		if out = p.followerCommit(z, out); p.state != FOLLOWING || l.phase != lnBroadcast {
			return out
		}
	}
	l.packetsCommitted = l.packetsCommitted[:0]
	return out
}

// learnerLeave ends followLeader/observeLeader: close the socket, then Learner.shutdown, which
// shuts the ZooKeeperServer down fully while the sync mode is still SNAP (the NEWLEADER writes
// did not all succeed: the database is reloaded from disk) and otherwise keeps the database,
// fast-forwarded if the server ran (spec §6.1, zkShutdown). Then LOOKING.
func (p *QuorumPeer) learnerLeave(now Time, reason string, out []Effect) []Effect {
	return p.learnerLeaveFor(now, LeftOther, reason, out)
}

// LeaveCause is why a learner left (Note.Left), where the checker needs to tell; the note's
// Reason says it in words.
type LeaveCause uint8

// Causes of leaving.
const (
	LeftOther        LeaveCause = iota
	LeftEpochRefused            // registerWithLeader: "Leaders epoch, X is less than accepted epoch, Y"
)

// learnerLeaveFor is learnerLeave with the cause in a type too.
func (p *QuorumPeer) learnerLeaveFor(now Time, cause LeaveCause, reason string, out []Effect) []Effect {
	l := &p.learnr
	out = note(out, Note{Kind: NoteLearnerLeft, Peer: l.leader, Reason: reason, State: p.state, Left: cause})
	if l.conn != 0 {
		out = append(out, Effect{Kind: EffectClose, Conn: l.conn})
	}
	out = p.zkShutdown(l.phase == lnBroadcast || len(p.syncQueue) > 0, l.mode == SNAP, out)
	return p.becomeLooking(now, out)
}

// exit is ServiceUtils.requestSystemExit(QUORUM_PACKET_ERROR): the process dies.
func (p *QuorumPeer) exit(reason string, out []Effect) []Effect {
	out = note(out, Note{Kind: NoteLearnerLeft, Peer: p.learnr.leader, Reason: "exit: " + reason, State: p.state})
	return append(out, Effect{Kind: EffectExit})
}
