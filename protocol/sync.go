package protocol

// SyncPlan is what LearnerHandler.syncFollower queues for one learner before NEWLEADER.
type SyncPlan struct {
	Mode SyncMode
	// Zxid is the zxid of the DIFF or TRUNC packet, or of the SNAP (the leader's
	// lastProcessedZxid).
	Zxid Zxid
	// Proposals are sent as PROPOSAL, COMMIT pairs after the DIFF or TRUNC. A sub-slice of the
	// leader's history; never modified.
	Proposals []Txn
	// Current is the zxid the sync brings the learner to (syncFollower's currentZxid, from
	// which startForwarding queues the outstanding proposals).
	Current Zxid
	// FromTxnLog: the proposals were read from the on-disk txn log, beyond the in-memory
	// committedLog. RefusedTrunc: a TRUNC across an epoch boundary was refused, hence SNAP.
	// TxnLogGap: the txn log ended before the committedLog began, hence SNAP. TxnLogTooLarge:
	// the txn log to read was over the size limit (or txn-log sync is off), hence SNAP.
	FromTxnLog, RefusedTrunc, TxnLogGap, TxnLogTooLarge bool
}

// SyncFollower is LearnerHandler.syncFollower with queueCommittedProposals (spec §5.6): the
// DIFF / TRUNC / SNAP choice for a learner whose last zxid is peerLastZxid, for a leader whose
// history is contiguous: its last commitLogCount txns form the in-memory committedLog, and its
// on-disk txn log is the history from logStart (0: from its first txn), read without a size
// limit. The history's log has no gap inside (it is one array), so the txn log is read as
// ZooKeeper reads it.
func SyncFollower(peerLastZxid Zxid, history []Txn, lastProcessedZxid Zxid, commitLogCount int, logStart Zxid) SyncPlan {
	return SyncFollowerLogs(peerLastZxid, windowOf(history, commitLogCount), logFrom(history, logStart), lastProcessedZxid, SyncKnobs{})
}

// SyncFollowerAsZooKeeper is SyncFollower with ZooKeeper's own TRUNC rule (the
// TruncToZxidNotHeld knob).
func SyncFollowerAsZooKeeper(peerLastZxid Zxid, history []Txn, lastProcessedZxid Zxid, commitLogCount int, logStart Zxid) SyncPlan {
	return SyncFollowerLogs(peerLastZxid, windowOf(history, commitLogCount), logFrom(history, logStart), lastProcessedZxid, SyncKnobs{TruncToZxidNotHeld: true})
}

// SyncKnobs are the bug knobs syncFollower reads.
type SyncKnobs struct {
	TruncToZxidNotHeld, NoTxnlogGapCheck bool
	// LimitTxnLogRead: at most MaxTxnLogRead logged txns, from the learner's zxid to the end
	// of the log, may be read for a DIFF (-1: none); larger reads are refused and a SNAP is
	// sent (snapshotSizeFactor). Off: any read.
	LimitTxnLogRead bool
	MaxTxnLogRead   int
}

func windowOf(history []Txn, commitLogCount int) []Txn {
	if len(history) > commitLogCount {
		return history[len(history)-commitLogCount:]
	}
	return history
}

func logFrom(history []Txn, logStart Zxid) []Txn {
	i := 0
	for i < len(history) && history[i].Zxid < logStart {
		i++
	}
	return history[i:]
}

// SyncFollowerLogs is syncFollower on the leader's own structures: committedLog is
// ZKDatabase.committedLog (which may have a hole: ZOOKEEPER-4925), txnLog what its txn log
// files hold in zxid order (which may have a gap: Disk.Superseded, ZOOKEEPER-2418).
func SyncFollowerLogs(peerLastZxid Zxid, committedLog, txnLog []Txn, lastProcessedZxid Zxid, k SyncKnobs) SyncPlan {
	minCommitted, maxCommitted := lastProcessedZxid, lastProcessedZxid
	if len(committedLog) > 0 {
		minCommitted, maxCommitted = committedLog[0].Zxid, committedLog[len(committedLog)-1].Zxid
	}
	isPeerNewEpochZxid := peerLastZxid.Counter() == 0
	snap := SyncPlan{Mode: SNAP, Zxid: lastProcessedZxid, Current: lastProcessedZxid}

	switch {
	case peerLastZxid == lastProcessedZxid:
		return SyncPlan{Mode: DIFF, Zxid: peerLastZxid, Current: peerLastZxid}
	case peerLastZxid > maxCommitted && !isPeerNewEpochZxid && (peerLastZxid.Epoch() != maxCommitted.Epoch() || maxCommitted.Counter() == 0) && !k.TruncToZxidNotHeld:
		// ZooKeeper sends TRUNC maxCommittedLog here whatever the epochs (the TruncToZxidNotHeld
		// knob). FileTxnLog.truncate then keeps the first logged txn above that zxid, which the
		// leader does not have: measured on 3.8.0, a learner with an uncommitted 0x100000001
		// told TRUNC 0x0 keeps it and serves it. Across epochs, or to a zxid that names no txn
		// (0, or a new epoch's e<<32), the model falls back to SNAP, as the walk below does
		// ("Cannot send TRUNC to peer ... different epoch").
		return SyncPlan{Mode: SNAP, Zxid: lastProcessedZxid, Current: lastProcessedZxid, RefusedTrunc: true}
	case peerLastZxid > maxCommitted && !isPeerNewEpochZxid:
		return SyncPlan{Mode: TRUNC, Zxid: maxCommitted, Current: maxCommitted}
	case minCommitted <= peerLastZxid && peerLastZxid <= maxCommitted:
		if plan, ok := queueCommittedProposals(committedLog, peerLastZxid, maxCommitted, maxCommitted); ok {
			return plan
		} else if plan.RefusedTrunc {
			snap.RefusedTrunc = true
		}
		return snap // "Unhandled scenario for peer ... fall back to use snapshot"
	case peerLastZxid < minCommitted && len(txnLog) > 0:
		// getProposalsFromTxnLog: the iterator starts at the log file that holds
		// peerLastZxid and is refused when even the oldest log starts after it; the walk
		// then skips what the peer has (and TRUNCs or DIFFs as in rule 4) and stops after
		// minCommittedLog.
		if peerLastZxid < txnLog[0].Zxid {
			return snap
		}
		if k.LimitTxnLogRead && len(txnLog)-indexAbove(txnLog, peerLastZxid-1) > k.MaxTxnLogRead {
			// "Txnlog size: ... exceeds sizeLimit: ..." (or txn-log sync disabled)
			snap.TxnLogTooLarge = true
			return snap
		}
		plan, ok := queueCommittedProposals(txnLog, peerLastZxid, minCommitted, maxCommitted)
		if !ok {
			if plan.RefusedTrunc {
				snap.RefusedTrunc = true
			}
			return snap
		}
		queued := peerLastZxid // queueCommittedProposals' return: the last zxid it queued
		if len(plan.Proposals) > 0 {
			queued = lastZxid(plan.Proposals)
		}
		if queued < minCommitted && !k.NoTxnlogGapCheck {
			// ZOOKEEPER-2418's check: "Detected gap between end of txnlog: 0x... and start
			// of committedLog: 0x..."; the queued packets are cleared and a SNAP is sent.
			snap.TxnLogGap = true
			return snap
		}
		plan.FromTxnLog = len(plan.Proposals) > 0
		// queueCommittedProposals(committedLog, currentZxid, null, maxCommittedLog): the
		// committedLog's proposals above what the txn log queued.
		if i := indexAbove(committedLog, queued); i < len(committedLog) {
			plan.Proposals = appendCopy(plan.Proposals, committedLog[i:]...)
			plan.Current = max(plan.Zxid, lastZxid(plan.Proposals))
		}
		return plan
	}
	return snap
}

// queueCommittedProposals walks log (spec §5.6 "Walk"). ok is false when the walk queued no
// DIFF or TRUNC (the caller falls back to SNAP).
func queueCommittedProposals(log []Txn, peerLastZxid, maxZxid, lastCommittedZxid Zxid) (SyncPlan, bool) {
	isPeerNewEpochZxid := peerLastZxid.Counter() == 0
	var plan SyncPlan
	needOpPacket := true
	prev := Zxid(-1)
	first := -1 // index in log of the first PROPOSAL to send
	end := len(log)
	for i, t := range log {
		p := t.Zxid
		if p > maxZxid {
			end = i
			break
		}
		if p < peerLastZxid {
			prev = p
			continue
		}
		if needOpPacket {
			switch {
			case p == peerLastZxid:
				plan = SyncPlan{Mode: DIFF, Zxid: lastCommittedZxid}
				needOpPacket = false
				continue // the peer has p already
			case isPeerNewEpochZxid:
				plan = SyncPlan{Mode: DIFF, Zxid: lastCommittedZxid}
				needOpPacket = false
			default:
				if p.Epoch() != peerLastZxid.Epoch() {
					return SyncPlan{RefusedTrunc: true}, false // "Cannot send TRUNC to peer ... different epoch"
				}
				plan = SyncPlan{Mode: TRUNC, Zxid: prev}
				needOpPacket = false
			}
		}
		if first < 0 {
			first = i
		}
	}
	if needOpPacket && isPeerNewEpochZxid {
		return SyncPlan{Mode: DIFF, Zxid: lastCommittedZxid, Current: lastCommittedZxid}, true
	}
	if needOpPacket {
		return SyncPlan{}, false
	}
	if first >= 0 && first < end {
		plan.Proposals = log[first:end:end]
	}
	plan.Current = max(plan.Zxid, lastZxid(plan.Proposals))
	return plan, true
}
