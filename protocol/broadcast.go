package protocol

import (
	"fmt"
	"slices"
	"time"
)

// The broadcast phase (spec §5.9, ZooKeeper's request pipeline): client writes, PROPOSAL, the
// logging thread, ACK, COMMIT, INFORM and applying committed txns in order. Citations are to
// apache/zookeeper master (53a78e36f) unless they say otherwise.

// proposal is one entry of Leader.outstandingProposals: a txn and the voters that acked it
// after logging it durably.
type proposal struct {
	txn  Txn
	acks []ServerID
}

// serving: the server's ZooKeeperServer is running and takes client writes. The leader's runs
// from startZkServer; a learner's from UPTODATE (Learner.syncWithLeader: zk.startup()).
func (p *QuorumPeer) serving() bool {
	switch p.state {
	case LEADING:
		return p.lead.zkRunning
	case FOLLOWING, OBSERVING:
		return p.learnr.phase == lnBroadcast
	}
	return false
}

// clientRequest is a client's write reaching this server. A server that is not running has
// no client port open (the client sees a connection loss); a follower or observer forwards
// the write to the leader (FollowerRequestProcessor: Learner.request sends REQUEST); the
// leader proposes it. The answer comes when this server applies the txn.
func (p *QuorumPeer) clientRequest(in *Input, out []Effect) []Effect {
	v := in.Msg.Txn.Value
	if !p.serving() {
		return append(out, Effect{Kind: EffectReply, Reply: Reply{Value: v, Code: ReplyNotServing}})
	}
	p.clients = append(p.clients, v)
	if p.state == LEADING {
		return p.propose(in.Now, v, out)
	}
	return p.send(p.learnr.conn, Message{Type: REQUEST, Txn: Txn{Value: v}}, out)
}

// propose is Leader.propose: the next zxid of this epoch, PROPOSAL to every forwarding
// follower (observers get INFORM at commit instead), and the leader's own copy to its logging
// thread (ProposalRequestProcessor -> SyncRequestProcessor -> AckRequestProcessor).
func (p *QuorumPeer) propose(now Time, v uint64, out []Effect) []Effect {
	l := &p.lead
	l.lastProposed++
	t := Txn{Zxid: l.lastProposed, Value: v}
	l.outstanding = append(l.outstanding, proposal{txn: t})
	for i := range l.handlers {
		if h := &l.handlers[i]; h.state != hDead && h.forwarding && h.learnerType == PARTICIPANT {
			out = p.sendProposal(now, h, t, out)
		}
	}
	return p.logRequest(t, out)
}

// sendProposal queues a PROPOSAL to a handler and starts its SyncLimitCheck clock.
func (p *QuorumPeer) sendProposal(now Time, h *learnerHandler, t Txn, out []Effect) []Effect {
	h.unacked = append(h.unacked, unackedProposal{zxid: t.Zxid, at: now})
	return p.send(h.conn, Message{Type: PROPOSAL, Zxid: t.Zxid, Txn: t}, out)
}

// logRequest hands a txn to SyncRequestProcessor. Its thread writes and fsyncs everything
// queued in one go (it batches until the queue is empty before flushing), a step of its own:
// a crash before it loses the txn, and one after it the ACK that follows.
func (p *QuorumPeer) logRequest(t Txn, out []Effect) []Effect {
	p.syncQueue = append(p.syncQueue, t)
	if p.syncArmed {
		return out
	}
	p.syncArmed = true
	d, j := p.cfg.syncDelay()
	p.syncGen, out = p.newTimer(TimerSync, 0, d, j, out)
	return out
}

// syncFlush is the logging thread's turn: append and fsync what is queued, then pass each txn
// on: the leader acks its own proposal (AckRequestProcessor), a follower sends ACK
// (SendAckRequestProcessor), an observer has nothing to say. Every snapCount logged txns the
// thread takes a snapshot of the database as it is (SyncRequestProcessor.run).
func (p *QuorumPeer) syncFlush(now Time, out []Effect) []Effect {
	p.syncArmed = false
	if len(p.syncQueue) == 0 {
		return out
	}
	batch := appendCopy(nil, p.syncQueue...)
	p.syncQueue = p.syncQueue[:0]
	out = p.persist(DiskWrite{Kind: WriteTxns, Txns: batch, Zxid: lastZxid(batch)}, out)
	for _, t := range batch {
		switch p.state {
		case LEADING:
			out = p.processAck(now, p.id, t.Zxid, out)
		case FOLLOWING:
			if l := &p.learnr; l.conn != 0 && l.phase >= lnAwaitUptodate {
				out = p.send(l.conn, Message{Type: ACK, Zxid: t.Zxid}, out)
			}
		}
	}
	p.sinceSnap += len(batch)
	if p.sinceSnap >= p.cfg.snapCount() {
		p.sinceSnap = 0
		out = probe(out, ProbeSnapCount)
		out = p.persist(DiskWrite{Kind: WriteSnapshot, Txns: p.db, Zxid: p.lastProcessedZxid}, out)
	}
	return out
}

// processAck is Leader.processAck: acks of the NEWLEADER kind (counter 0) and of committed or
// unknown zxids are ignored; otherwise the ack is recorded and tryToCommit runs for that
// proposal only (Leader.java processAck).
func (p *QuorumPeer) processAck(now Time, sid ServerID, zxid Zxid, out []Effect) []Effect {
	l := &p.lead
	if zxid.Counter() == 0 || len(l.outstanding) == 0 || zxid <= l.lastCommitted {
		return out
	}
	i := slices.IndexFunc(l.outstanding, func(pr proposal) bool { return pr.txn.Zxid == zxid })
	if i < 0 {
		return out
	}
	pr := &l.outstanding[i]
	if p.cfg.counts(sid) {
		pr.acks = addSid(pr.acks, sid)
	}
	return p.tryToCommit(now, i, out)
}

// tryToCommit is Leader.tryToCommit: a proposal commits only after the one before it
// ("outstandingProposals.containsKey(zxid - 1)" returns false) and once its acks hold a voter
// quorum. Committing sends COMMIT to the forwarding followers and INFORM with the txn to the
// observers, and applies it here.
func (p *QuorumPeer) tryToCommit(now Time, i int, out []Effect) []Effect {
	l := &p.lead
	if i > 0 {
		return out
	}
	pr := l.outstanding[0]
	if !p.cfg.ContainsQuorum(pr.acks) {
		return out
	}
	l.outstanding = slices.Delete(l.outstanding, 0, 1)
	l.lastCommitted = pr.txn.Zxid
	out = note(out, Note{Kind: NoteCommitted, Zxid: pr.txn.Zxid, Epoch: l.epoch, Sids: slices.Clone(pr.acks)})
	for j := range l.handlers {
		h := &l.handlers[j]
		if h.state == hDead || !h.forwarding {
			continue
		}
		if h.learnerType == OBSERVER {
			out = p.send(h.conn, Message{Type: INFORM, Zxid: pr.txn.Zxid, Txn: pr.txn}, out)
		} else {
			out = p.send(h.conn, Message{Type: COMMIT, Zxid: pr.txn.Zxid}, out)
		}
	}
	return p.applyCommitted(pr.txn, out)
}

// applyCommitted is CommitProcessor and FinalRequestProcessor: the txn joins the database and
// the client that asked this server for it gets its answer.
func (p *QuorumPeer) applyCommitted(t Txn, out []Effect) []Effect {
	p.processTxnInDB(t)
	p.addCommittedProposal(t)
	out = note(out, Note{Kind: NoteApplied, Zxid: t.Zxid})
	if i := slices.Index(p.clients, t.Value); i >= 0 && t.Value != 0 {
		p.clients = slices.Delete(p.clients, i, i+1)
		out = probe(out, ProbeClientWriteCommitted)
		out = append(out, Effect{Kind: EffectReply, Reply: Reply{Value: t.Value, Zxid: t.Zxid, Code: ReplyOK}})
	}
	return out
}

// followerProposal is Follower.processPacket's PROPOSAL: ZooKeeper only warns when the zxid
// is not lastQueued+1 ("Got zxid 0x... expected 0x..."), then logs it (FollowerZooKeeperServer
// .logRequest: pendingTxns and the logging thread, which ACKs once it is durable).
func (p *QuorumPeer) followerProposal(t Txn, out []Effect) []Effect {
	l := &p.learnr
	l.lastQueued = t.Zxid
	l.pendingTxns = append(l.pendingTxns, t)
	return p.logRequest(t, out)
}

// followerCommit is FollowerZooKeeperServer.commit: the COMMIT must name the oldest pending
// txn; one with none pending is only logged as a warning, and a mismatch makes the process
// exit (ExitCode.UNMATCHED_TXN_COMMIT).
func (p *QuorumPeer) followerCommit(zxid Zxid, out []Effect) []Effect {
	l := &p.learnr
	if len(l.pendingTxns) == 0 {
		return out // "Committing 0x... without seeing txn"
	}
	if head := l.pendingTxns[0]; head.Zxid != zxid {
		return p.exit(fmt.Sprintf("Committing zxid %s but next pending txn %s", zxid, head.Zxid), out)
	}
	t := l.pendingTxns[0]
	l.pendingTxns = slices.Delete(l.pendingTxns, 0, 1)
	return p.applyCommitted(t, out)
}

// observerInform is ObserverZooKeeperServer.commitRequest: log the txn and apply it.
func (p *QuorumPeer) observerInform(t Txn, out []Effect) []Effect {
	out = p.logRequest(t, out)
	return p.applyCommitted(t, out)
}

// leaderRequest is a REQUEST a learner forwarded: the leader proposes it if it runs
// (LearnerHandler.run: leader.zk.submitLearnerRequest).
func (p *QuorumPeer) leaderRequest(now Time, v uint64, out []Effect) []Effect {
	if !p.lead.zkRunning {
		return out
	}
	return p.propose(now, v, out)
}

// zkShutdown is ZooKeeperServer.shutdown(fullyShutDown) as the end of a role calls it
// (Leader.shutdown, Learner.shutdown). A server that is not running only clears its database
// when fully shut down. A running one stops its request processors first, and
// SyncRequestProcessor.shutdown still writes and fsyncs what was queued (the ACKs it would send
// go to a closed socket); then the database is cleared and reloaded from disk (fully), or
// fast-forwarded over what the log holds beyond it (ZKDatabase.fastForwardDataBase,
// ZOOKEEPER-2845's fix). Clients waiting for an answer see their connection lost.
func (p *QuorumPeer) zkShutdown(running, fully bool, out []Effect) []Effect {
	for _, v := range p.clients {
		out = append(out, Effect{Kind: EffectReply, Reply: Reply{Value: v, Code: ReplyConnectionLoss}})
	}
	p.clients = p.clients[:0]
	p.syncArmed = false
	if !running {
		p.syncQueue = p.syncQueue[:0]
		if fully {
			p.reloadFromDisk()
		}
		return out
	}
	if len(p.syncQueue) > 0 {
		out = probe(out, ProbeLogQueuedAtRoleEnd)
		batch := appendCopy(nil, p.syncQueue...)
		p.syncQueue = p.syncQueue[:0]
		out = p.persist(DiskWrite{Kind: WriteTxns, Txns: batch, Zxid: lastZxid(batch)}, out)
	}
	switch {
	case fully:
		p.reloadFromDisk()
	case !p.cfg.Knobs.RetainDbWithoutFastForward:
		p.fastForward()
	}
	return out
}

func (p *QuorumPeer) reloadFromDisk() {
	p.db = share(p.disk.Txns)
	p.lastProcessedZxid = p.disk.LastZxid()
	p.committedLog = replayedAtLoad(&p.disk, p.cfg.CommitLogCount)
}

// fastForward replays the logged txns above lastProcessedZxid into the database
// (FileTxnSnapLog.fastForwardFromEdits). A leader's lastProcessedZxid is e<<32 with no txn of
// that zxid, so only its own epoch's txns are above it.
func (p *QuorumPeer) fastForward() {
	if i := indexAbove(p.disk.Txns, p.lastProcessedZxid); i < len(p.disk.Txns) {
		p.db = appendCopy(p.db, p.disk.Txns[i:]...)
		p.lastProcessedZxid = lastZxid(p.disk.Txns)
		for _, t := range p.disk.Txns[i:] {
			p.addCommittedProposal(t) // fastForwardFromEdits plays them back to the committedLog
		}
	}
}

// syncLimitCheck is LearnerHandler.ping's SyncLimitCheck: a learner whose oldest unacked
// PROPOSAL is older than syncLimit*tickTime is disconnected instead of pinged.
func (p *QuorumPeer) syncLimitCheck(now Time, h *learnerHandler) bool {
	return len(h.unacked) == 0 || time.Duration(now-h.unacked[0].at) <= p.cfg.SyncLimitTime()
}

// handlerAck records a learner's ACK of a proposal: its SyncLimitCheck clock moves on.
func (h *learnerHandler) handlerAck(zxid Zxid) {
	n := 0
	for n < len(h.unacked) && h.unacked[n].zxid <= zxid {
		n++
	}
	h.unacked = h.unacked[:copy(h.unacked, h.unacked[n:])]
}

type unackedProposal struct {
	zxid Zxid
	at   Time
}
