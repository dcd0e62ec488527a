package realzk

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.steps from the parser's output")

// The logs under testdata/ are excerpts of real ZooKeeper 3.8.0 logs made by this package's
// runs on this machine (noise such as every FLE notification left out; see testdata/README).

func parseTestdata(t *testing.T, name string) []Step {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	first, ok := ParseLogLine(strings.SplitN(string(b), "\n", 2)[0])
	require.True(t, ok, "%s starts with a log line", name)
	// Time 0 at the first line's hour: At is then the clock time within that hour.
	steps, err := ParseLog(strings.NewReader(string(b)), first.Time.Truncate(time.Hour), 1)
	require.NoError(t, err)
	return steps
}

// kinds lists the steps' kinds, without the ZAB phase changes.
func kinds(steps []Step) []string {
	var out []string
	for _, st := range steps {
		if st.Kind != KindState && st.Kind != KindElectionTook && st.Kind != KindNotificationTimeout {
			out = append(out, st.Kind)
		}
	}
	return out
}

func only(steps []Step, kind string) []Step {
	var out []Step
	for _, st := range steps {
		if st.Kind == kind {
			out = append(out, st)
		}
	}
	return out
}

func TestParseLogLine(t *testing.T) {
	l, ok := ParseLogLine("2026-12-03 19:22:38,456 - WARN  [LeaderConnector-/127.0.0.1:54177:Learner$LeaderConnector@448] - Unexpected exception, tries=0, remaining init limit=20000, connecting to /127.0.0.1:54177")
	require.True(t, ok)
	require.Equal(t, time.Date(2026, 12, 3, 19, 22, 38, 456e6, time.UTC), l.Time)
	require.Equal(t, "WARN", l.Level)
	require.Equal(t, "LeaderConnector-/127.0.0.1:54177", l.Thread)
	require.Equal(t, "Learner$LeaderConnector", l.Class)
	require.Equal(t, 448, l.LineNo)
	require.Equal(t, "Unexpected exception, tries=0, remaining init limit=20000, connecting to /127.0.0.1:54177", l.Msg)

	l, ok = ParseLogLine("2026-12-03 19:22:38,169 - INFO  [QuorumPeer[myid=2](plain=127.0.0.1:47907)(secure=disabled):FastLeaderElection@946] - New election. My id = 2, proposed zxid=0x0")
	require.True(t, ok)
	require.Equal(t, "QuorumPeer[myid=2](plain=127.0.0.1:47907)(secure=disabled)", l.Thread)
	require.Equal(t, "FastLeaderElection", l.Class)

	for _, s := range []string{"java.io.EOFException", "\tat java.base/java.io.DataInputStream.readInt(DataInputStream.java:386)", "version=0)", ""} {
		_, ok := ParseLogLine(s)
		require.False(t, ok, s)
	}
}

func TestParseColdStartLeader(t *testing.T) {
	steps := parseTestdata(t, "cold-start-leader.log")
	require.Equal(t, []string{
		KindLooking, KindNewElection, KindDecided, KindLeading,
		KindFollowerInfo, KindSync, KindSyncDiff, KindNewLeader, KindNewLeaderAck, KindHaveQuorum,
		KindFollowerInfo, KindSync, KindSyncDiff, KindNewLeader, KindUptodate, KindNewLeaderAck, KindUptodate,
	}, kinds(steps))
	d := only(steps, KindDecided)[0]
	require.Equal(t, 3, d.Peer)
	require.Equal(t, "LEADING", d.Detail)
	hq := only(steps, KindHaveQuorum)[0]
	require.EqualValues(t, 1, hq.Epoch)
	require.EqualValues(t, 0x100000000, hq.Zxid)
	require.Equal(t, []int{1, 3}, hq.Sids, "the quorum: the leader and the first learner to ack")
	require.Equal(t, "leader", hq.Side)
	fi := only(steps, KindFollowerInfo)
	require.Equal(t, "participant", fi[0].Detail)
	for _, st := range only(steps, KindUptodate) {
		require.Equal(t, "leader", st.Side)
		require.Contains(t, []int{1, 2}, st.Peer)
	}
	took := only(steps, KindElectionTook)[0]
	require.EqualValues(t, 403, took.Value)
	require.Equal(t, "LEADING", took.Detail)
	// At is from time 0 (the zero time here), to the millisecond of the line.
	ne := only(steps, KindNewElection)[0]
	require.Equal(t, 22*time.Minute+38057*time.Millisecond, ne.At)
	require.True(t, strings.HasSuffix(ne.Line, "New election. My id = 3, proposed zxid=0x0"))
	require.Equal(t, 1, ne.Life)
}

func TestParseLeaderCrashFollower(t *testing.T) {
	steps := parseTestdata(t, "leader-crash-follower.log")
	ex := only(steps, KindLearnerException)
	require.Len(t, ex, 1)
	require.Equal(t, "java.io.EOFException", ex[0].Detail, "the stack trace's first line says why")
	require.Equal(t, 3, ex[0].Peer, "it was following 3")
	ds := only(steps, KindDecided)
	require.Len(t, ds, 2)
	require.Equal(t, 3, ds[0].Peer)
	require.Equal(t, 2, ds[1].Peer)
	require.Equal(t, "FOLLOWING", ds[1].Detail)
	li := only(steps, KindLeaderInfo)
	require.Len(t, li, 2)
	require.EqualValues(t, 1, li[0].Epoch)
	require.Equal(t, 3, li[0].Peer)
	require.EqualValues(t, 2, li[1].Epoch)
	require.Equal(t, 2, li[1].Peer, "learner steps name the leader the server decided for")
	nl := only(steps, KindNewLeader)
	require.EqualValues(t, 2, nl[1].Epoch)
	require.Equal(t, "learner", nl[1].Side)
	require.Len(t, only(steps, KindUptodate), 2)
	require.NotEmpty(t, only(steps, KindConnectRefused), "the first try beat the leader's bind")
	cr := only(steps, KindConnectRefused)[0]
	require.Contains(t, cr.Detail, "java.net.ConnectException: Connection refused")
}

func TestParseLeaderCrashNewLeader(t *testing.T) {
	steps := parseTestdata(t, "leader-crash-new-leader.log")
	hq := only(steps, KindHaveQuorum)
	require.Len(t, hq, 1)
	require.EqualValues(t, 2, hq[0].Epoch)
	require.Equal(t, []int{1, 2}, hq[0].Sids)
	nt := only(steps, KindNotificationTimeout)
	require.Len(t, nt, 1)
	require.EqualValues(t, 400, nt[0].Value, "the logged wait is the next one")
	gb := only(steps, KindGoodbye)
	require.Len(t, gb, 1)
	require.Equal(t, 1, gb[0].Peer, "the handler's thread served sid 1")
}

func TestParseEpochTimeout(t *testing.T) {
	steps := parseTestdata(t, "refused-epoch-timeout-leader.log")
	et := only(steps, KindEpochTimeout)
	require.Len(t, et, 2, "two rounds as leader, each timed out")
	for _, st := range et {
		require.True(t, strings.HasPrefix(st.Thread, "QuorumPeer["), st.Thread)
		require.Equal(t, "leader", st.Side)
		require.Equal(t, "java.lang.InterruptedException: Timeout while waiting for epoch from quorum", st.Line)
	}
	sd := only(steps, KindLeaderShutdown)
	require.Len(t, sd, 2)
	require.Equal(t, "Forcing shutdown", sd[0].Detail)
	// The wait is initLimit*tickTime = 10*200ms from the decision.
	lead := only(steps, KindDecided)[0]
	require.InDelta(t, float64(2*time.Second), float64(et[0].At-lead.At), float64(150*time.Millisecond))
	ds := only(steps, KindDecided)
	require.Equal(t, "FOLLOWING", ds[len(ds)-1].Detail)
	require.Equal(t, 2, ds[len(ds)-1].Peer)
}

func TestParseRefusedLearner(t *testing.T) {
	steps := parseTestdata(t, "refused-learner.log")
	cr := only(steps, KindConnectRefused)
	require.GreaterOrEqual(t, len(cr), 5)
	for i := range 5 {
		require.EqualValues(t, i, cr[i].Value, "tries count from 0")
		require.Equal(t, 3, cr[i].Peer)
		require.Contains(t, cr[i].Detail, "Connection refused")
	}
	ex := only(steps, KindLearnerException)
	require.NotEmpty(t, ex)
	require.True(t, strings.HasPrefix(ex[0].Detail, "java.io.IOException: Failed connect to /127.0.0.1:"), ex[0].Detail)
	require.NotEmpty(t, only(steps, KindConnectOK))
}

func TestParseAcceptedEpochHigher(t *testing.T) {
	steps := parseTestdata(t, "accepted-epoch-higher.log")
	el := only(steps, KindLeadersEpochLess)
	require.NotEmpty(t, el)
	for _, st := range el {
		require.EqualValues(t, 1, st.Epoch)
		require.EqualValues(t, 7, st.Value)
		require.Equal(t, 3, st.Peer)
		require.Equal(t, "learner", st.Side)
	}
	ex := only(steps, KindLearnerException)
	require.Len(t, ex, len(el), "one exception per refused epoch")
	require.Equal(t, "java.io.IOException: Leaders epoch, 1 is less than accepted epoch, 7", ex[0].Detail)
	// The exception comes before its stack line's step.
	i := 0
	for i < len(steps) && steps[i].Kind != KindLearnerException {
		i++
	}
	require.Equal(t, KindLeadersEpochLess, steps[i+1].Kind)
}

func TestParseDiskRefused(t *testing.T) {
	steps := parseTestdata(t, "disk-refused.log")
	require.Equal(t, []string{KindLoadFailed}, kinds(steps))
	require.Equal(t, "java.io.IOException: The accepted epoch, 0 is less than the current epoch, 1", steps[0].Detail)
}

func TestParseObserver(t *testing.T) {
	steps := parseTestdata(t, "observer.log")
	d := only(steps, KindDecided)
	require.Len(t, d, 1)
	require.Equal(t, "OBSERVING", d[0].Detail)
	require.Len(t, only(steps, KindObserving), 1)
	require.EqualValues(t, 1, only(steps, KindLeaderInfo)[0].Epoch)
	require.Len(t, only(steps, KindUptodate), 1)
	require.Equal(t, 3, only(steps, KindUptodate)[0].Peer)
}

func TestParseLateJoinerSnap(t *testing.T) {
	learner := only(parseTestdata(t, "late-joiner-snap.log"), KindSyncSnap)
	require.Len(t, learner, 1)
	require.EqualValues(t, 0x100000000, learner[0].Zxid)
	require.Equal(t, "learner", learner[0].Side)
	leader := parseTestdata(t, "late-joiner-leader.log")
	snaps := only(leader, KindSyncSnap)
	require.Len(t, snaps, 1)
	require.Equal(t, 3, snaps[0].Peer, "the snapshot line names no sid: the handler thread's FOLLOWERINFO does")
	require.EqualValues(t, 0x100000000, snaps[0].Zxid)
}

func TestParseQuorumLost(t *testing.T) {
	steps := parseTestdata(t, "quorum-lost-leader.log")
	ns := only(steps, KindNotSufficientFollowers)
	require.Len(t, ns, 1)
	require.Equal(t, []int{3}, ns[0].Sids)
	gb := only(steps, KindGoodbye)
	require.Len(t, gb, 2)
	require.ElementsMatch(t, []int{1, 2}, []int{gb[0].Peer, gb[1].Peer})
	require.Equal(t, KindLooking, kinds(steps)[len(kinds(steps))-2])
}

// Lines this package's runs cannot produce (they need a txn history or a timing it cannot
// force), written from 3.8.0's format strings (the constant pool of the Debian jar's classes).
func TestParseFormatStrings(t *testing.T) {
	const pre = "2026-12-03 19:30:00,000 - INFO  [LearnerHandler-/127.0.0.1:40000:LearnerHandler@850] - "
	p := NewParser(time.Time{}, 1)
	p.Line(pre + "Follower sid: 2 : info : 127.0.0.1:1:2:participant")
	for _, c := range []struct {
		msg, kind string
		peer      int
		zxid      int64
	}{
		{"Sending TRUNC to follower zxidToSend=0x100000003 for peer sid:2", KindSyncTrunc, 2, 0x100000003},
		{"Sending TRUNC zxid=0x100000002  for peer sid: 2", KindSyncTruncOrDiff, 2, 0x100000002},
		{"Sending DIFF zxid=0x100000005  for peer sid: 2", KindSyncDiff, 2, 0x100000005},
		{"Sending snapshot last zxid of peer is 0x0, zxid of leader is 0x200000000, send zxid of db as 0x100000004, 1 concurrent snapshot sync, snapshot sync was exempt from throttle", KindSyncSnap, 2, 0x100000004},
	} {
		st := p.Line(pre + c.msg)
		require.Len(t, st, 1, c.msg)
		require.Equal(t, c.kind, st[0].Kind, c.msg)
		require.Equal(t, c.peer, st[0].Peer, c.msg)
		require.Equal(t, c.zxid, st[0].Zxid, c.msg)
	}
	const lead = "2026-12-03 19:30:00,000 - INFO  [QuorumPeer[myid=3](plain=127.0.0.1:1)(secure=disabled):Leader@819] - "
	st := p.Line(lead + "Shutdown called. For the reason Waiting for a quorum of followers, only synced with sids: [ [3] ]")
	require.Equal(t, []string{KindLeaderShutdown, KindNewLeaderAckTimeout}, kinds(st))
	require.Equal(t, []int{3}, st[1].Sids)
	p.Line("2026-12-03 19:30:00,000 - WARN  [QuorumPeer[myid=3](plain=127.0.0.1:1)(secure=disabled):QuorumPeer@1555] - Unexpected exception")
	st = p.Line("java.lang.InterruptedException: Timeout while waiting for epoch to be acked by quorum")
	require.Equal(t, []string{KindUnexpectedLeaderFailure, KindEpochAckTimeout}, kinds(st))
	require.Equal(t, "java.lang.InterruptedException: Timeout while waiting for epoch to be acked by quorum", st[0].Detail)
	st = p.Line("2026-12-03 19:30:00,001 - INFO  [QuorumPeer[myid=3](plain=127.0.0.1:1)(secure=disabled):Leader@1480] - Quit leading due to voter changed mind.")
	require.Equal(t, []string{KindVoterChangedMind}, kinds(st))
	// A handler thread's copy of the epoch timeout is not the leader's end.
	p.Line("2026-12-03 19:30:00,002 - ERROR [LearnerHandler-/127.0.0.1:40000:LearnerHandler@719] - Unexpected exception in LearnerHandler: ")
	require.Empty(t, p.Line("java.lang.InterruptedException: Timeout while waiting for epoch from quorum"))
}

// TestParseGolden pins the parser's whole output for every excerpt (-update rewrites it).
func TestParseGolden(t *testing.T) {
	logs, err := filepath.Glob(filepath.Join("testdata", "*.log"))
	require.NoError(t, err)
	require.NotEmpty(t, logs)
	for _, path := range logs {
		name := filepath.Base(path)
		var b strings.Builder
		for _, st := range parseTestdata(t, name) {
			fmt.Fprintf(&b, "%v %s side=%s peer=%d epoch=%d zxid=0x%x value=%d sids=%v detail=%q\n",
				st.At, st.Kind, st.Side, st.Peer, st.Epoch, uint64(st.Zxid), st.Value, st.Sids, st.Detail)
		}
		golden := filepath.Join("testdata", "golden", strings.TrimSuffix(name, ".log")+".steps")
		if *update {
			require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
			require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o644))
			continue
		}
		want, err := os.ReadFile(golden)
		require.NoError(t, err, "run go test ./realzk -run TestParseGolden -update")
		require.Equal(t, string(want), b.String(), name)
	}
}
