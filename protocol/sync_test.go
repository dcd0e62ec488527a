package protocol_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"zabsim/protocol"
)

// syncZ is protocol.MakeZxid, short for the tables below.
func syncZ(e protocol.Epoch, c uint32) protocol.Zxid { return protocol.MakeZxid(e, c) }

// syncHist builds a history from (epoch, counter) pairs.
func syncHist(pairs ...[2]int) []protocol.Txn {
	h := make([]protocol.Txn, 0, len(pairs))
	for _, p := range pairs {
		h = append(h, protocol.Txn{Zxid: syncZ(protocol.Epoch(p[0]), uint32(p[1]))})
	}
	return h
}

// syncPlanEqual compares plans treating nil and empty Proposals alike.
func syncPlanEqual(t require.TestingT, want, got protocol.SyncPlan, msgAndArgs ...any) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	require.Equal(t, want.Mode.String(), got.Mode.String(), msgAndArgs...)
	require.Equal(t, want.Zxid, got.Zxid, msgAndArgs...)
	if len(want.Proposals) == 0 {
		require.Empty(t, got.Proposals, msgAndArgs...)
		return
	}
	require.Equal(t, want.Proposals, got.Proposals, msgAndArgs...)
}

type syncCase struct {
	name           string
	peer           protocol.Zxid
	history        []protocol.Txn
	lastProcessed  protocol.Zxid
	commitLogCount int
	logStart       protocol.Zxid
	want           protocol.SyncPlan
	zooKeeper      bool // ZooKeeper's own TRUNC rule (the TruncToZxidNotHeld knob)
}

func (c syncCase) run(t *testing.T) {
	t.Helper()
	before := slices.Clone(c.history)
	sync := protocol.SyncFollower
	if c.zooKeeper {
		sync = protocol.SyncFollowerAsZooKeeper
	}
	got := sync(c.peer, c.history, c.lastProcessed, c.commitLogCount, c.logStart)
	syncPlanEqual(t, c.want, got, "peer %v history %v", c.peer, c.history)
	require.Equal(t, before, c.history, "SyncFollower must not modify the leader's history")
}

// TestSyncFollowerRules checks each rule of the DIFF / TRUNC / SNAP choice with concrete zxids,
// the leader's whole history being in the committedLog unless a case says otherwise.
//
// Reference: spec §5.6, LearnerHandler.syncFollower and queueCommittedProposals.
func TestSyncFollowerRules(t *testing.T) {
	// Leader history 0x100000001..0x100000003, 0x200000001, 0x200000002.
	h := syncHist([2]int{1, 1}, [2]int{1, 2}, [2]int{1, 3}, [2]int{2, 1}, [2]int{2, 2})
	last := syncZ(2, 2)
	const all = 500

	for _, c := range []syncCase{
		{
			name: "rule 2: peer == lastProcessedZxid -> DIFF(peer), no txns",
			peer: last, history: h, lastProcessed: last, commitLogCount: all, logStart: h[0].Zxid,
			want: protocol.SyncPlan{Mode: protocol.DIFF, Zxid: last},
		},
		{
			name: "rule 3: peer beyond max in the same epoch -> TRUNC(max)",
			peer: syncZ(2, 5), history: h, lastProcessed: last, commitLogCount: all, logStart: h[0].Zxid,
			want: protocol.SyncPlan{Mode: protocol.TRUNC, Zxid: last},
		},
		{
			name: "rule 3, ZooKeeper: peer beyond max in a later epoch -> TRUNC(max), no epoch check",
			peer: syncZ(3, 1), history: h, lastProcessed: last, commitLogCount: all, logStart: h[0].Zxid,
			want: protocol.SyncPlan{Mode: protocol.TRUNC, Zxid: last}, zooKeeper: true,
		},
		{
			name: "rule 3, default: peer beyond max in a later epoch -> SNAP (TRUNC would keep its txn)",
			peer: syncZ(3, 1), history: h, lastProcessed: last, commitLogCount: all, logStart: h[0].Zxid,
			want: protocol.SyncPlan{Mode: protocol.SNAP, Zxid: last},
		},
		{
			name: "rule 3 excluded: new-epoch zxid beyond max -> SNAP",
			peer: syncZ(3, 0), history: h, lastProcessed: last, commitLogCount: all, logStart: h[0].Zxid,
			want: protocol.SyncPlan{Mode: protocol.SNAP, Zxid: last},
		},
		{
			name: "rule 4: peer inside committedLog -> DIFF(max) + proposals after the peer",
			peer: syncZ(1, 2), history: h, lastProcessed: last, commitLogCount: all, logStart: h[0].Zxid,
			want: protocol.SyncPlan{Mode: protocol.DIFF, Zxid: last, Proposals: h[2:]},
		},
		{
			name: "rule 4: peer at minCommittedLog",
			peer: h[0].Zxid, history: h, lastProcessed: last, commitLogCount: all, logStart: h[0].Zxid,
			want: protocol.SyncPlan{Mode: protocol.DIFF, Zxid: last, Proposals: h[1:]},
		},
		{
			name: "rule 4: peer at the last txn of an older epoch",
			peer: syncZ(1, 3), history: h, lastProcessed: last, commitLogCount: all, logStart: h[0].Zxid,
			want: protocol.SyncPlan{Mode: protocol.DIFF, Zxid: last, Proposals: h[3:]},
		},
		{
			name:          "rule 4: peer has a txn the leader lacks, same epoch -> TRUNC(prev) + proposals",
			peer:          syncZ(1, 3),
			history:       syncHist([2]int{1, 1}, [2]int{1, 2}, [2]int{1, 4}, [2]int{2, 1}),
			lastProcessed: syncZ(2, 1), commitLogCount: all, logStart: syncZ(1, 1),
			want: protocol.SyncPlan{Mode: protocol.TRUNC, Zxid: syncZ(1, 2), Proposals: syncHist([2]int{1, 4}, [2]int{2, 1})},
		},
		{
			name:          "rule 4: peer has txns of an epoch the leader never saw -> SNAP (no cross-epoch TRUNC)",
			peer:          syncZ(2, 5),
			history:       syncHist([2]int{1, 1}, [2]int{1, 2}, [2]int{3, 1}, [2]int{3, 2}),
			lastProcessed: syncZ(3, 2), commitLogCount: all, logStart: syncZ(1, 1),
			want: protocol.SyncPlan{Mode: protocol.SNAP, Zxid: syncZ(3, 2)},
		},
		{
			name: "rule 4: old leader with an uncommitted txn in its epoch, leader moved on -> SNAP",
			peer: syncZ(1, 4), history: h, lastProcessed: last, commitLogCount: all, logStart: h[0].Zxid,
			want: protocol.SyncPlan{Mode: protocol.SNAP, Zxid: last},
		},
		{
			name: "rule 4: new-epoch zxid (counter 0) -> DIFF + the epoch's txns",
			peer: syncZ(2, 0), history: h, lastProcessed: last, commitLogCount: all, logStart: h[0].Zxid,
			want: protocol.SyncPlan{Mode: protocol.DIFF, Zxid: last, Proposals: h[3:]},
		},
		{
			name:          "rule 4: new-epoch zxid of an epoch without txns -> DIFF + later txns",
			peer:          syncZ(2, 0),
			history:       syncHist([2]int{1, 1}, [2]int{1, 2}, [2]int{3, 1}),
			lastProcessed: syncZ(3, 1), commitLogCount: all, logStart: syncZ(1, 1),
			want: protocol.SyncPlan{Mode: protocol.DIFF, Zxid: syncZ(3, 1), Proposals: syncHist([2]int{3, 1})},
		},
		{
			name: "empty leader history, peer 0, lastProcessed 0 -> DIFF(0)",
			peer: 0, history: nil, lastProcessed: 0, commitLogCount: all, logStart: 0,
			want: protocol.SyncPlan{Mode: protocol.DIFF, Zxid: 0},
		},
		{
			name: "empty leader history, peer ahead, ZooKeeper -> TRUNC(0)",
			peer: syncZ(1, 3), history: nil, lastProcessed: 0, commitLogCount: all, logStart: 0,
			want: protocol.SyncPlan{Mode: protocol.TRUNC, Zxid: 0}, zooKeeper: true,
		},
		{
			name: "empty leader history, peer ahead, default -> SNAP (TRUNC 0 keeps the peer's first txn)",
			peer: syncZ(1, 3), history: nil, lastProcessed: 0, commitLogCount: all, logStart: 0,
			want: protocol.SyncPlan{Mode: protocol.SNAP, Zxid: 0},
		},
		{
			name: "empty peer, non-empty leader: txn log starts after 0 -> SNAP",
			peer: 0, history: h, lastProcessed: last, commitLogCount: all, logStart: h[0].Zxid,
			want: protocol.SyncPlan{Mode: protocol.SNAP, Zxid: last},
		},
	} {
		t.Run(c.name, c.run)
	}
}

// TestSyncFollowerTxnLog checks rules 5 and 6: a peer older than the in-memory committedLog
// is DIFFed from the on-disk txn log when the log reaches back to its zxid, and gets a SNAP
// when the log was purged past it or the peer's zxid is from an epoch the leader lacks.
//
// Reference: spec §5.6 rules 5 and 6, LearnerHandler.syncFollower, ZKDatabase.getProposalsFromTxnLog.
func TestSyncFollowerTxnLog(t *testing.T) {
	// Six txns in epoch 1; the committedLog holds only the last two (0x100000005, 0x100000006).
	h := syncHist([2]int{1, 1}, [2]int{1, 2}, [2]int{1, 3}, [2]int{1, 4}, [2]int{1, 5}, [2]int{1, 6})
	last := syncZ(1, 6)
	for _, c := range []syncCase{
		{
			name: "peer below committedLog, in the on-disk log -> DIFF(max) + txn log then committedLog",
			peer: syncZ(1, 2), history: h, lastProcessed: last, commitLogCount: 2, logStart: syncZ(1, 1),
			want: protocol.SyncPlan{Mode: protocol.DIFF, Zxid: last, Proposals: h[2:]},
		},
		{
			name: "peer exactly at logStart -> DIFF",
			peer: syncZ(1, 3), history: h, lastProcessed: last, commitLogCount: 2, logStart: syncZ(1, 3),
			want: protocol.SyncPlan{Mode: protocol.DIFF, Zxid: last, Proposals: h[3:]},
		},
		{
			name: "peer just below minCommittedLog -> DIFF of the committedLog only",
			peer: syncZ(1, 4), history: h, lastProcessed: last, commitLogCount: 2, logStart: syncZ(1, 1),
			want: protocol.SyncPlan{Mode: protocol.DIFF, Zxid: last, Proposals: h[4:]},
		},
		{
			name: "peer older than logStart (log purged) -> SNAP",
			peer: syncZ(1, 2), history: h, lastProcessed: last, commitLogCount: 2, logStart: syncZ(1, 3),
			want: protocol.SyncPlan{Mode: protocol.SNAP, Zxid: last},
		},
		{
			name:          "peer not in history, from an epoch the leader lacks -> SNAP",
			peer:          syncZ(2, 1),
			history:       syncHist([2]int{1, 1}, [2]int{1, 2}, [2]int{3, 1}, [2]int{3, 2}, [2]int{3, 3}, [2]int{3, 4}),
			lastProcessed: syncZ(3, 4), commitLogCount: 2, logStart: syncZ(1, 1),
			want: protocol.SyncPlan{Mode: protocol.SNAP, Zxid: syncZ(3, 4)},
		},
		{
			name: "peer 0 below a non-empty log -> SNAP",
			peer: 0, history: h, lastProcessed: last, commitLogCount: 2, logStart: syncZ(1, 1),
			want: protocol.SyncPlan{Mode: protocol.SNAP, Zxid: last},
		},
	} {
		t.Run(c.name, c.run)
	}
}

// TestSyncFollowerTxnLogPeerNotInHistory checks rule 5 for a peer whose zxid is older than the
// committedLog, not itself a txn of the leader, and still covered by the on-disk log
// (logStart <= peer). The spec reads the txn log from peerLastZxid and says it "yields nothing
// if the first available txn is newer than peerLastZxid"; here the first available txn is
// older, so the log is walked like the committedLog: a new-epoch zxid gets a DIFF and a
// same-epoch divergence a TRUNC(prev). (An earlier sync.go sent SNAP whenever peerLastZxid was
// not itself in the history; this test caught it.)
//
// Reference: spec §5.6 rule 5, ZKDatabase.getProposalsFromTxnLog.
func TestSyncFollowerTxnLogPeerNotInHistory(t *testing.T) {
	// The iterator of getProposalsFromTxnLog starts at the log file holding peerLastZxid
	// (FileTxnLog.FileTxnIterator.init), so only a log that starts after the peer is refused.

	// A learner SNAP-synced at 0x200000000 (its snapshot label) fell more than commitLogCount
	// txns behind; the leader's log still reaches back into epoch 1.
	h := syncHist([2]int{1, 1}, [2]int{1, 2}, [2]int{1, 3}, [2]int{2, 1}, [2]int{2, 2}, [2]int{2, 3})
	c := syncCase{
		name: "new-epoch zxid below committedLog", peer: syncZ(2, 0),
		history: h, lastProcessed: syncZ(2, 3), commitLogCount: 2, logStart: syncZ(1, 1),
		want: protocol.SyncPlan{Mode: protocol.DIFF, Zxid: syncZ(2, 3), Proposals: h[3:]},
	}
	t.Run(c.name, c.run)

	// Same-epoch divergence below the committedLog: walk skips 0x100000001, 0x100000002 (prev),
	// then 0x100000004 > peer in the same epoch -> TRUNC(prev).
	h2 := syncHist([2]int{1, 1}, [2]int{1, 2}, [2]int{1, 4}, [2]int{1, 5}, [2]int{1, 6})
	c = syncCase{
		name: "same-epoch divergence below committedLog", peer: syncZ(1, 3),
		history: h2, lastProcessed: syncZ(1, 6), commitLogCount: 2, logStart: syncZ(1, 1),
		want: protocol.SyncPlan{Mode: protocol.TRUNC, Zxid: syncZ(1, 2), Proposals: h2[2:]},
	}
	t.Run(c.name, c.run)
}

// TestSyncFollowerProposalsNotAliased checks that the plan's Proposals, a sub-slice of the
// leader's history, cannot be used to overwrite that history by appending to it.
//
// Reference: spec §5.6 (the leader's committedLog is shared by every handler), sync.go SyncPlan.Proposals.
func TestSyncFollowerProposalsNotAliased(t *testing.T) {
	backing := make([]protocol.Txn, 0, 16)
	backing = append(backing, syncHist([2]int{1, 1}, [2]int{1, 2}, [2]int{1, 3}, [2]int{1, 4})...)
	h := backing[:3] // spare capacity behind the last element
	plan := protocol.SyncFollower(syncZ(1, 1), h, syncZ(1, 3), 500, syncZ(1, 1))
	require.Equal(t, protocol.DIFF, plan.Mode)
	require.Equal(t, h[1:], plan.Proposals)
	_ = append(plan.Proposals, protocol.Txn{Zxid: syncZ(9, 9)})
	assert.Equal(t, syncZ(1, 4), backing[3].Zxid, "appending to Proposals wrote into the leader's history")
}

// syncPeerKind says how a generated peer relates to the leader's history.
type syncPeerKind int

const (
	syncPeerPrefix   syncPeerKind = iota // peer = leader[:c]
	syncPeerDiverged                     // peer = leader[:c] + txns the leader lacks, all below leader[c]
	syncPeerLabel                        // peer = leader[:c], lastZxid = f<<32 (SNAP-synced snapshot label)
)

// syncScenario is one generated leader/peer pair.
type syncScenario struct {
	leader   []protocol.Zxid
	peerTxns []protocol.Zxid
	peerLast protocol.Zxid
	cut      int // the common prefix is leader[:cut]
	kind     syncPeerKind
}

// syncGenLeader draws a strictly increasing history across 1–3 epochs; counters may skip
// (a leader that lacks a txn of its own epoch) so that the same-epoch TRUNC path is reachable.
func syncGenLeader(t *rapid.T) []protocol.Zxid {
	var h []protocol.Zxid
	e := protocol.Epoch(0)
	for range rapid.IntRange(1, 3).Draw(t, "epochs") {
		e += protocol.Epoch(rapid.IntRange(1, 2).Draw(t, "epochStep"))
		c := uint32(0)
		for range rapid.IntRange(1, 4).Draw(t, "txns") {
			c += uint32(rapid.IntRange(1, 2).Draw(t, "counterStep"))
			h = append(h, syncZ(e, c))
		}
	}
	return h
}

// syncGenScenario draws a peer that shares leader[:cut] and, when it diverges, holds only
// txns strictly between leader[cut-1] and leader[cut]: the peer's extra txns precede every
// txn the leader has and the peer lacks. That is what ZAB produces (the peer's extras are
// proposals of an older epoch that never reached the new leader); interleaved divergence
// cannot be repaired by one TRUNC and is outside §5.6's design (spec §9.1.11).
func syncGenScenario(t *rapid.T) syncScenario {
	h := syncGenLeader(t)
	cut := rapid.IntRange(0, len(h)).Draw(t, "cut")
	s := syncScenario{leader: h, cut: cut, kind: syncPeerKind(rapid.IntRange(0, 2).Draw(t, "kind"))}
	s.peerTxns = slices.Clone(h[:cut])

	lo := protocol.Zxid(0)
	if cut > 0 {
		lo = h[cut-1]
	}
	maxEpoch := h[len(h)-1].Epoch() + 2
	hi := syncZ(maxEpoch+1, 0) // exclusive
	if cut < len(h) {
		hi = h[cut]
	}

	switch s.kind {
	case syncPeerDiverged:
		var cands []protocol.Zxid
		for e := max(lo.Epoch(), 1); e <= hi.Epoch() && e <= maxEpoch; e++ {
			for c := uint32(1); c <= 6; c++ {
				if z := syncZ(e, c); lo < z && z < hi {
					cands = append(cands, z)
				}
			}
		}
		k := rapid.IntRange(0, min(3, len(cands))).Draw(t, "divergent")
		next := 0
		for j := range k {
			i := rapid.IntRange(next, len(cands)-(k-j)).Draw(t, "divergentIdx")
			s.peerTxns = append(s.peerTxns, cands[i])
			next = i + 1
		}
	case syncPeerLabel:
		var labels []protocol.Zxid
		for f := max(lo.Epoch()+1, 1); f <= maxEpoch; f++ {
			if z := syncZ(f, 0); lo < z && z < hi {
				labels = append(labels, z)
			}
		}
		if len(labels) > 0 {
			s.peerLast = rapid.SampledFrom(labels).Draw(t, "label")
			return s
		}
		s.kind = syncPeerPrefix
	}
	if len(s.peerTxns) > 0 {
		s.peerLast = s.peerTxns[len(s.peerTxns)-1]
	}
	if s.kind == syncPeerDiverged && len(s.peerTxns) == cut {
		s.kind = syncPeerPrefix // no candidate fitted
	}
	return s
}

// syncApply is the naive oracle: what the peer's history becomes after following plan.
func syncApply(peer, leader []protocol.Zxid, plan zPlan) []protocol.Zxid {
	switch plan.Mode {
	case protocol.DIFF:
		return append(slices.Clone(peer), plan.Proposals...)
	case protocol.TRUNC:
		var out []protocol.Zxid
		for _, z := range peer {
			if z <= plan.Zxid {
				out = append(out, z)
			}
		}
		return append(out, plan.Proposals...)
	case protocol.SNAP:
		return slices.Clone(leader)
	}
	return nil
}

// syncCheckShape checks what must hold of every plan: Proposals are a contiguous, strictly
// increasing run of the leader's history; a TRUNC target is a leader txn, or max when the peer
// is beyond max (rule 3); a SNAP is labelled with lastProcessedZxid.
func syncCheckShape(t *rapid.T, s syncScenario, plan zPlan) {
	h := s.leader
	last := h[len(h)-1]
	if len(plan.Proposals) > 0 {
		require.NotEqual(t, protocol.SNAP, plan.Mode, "SNAP with proposals")
		i := slices.Index(h, plan.Proposals[0])
		require.GreaterOrEqual(t, i, 0, "proposal %v not in the leader's history", plan.Proposals[0])
		require.LessOrEqual(t, i+len(plan.Proposals), len(h))
		require.Equal(t, h[i:i+len(plan.Proposals)], plan.Proposals, "proposals not contiguous in the leader's history")
		require.True(t, slices.IsSorted(plan.Proposals))
		require.Equal(t, len(plan.Proposals), len(slices.Compact(slices.Clone(plan.Proposals))), "duplicate proposal")
		if plan.Mode == protocol.DIFF {
			require.Greater(t, plan.Proposals[0], s.peerLast, "DIFF resends a txn the peer has")
		} else {
			require.Greater(t, plan.Proposals[0], plan.Zxid, "TRUNC keeps a txn it also resends")
		}
	}
	switch plan.Mode {
	case protocol.TRUNC:
		if s.peerLast > last {
			require.Equal(t, last, plan.Zxid, "rule 3 truncates to max")
		} else {
			require.Contains(t, h, plan.Zxid, "TRUNC to a zxid outside the leader's history")
			require.Less(t, plan.Zxid, s.peerLast, "TRUNC must cut something")
		}
	case protocol.SNAP:
		require.Equal(t, last, plan.Zxid, "SNAP carries lastProcessedZxid")
	case protocol.DIFF:
		require.Equal(t, last, plan.Zxid, "DIFF carries maxCommittedLog = lastProcessedZxid here")
	default:
		t.Fatalf("unexpected mode %v", plan.Mode)
	}
}

// TestSyncFollowerOracle is a property test: for a leader whose lastProcessedZxid is its last
// txn and whose committedLog holds its whole history, following the plan turns the peer's
// history into exactly the leader's, the plan is well formed, and it is the plan §5.6 predicts
// from how the peer relates to the leader (DIFF when the peer's zxid is a leader txn or a
// new-epoch label inside the history, TRUNC(prev) for a same-epoch divergence, TRUNC(max) for
// a peer beyond max, SNAP otherwise).
//
// Reference: spec §5.6 and §9.1.11, LearnerHandler.syncFollower, queueCommittedProposals.
func TestSyncFollowerOracle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := syncGenScenario(t)
		h := s.leader
		last := h[len(h)-1]
		commitLogCount := rapid.IntRange(len(h), len(h)+3).Draw(t, "commitLogCount")
		before := slices.Clone(h)
		plan := syncFollowerZ(s.peerLast, h, last, commitLogCount, h[0])
		require.Equal(t, before, h, "leader history modified")

		syncCheckShape(t, s, plan)
		require.Equal(t, h, syncApply(s.peerTxns, h, plan),
			"plan %v %v %v applied to peer %v (last %v) does not yield leader %v", plan.Mode, plan.Zxid, plan.Proposals, s.peerTxns, s.peerLast, h)

		// The plan §5.6 predicts.
		want := zPlan{Mode: protocol.SNAP, Zxid: last}
		switch {
		case s.peerLast == last:
			want = zPlan{Mode: protocol.DIFF, Zxid: last}
		case s.kind == syncPeerPrefix && s.cut > 0:
			want = zPlan{Mode: protocol.DIFF, Zxid: last, Proposals: h[s.cut:]}
		case s.kind == syncPeerLabel && s.cut > 0 && s.cut < len(h):
			want = zPlan{Mode: protocol.DIFF, Zxid: last, Proposals: h[s.cut:]}
		case s.kind == syncPeerDiverged && s.cut == len(h) && s.peerLast.Epoch() == last.Epoch() && last.Counter() != 0:
			// Beyond max in max's epoch; across epochs the default sends SNAP, since
			// ZooKeeper's TRUNC(max) there leaves the peer a txn the leader lacks.
			want = zPlan{Mode: protocol.TRUNC, Zxid: last}
		case s.kind == syncPeerDiverged && s.cut > 0 && s.cut < len(h) && s.peerLast.Epoch() == h[s.cut].Epoch():
			want = zPlan{Mode: protocol.TRUNC, Zxid: h[s.cut-1], Proposals: h[s.cut:]}
		}
		zPlanEqual(t, want, plan, "peer %v (last %v, cut %d, kind %d), leader %v", s.peerTxns, s.peerLast, s.cut, s.kind, h)
	})
}

// TestSyncFollowerOracleShortCommittedLog is the oracle property with a committedLog shorter
// than the history and an on-disk log that may have been purged: whatever DIFF, TRUNC or SNAP
// is chosen, following it still yields exactly the leader's history, and a peer whose zxid is
// a leader txn at or after logStart is never sent a SNAP.
//
// Reference: spec §5.6 rules 4–6, LearnerHandler.syncFollower, ZKDatabase.getProposalsFromTxnLog.
func TestSyncFollowerOracleShortCommittedLog(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := syncGenScenario(t)
		h := s.leader
		last := h[len(h)-1]
		commitLogCount := rapid.IntRange(1, len(h)).Draw(t, "commitLogCount")
		logStart := h[rapid.IntRange(0, len(h)-1).Draw(t, "logStartIdx")]
		plan := syncFollowerZ(s.peerLast, h, last, commitLogCount, logStart)

		syncCheckShape(t, s, plan)
		require.Equal(t, h, syncApply(s.peerTxns, h, plan),
			"plan %v %v %v applied to peer %v (last %v) does not yield leader %v", plan.Mode, plan.Zxid, plan.Proposals, s.peerTxns, s.peerLast, h)
		if slices.Contains(h, s.peerLast) && s.peerLast >= logStart {
			i := slices.Index(h, s.peerLast)
			zPlanEqual(t, zPlan{Mode: protocol.DIFF, Zxid: last, Proposals: h[i+1:]}, plan)
		}
	})
}

// zPlan is a SyncPlan with zxids for proposals, for the oracle properties over zxid histories.
type zPlan struct {
	Mode      protocol.SyncMode
	Zxid      protocol.Zxid
	Proposals []protocol.Zxid
}

func syncFollowerZ(peer protocol.Zxid, h []protocol.Zxid, last protocol.Zxid, commitLogCount int, logStart protocol.Zxid) zPlan {
	p := protocol.SyncFollower(peer, protocol.TxnsOf(h...), last, commitLogCount, logStart)
	z := zPlan{Mode: p.Mode, Zxid: p.Zxid}
	if len(p.Proposals) > 0 {
		z.Proposals = protocol.Zxids(p.Proposals)
	}
	return z
}

func zPlanEqual(t require.TestingT, want, got zPlan, msgAndArgs ...any) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	asPlan := func(z zPlan) protocol.SyncPlan {
		return protocol.SyncPlan{Mode: z.Mode, Zxid: z.Zxid, Proposals: protocol.TxnsOf(z.Proposals...)}
	}
	syncPlanEqual(t, asPlan(want), asPlan(got), msgAndArgs...)
}

// TestSyncFollowerTxnLogGap is LearnerHandlerTest.testTxnLogGap: the txn log holds 0x100000002
// to 0x100000004, the committedLog 0x100000007 and 0x100000008, and the peer is at 0x100000003.
// The txn log's walk ends at 0x100000004, below minCommittedLog, so the leader sends a SNAP;
// without the check (NoTxnlogGapCheck, ZOOKEEPER-2418) it DIFFs 4, 7, 8 and the peer never
// gets 5 and 6.
// Reference: LearnerHandler.syncFollower ("Detected gap between end of txnlog"), ZOOKEEPER-2418.
func TestSyncFollowerTxnLogGap(t *testing.T) {
	txnLog := syncHist([2]int{1, 2}, [2]int{1, 3}, [2]int{1, 4})
	committed := syncHist([2]int{1, 7}, [2]int{1, 8})
	last := syncZ(1, 8)
	got := protocol.SyncFollowerLogs(syncZ(1, 3), committed, txnLog, last, protocol.SyncKnobs{})
	require.Equal(t, protocol.SyncPlan{Mode: protocol.SNAP, Zxid: last, Current: last, TxnLogGap: true}, got)

	got = protocol.SyncFollowerLogs(syncZ(1, 3), committed, txnLog, last, protocol.SyncKnobs{NoTxnlogGapCheck: true})
	require.Equal(t, protocol.DIFF, got.Mode)
	require.Equal(t, []protocol.Zxid{syncZ(1, 4), syncZ(1, 7), syncZ(1, 8)}, protocol.Zxids(got.Proposals))

	// A txn log that reaches the committedLog is read up to minCommittedLog, then the
	// committedLog goes on: no gap, one DIFF of 4 to 8.
	full := syncHist([2]int{1, 2}, [2]int{1, 3}, [2]int{1, 4}, [2]int{1, 5}, [2]int{1, 6}, [2]int{1, 7})
	got = protocol.SyncFollowerLogs(syncZ(1, 3), committed, full, last, protocol.SyncKnobs{})
	require.Equal(t, protocol.DIFF, got.Mode)
	require.Equal(t, []protocol.Zxid{syncZ(1, 4), syncZ(1, 5), syncZ(1, 6), syncZ(1, 7), syncZ(1, 8)}, protocol.Zxids(got.Proposals))
	require.True(t, got.FromTxnLog)
}

// TestSyncFollowerCommittedLogHole: a committedLog with a hole (ZOOKEEPER-4925) is DIFFed as
// it is: syncFollower trusts it, so the hole must never be made (the CommittedLogHole knob
// makes it; ContiguousDiff sees the result).
func TestSyncFollowerCommittedLogHole(t *testing.T) {
	committed := syncHist([2]int{1, 1}, [2]int{1, 2}, [2]int{1, 5}, [2]int{1, 6})
	got := protocol.SyncFollowerLogs(syncZ(1, 1), committed, committed, syncZ(1, 6), protocol.SyncKnobs{})
	require.Equal(t, protocol.DIFF, got.Mode)
	require.Equal(t, []protocol.Zxid{syncZ(1, 2), syncZ(1, 5), syncZ(1, 6)}, protocol.Zxids(got.Proposals))
}

// TestSyncFollowerTxnLogSizeLimit: a txn-log DIFF is refused, for a SNAP, when more logged txns
// than the limit lie between the learner's zxid and the end of the log, or when txn-log sync is
// off (-1); the committedLog's DIFF has no such limit.
// Reference: ZKDatabase.getProposalsFromTxnLog, calculateTxnLogSizeLimit, isTxnLogSyncEnabled.
func TestSyncFollowerTxnLogSizeLimit(t *testing.T) {
	log := syncHist([2]int{1, 1}, [2]int{1, 2}, [2]int{1, 3}, [2]int{1, 4}, [2]int{1, 5}, [2]int{1, 6})
	committed := log[4:]
	last := syncZ(1, 6)
	for _, c := range []struct {
		limit int
		want  protocol.SyncMode
	}{{-1, protocol.SNAP}, {0, protocol.SNAP}, {4, protocol.SNAP}, {5, protocol.DIFF}, {100, protocol.DIFF}} {
		// From 0x100000002 the read covers 0x100000002-6: five txns.
		got := protocol.SyncFollowerLogs(syncZ(1, 2), committed, log, last, protocol.SyncKnobs{LimitTxnLogRead: true, MaxTxnLogRead: c.limit})
		require.Equal(t, c.want, got.Mode, "limit %d", c.limit)
		require.Equal(t, c.want == protocol.SNAP, got.TxnLogTooLarge, "limit %d", c.limit)
	}
	got := protocol.SyncFollowerLogs(syncZ(1, 5), committed, log, last, protocol.SyncKnobs{LimitTxnLogRead: true, MaxTxnLogRead: -1})
	require.Equal(t, protocol.DIFF, got.Mode, "a DIFF from the committedLog reads no txn log")
}
