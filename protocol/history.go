package protocol

// Read-only views of a peer's transactions for checkers. None allocates; returned slices share
// the peer's arrays and must not be modified.

// Database is the applied history (the in-memory database's txns, in zxid order).
func (p *QuorumPeer) Database() []Txn { return share(p.db) }

// Outstanding is the leader's outstandingProposals in zxid order (nil for any other role).
func (p *QuorumPeer) Outstanding(i int) (Txn, bool) {
	if p.state != LEADING || i >= len(p.lead.outstanding) {
		return Txn{}, false
	}
	return p.lead.outstanding[i].txn, true
}

// LeaderTxn finds zxid z in a leader's history: its applied database, then its outstanding
// proposals. ok is false when z is in neither, or the peer does not lead.
func (p *QuorumPeer) LeaderTxn(z Zxid) (Txn, bool) {
	if p.state != LEADING {
		return Txn{}, false
	}
	if t, ok := FindTxn(p.db, z); ok {
		return t, true
	}
	for _, pr := range p.lead.outstanding {
		if pr.txn.Zxid == z {
			return pr.txn, true
		}
	}
	return Txn{}, false
}

// NextToCommit is, for a syncing or following learner, the zxid the next COMMIT should name:
// the oldest txn it holds (FollowerZooKeeperServer.pendingTxns, then syncWithLeader's
// packetsNotLogged) above both what it applied and the last COMMIT it recorded in
// packetsCommitted. ok is false when it holds none.
func (p *QuorumPeer) NextToCommit() (Zxid, bool) {
	if p.state != FOLLOWING && p.state != OBSERVING {
		return 0, false
	}
	l := &p.learnr
	done := p.lastProcessedZxid
	if n := len(l.packetsCommitted); n > 0 {
		done = max(done, l.packetsCommitted[n-1])
	}
	for _, s := range [2][]Txn{l.pendingTxns, l.packetsNotLogged} {
		for _, t := range s {
			if t.Zxid > done {
				return t.Zxid, true
			}
		}
	}
	return 0, false
}

// FindTxn returns the txn of zxid z in a zxid-ordered history.
func FindTxn(txns []Txn, z Zxid) (Txn, bool) {
	i := indexAbove(txns, z) - 1
	if i >= 0 && txns[i].Zxid == z {
		return txns[i], true
	}
	return Txn{}, false
}

// IndexOfTxn is the index of zxid z in a zxid-ordered history, or -1.
func IndexOfTxn(txns []Txn, z Zxid) int {
	i := indexAbove(txns, z) - 1
	if i >= 0 && txns[i].Zxid == z {
		return i
	}
	return -1
}
