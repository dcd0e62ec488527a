package scenarios

import (
	"fmt"
	"time"

	"zabsim/protocol"
	"zabsim/sim"
)

// Motifs are the rare timings of ZooKeeper's bug history and test suite, each a small schedule
// of correlated faults whose servers and times are drawn. Independent random faults reach them
// only once in hundreds or thousands of runs (two failures that must line up with one
// handshake), so the generator draws at most one motif per run, on top of its random faults.
// Choice 0 is "no motif", the benign minimum a shrinker falls back to.
const (
	motifNone = iota
	// motifBareQuorumHandshake: the voters beyond a bare quorum stay away past the leader's
	// deadlines, and one follower of that bare quorum dies or fails a write at one of its
	// handshake writes (Zab1_0Test's testAbandonBeforeACKEpoch, ZOOKEEPER-1192).
	motifBareQuorumHandshake
	// motifMixedRounds: followers rejoin the leader across its restart with the votes of an
	// older election round, then another voter restarts and must join that mixed ensemble
	// (FLETest.testJoinInconsistentEnsemble, ZOOKEEPER-1818).
	motifMixedRounds
	// motifHandshakeRejoin: everyone is up, one follower dies or fails a write at one of its
	// handshake writes, the others carry the activation on, and the follower comes back to
	// the same leader and epoch as a late joiner (ZOOKEEPER-2307, -1653, -1282's settings).
	motifHandshakeRejoin
	// motifWritesAroundSync: one follower is down while writes commit, so it comes back to a
	// DIFF of them, and a burst of writes meets its sync; sometimes one of its NEWLEADER-step
	// writes fails (the settings of ZOOKEEPER-4394, 2355, 1136 and 4685).
	motifWritesAroundSync
	// motifStaleLeaderDiff: QuorumSyncTest.testStaleDiffSync's order. Two followers go down
	// one after the other while writes commit; the second comes back to a DIFF, the leader
	// goes down, that follower leads, and the first comes back from below the DIFF (the
	// committedLog ZOOKEEPER-4925 left with a hole). Five or more voters.
	motifStaleLeaderDiff
	// motifSnapThenLead: a voter whose log is older than the leader's txn log starts into a
	// burst of writes and is SNAP-synced (COMMITs before NEWLEADER), sometimes restarts, then
	// leads once the leader goes down, and a voter that was down all along comes back from
	// inside its old log files: the txn-log gaps of ZOOKEEPER-2418 and of a SNAP's leftover
	// files. Five or more voters.
	motifSnapThenLead
	// motifAckThenResync: a proposal reaches the leader and one follower at once and the other
	// followers late (their learner port is held); the follower restarts while it waits, is
	// TRUNCated below it, and sometimes dies right after the truncation (the stale ack of
	// AcksKeptAcrossResync). Five or more voters.
	motifAckThenResync
	// motifDisloyalVoter: only a bare quorum of voters runs, one of its followers cannot reach
	// the leader's learner port, and maxTimeToWaitForEpoch is set (ZOOKEEPER-3109's trigger).
	motifDisloyalVoter
	motifCount
)

// generateMotif draws one motif (or none) and returns when its last fault has healed.
func generateMotif(d Drawer, b *Builder, voters int) time.Duration {
	switch d.Draw("motif", motifNone, motifCount-1) {
	case motifBareQuorumHandshake:
		return handshakeFault(d, b, voters, true)
	case motifMixedRounds:
		return mixedRounds(d, b, voters)
	case motifHandshakeRejoin:
		return handshakeFault(d, b, voters, false)
	case motifWritesAroundSync:
		return writesAroundSync(d, b, voters)
	case motifStaleLeaderDiff:
		return staleLeaderDiff(d, b, voters)
	case motifSnapThenLead:
		return snapThenLead(d, b, voters)
	case motifAckThenResync:
		return ackThenResync(d, b, voters)
	case motifDisloyalVoter:
		return disloyalVoterMotif(d, b, voters)
	}
	return 0
}

// staleLeaderDiff: after the first ensemble settles, one write; follower "first" goes down;
// a few writes; the highest-sid follower goes down; a few more; it comes back and is DIFFed
// them; sometimes more writes follow; the leader goes down, and that follower, holding every
// write and the highest sid left, leads; "first" comes back last. The old leader returns
// later, so every fault heals.
func staleLeaderDiff(d Drawer, b *Builder, voters int) time.Duration {
	if voters < 5 {
		return 0
	}
	m := motifDraws{d, "stale leader diff "}
	leader := expectedLeader(b, voters)
	next := protocol.ServerID(voters)
	if next == leader {
		next--
	}
	first := pickFollowers(d, m.label("first down"), voters, leader, 1, []protocol.ServerID{next})
	if len(first) == 0 {
		return 0
	}
	burst := func(at time.Duration, n int) {
		for i := range n {
			b.Writes(leader, at+time.Duration(i)*time.Millisecond)
		}
	}
	t := m.ms("settle ms", 1000, 3000)
	burst(t, 1)
	t += m.ms("first down after ms", 50, 500)
	b.Crash(first[0], t)
	burst(t+m.ms("writes after first ms", 10, 200), m.draw("writes missed by both", 1, 10))
	t += m.ms("next down after ms", 300, 1000)
	b.Crash(next, t)
	burst(t+m.ms("writes after next ms", 10, 200), m.draw("writes missed by next", 1, 10))
	t += m.ms("next away ms", 300, 1500)
	b.Restart(next, t)
	t += m.ms("next synced ms", 500, 1500)
	burst(t, m.draw("writes after next's return", 0, 3))
	t += m.ms("leader down after ms", 100, 1000)
	b.Crash(leader, t)
	back := t + m.ms("first back ms", 500, 3000)
	b.Restart(first[0], back)
	end := back + m.ms("old leader back ms", 1000, 3000)
	b.Restart(leader, end)
	return end
}

// snapThenLead gives the voters disks of one epoch-1 history: the leader-to-be (the second
// highest sid) and the others hold all of it, their logs purged below its last two txns;
// "snapped" (the highest sid) logged an older prefix, below the leader's txn log; "stale"
// logged a shorter prefix still, inside snapped's. Stale starts last; snapped starts into a
// burst of writes and is SNAP-synced, sometimes restarts; the leader goes down and snapped,
// holding everything with the highest sid, leads; then stale starts. The old leader comes
// back last.
func snapThenLead(d Drawer, b *Builder, voters int) time.Duration {
	if voters < 5 {
		return 0
	}
	m := motifDraws{d, "snap then lead "}
	n := m.draw("history txns", 4, 8)
	snapped, leader := protocol.ServerID(voters), protocol.ServerID(voters-1)
	stale := protocol.ServerID(1 + m.draw("stale voter", 0, voters-3))
	snappedHas := m.draw("snapped voter's txns", 2, n-2)
	staleHas := m.draw("stale voter's txns", 1, snappedHas-1)
	disk := func(k int, logStart protocol.Zxid) protocol.Disk {
		dk := protocol.Disk{AcceptedEpoch: 1, CurrentEpoch: 1, CurrentEpochTmp: -1, LogStart: logStart}
		for i := 1; i <= k; i++ {
			dk.Txns = append(dk.Txns, protocol.Txn{Zxid: protocol.MakeZxid(1, uint32(i))})
		}
		if logStart > 0 {
			dk.SnapshotZxid = dk.Txns[k-1].Zxid
		}
		return dk
	}
	for id := protocol.ServerID(1); int(id) <= voters; id++ {
		switch id {
		case snapped:
			b.RawDisk(id, disk(snappedHas, 0))
		case stale:
			b.RawDisk(id, disk(staleHas, 0))
		default:
			b.RawDisk(id, disk(n, protocol.MakeZxid(1, uint32(n-1))))
		}
	}
	start := m.ms("snapped starts ms", 1000, 3000)
	b.StartAt(snapped, start)
	burstAt := start + m.ms("burst after start ms", 0, 400)
	for i := range m.draw("burst writes", 20, 120) {
		b.Writes(leader, burstAt+time.Duration(i)*time.Millisecond)
	}
	t := burstAt + m.ms("leader down after ms", 1000, 3000)
	if m.draw("snapped restarts", 0, 1) == 1 {
		b.Crash(snapped, t-600*time.Millisecond).Restart(snapped, t-300*time.Millisecond)
	}
	b.Crash(leader, t)
	staleAt := t + m.ms("stale starts after ms", 1000, 3000)
	b.StartAt(stale, staleAt)
	end := staleAt + m.ms("old leader back ms", 1000, 3000)
	b.Restart(leader, end)
	return end
}

// writesAroundSync: a follower of the expected leader crashes once the ensemble is up, misses
// a few writes, and restarts; a burst of writes to the leader starts while it elects and
// registers, so proposals and COMMITs reach it during its sync (packetsNotLogged,
// packetsCommitted). In one run of three, its updatingEpoch marker or its NEWLEADER-step txn
// log write fails, so it leaves the sync after the DIFF and before applying it.
func writesAroundSync(d Drawer, b *Builder, voters int) time.Duration {
	m := motifDraws{d, "writes around sync "}
	leader := expectedLeader(b, voters)
	victim := pickFollowers(d, m.label("victim"), voters, leader, 1, nil)
	if len(victim) == 0 {
		return 0
	}
	down := time.Duration(m.draw("down ms", 1000, 5000)) * time.Millisecond
	up := down + time.Duration(m.draw("away ms", 200, 3000))*time.Millisecond
	b.Crash(victim[0], down).Restart(victim[0], up)
	for i := range m.draw("missed writes", 1, 5) {
		b.Writes(leader, down+50*time.Millisecond+time.Duration(i)*time.Millisecond)
	}
	burst := m.draw("burst writes", 20, 80)
	start := up + time.Duration(m.draw("burst delay ms", 0, 100))*time.Millisecond
	for i := range burst {
		b.Writes(leader, start+time.Duration(i)*time.Millisecond)
	}
	if m.draw("sync write fails", 0, 2) == 0 {
		w := []protocol.WriteKind{protocol.WriteUpdatingEpochMarker, protocol.WriteTxns}[m.draw("sync write", 0, 1)]
		b.DiskFault(victim[0], up, w, 1)
	}
	return start + time.Duration(burst)*time.Millisecond
}

// expectedLeader is the voter Fast Leader Election should pick when every voter starts at once:
// the best (currentEpoch, last logged zxid, sid) of the disks the generator drew. The motifs
// aim their faults at its followers; when timing decides otherwise the run is still valid,
// only less pointed.
func expectedLeader(b *Builder, voters int) protocol.ServerID {
	best := protocol.ServerID(1)
	var bestZxid protocol.Zxid
	var bestEpoch protocol.Epoch
	for id := protocol.ServerID(1); int(id) <= voters; id++ {
		var zxid protocol.Zxid
		var epoch protocol.Epoch
		for _, sd := range b.spec.Disks {
			if sd.ID == id {
				epoch = sd.Disk.CurrentEpoch
				if n := len(sd.Disk.Txns); n > 0 {
					zxid = sd.Disk.Txns[n-1].Zxid
				}
			}
		}
		if id == 1 || protocol.VoteBeats(id, zxid, epoch, best, bestZxid, bestEpoch) {
			best, bestZxid, bestEpoch = id, zxid, epoch
		}
	}
	return best
}

// pickFollowers draws k distinct voters other than leader, in draw order.
func pickFollowers(d Drawer, label string, voters int, leader protocol.ServerID, k int, taken []protocol.ServerID) []protocol.ServerID {
	var pool []protocol.ServerID
	for id := protocol.ServerID(1); int(id) <= voters; id++ {
		if id != leader && !containsID(taken, id) {
			pool = append(pool, id)
		}
	}
	var picked []protocol.ServerID
	for i := 0; i < k && len(pool) > 0; i++ {
		j := d.Draw(fmt.Sprintf("%s %d", label, i), 0, len(pool)-1)
		picked = append(picked, pool[j])
		pool = append(pool[:j], pool[j+1:]...)
	}
	return picked
}

func containsID(ids []protocol.ServerID, id protocol.ServerID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// syncWrites are a learner's durable writes between LEADERINFO's acceptedEpoch and its
// NEWLEADER ack, in the order it makes them (spec §2.4, §5.5).
var syncWrites = []protocol.WriteKind{
	protocol.WriteUpdatingEpochMarker, protocol.WriteSnapshot, protocol.WriteTxns, protocol.WriteTruncate,
	protocol.WriteCurrentEpoch, protocol.WriteClearUpdatingEpochMarker,
}

// handshakeFault makes one follower of the expected leader die at, or fail, one of its
// handshake writes. With bare, the voters beyond a bare quorum start late (one to two initLimit
// windows), so the leader's waits in getEpochToPropose, waitForEpochAck and
// waitForNewLeaderAck run to their deadlines with exactly one vote missing. Without, the
// others carry the activation on and the follower rejoins it late, through the ACKEPOCH -1
// path when its acceptedEpoch already holds the leader's epoch.
func handshakeFault(d Drawer, b *Builder, voters int, bare bool) time.Duration {
	prefix := "handshake rejoin "
	if bare {
		prefix = "bare quorum "
	}
	label := func(s string) string { return prefix + s }
	cfg := &b.spec.Config
	leader := expectedLeader(b, voters)
	var away []protocol.ServerID
	var last time.Duration
	if bare {
		away = pickFollowers(d, label("away voter"), voters, leader, (voters-1)/2, nil)
		last = time.Duration(d.Draw(label("away ticks"), cfg.InitLimit, 2*cfg.InitLimit)) * cfg.TickTime
		for _, id := range away {
			if !hasStart(b, id) {
				b.StartAt(id, last)
			}
		}
	}
	victim := pickFollowers(d, label("victim"), voters, leader, 1, away)
	if len(victim) == 0 {
		return last
	}
	// The handshake's two phases are equally likely: discovery has one write (acceptedEpoch,
	// before ACKEPOCH), synchronization six.
	w := protocol.WriteAcceptedEpoch
	if d.Draw(label("in synchronization"), 0, 1) == 1 {
		w = syncWrites[d.Draw(label("sync write"), 0, len(syncWrites)-1)]
	}
	// Armed just after boot, so loadDataBase's own writes do not count.
	const armed = time.Millisecond
	if d.Draw(label("write fails instead of a crash"), 0, 1) == 1 {
		b.DiskFault(victim[0], armed, w, 1)
		return last
	}
	point := []sim.CrashPoint{sim.CrashBefore, sim.CrashAfter, sim.CrashTorn}[d.Draw(label("crash point"), 0, 2)]
	down := armed + time.Duration(d.Draw(label("down ticks"), 1, 2*cfg.InitLimit))*cfg.TickTime
	b.CrashPoint(victim[0], armed, w, 1, point).Restart(victim[0], down)
	return max(last, down)
}

// mixedRounds is ZOOKEEPER-1818's story with drawn times. Once the ensemble is up, a group of
// followers (as many as can leave the others short of a quorum) restarts while the learner
// port cuts it off, and decides to follow the leader from the current round's votes; the
// leader crashes and is re-elected in a later round by the others; the cut heals within the
// group's connect window, so it syncs with the votes of the older round. Then another follower
// restarts and has to join from those mixed votes.
func mixedRounds(d Drawer, b *Builder, voters int) time.Duration {
	m := motifDraws{d, "mixed rounds "}
	cfg := &b.spec.Config
	// Every voter gets the most up-to-date voter's disk: with equal histories and epochs the
	// highest sid wins each election, so the restarted leader is usually re-elected by the
	// others (all lower sids) and the stale group finds it again. Not always: a follower that
	// joined the first ensemble late got a SNAP labelled e<<32, and that beats the restarted
	// leader's own log (ZooKeeper's behaviour, kept).
	best := expectedLeader(b, voters)
	disk := protocol.NewDisk()
	if d := b.diskOf(best); d != nil {
		disk = *d
	}
	for id := protocol.ServerID(1); int(id) <= voters; id++ {
		cp := disk
		cp.Txns = append([]protocol.Txn(nil), disk.Txns...)
		b.RawDisk(id, cp)
	}
	leader := protocol.ServerID(voters)
	stale := pickFollowers(d, m.label("stale follower"), voters, leader, (voters-1)/2, nil)
	joiner := pickFollowers(d, m.label("joiner"), voters, leader, 1, stale)
	if len(joiner) == 0 {
		return 0
	}
	up := m.ms("settle ms", 1000, 8000) // the first ensemble has formed
	restart := up + m.ms("stale down ms", 1, 3000)
	cutFrom := up + m.ms("cut after crash ms", 1, 3000)
	// The leader's crash, its restart and the heal all fall inside the stale group's
	// connectToLeader window (initLimit ticks from its restart), so it still retries when the
	// cut heals and syncs with its old-round vote.
	window := cfg.InitLimitTime()
	p1 := m.draw("leader crash, per mille of connect window", 1, 997)
	p2 := m.draw("leader restart, per mille of connect window", p1+1, 998)
	p3 := m.draw("heal, per mille of connect window", p2+1, 999)
	leaderDown := restart + window*time.Duration(p1)/1000
	leaderUp := restart + window*time.Duration(p2)/1000
	heal := restart + window*time.Duration(p3)/1000
	for _, id := range stale {
		b.Crash(id, up).Restart(id, restart)
	}
	b.Crash(leader, leaderDown).Restart(leader, leaderUp)
	var rest []protocol.ServerID
	for id := protocol.ServerID(1); int(id) <= len(cfg.Servers); id++ {
		if !containsID(stale, id) {
			rest = append(rest, id)
		}
	}
	b.spec.Faults = append(b.spec.Faults, sim.Fault{Kind: sim.FaultPartition, At: at(min(cutFrom, restart)), Heal: at(heal),
		Groups: [][]protocol.ServerID{stale, rest}, Port: sim.PortLearner})
	if m.draw("hold stale replies to the restarted leader", 0, 1) == 1 {
		// Else a stale FOLLOWING reply may reach the restarted leader first, and it takes the
		// lead again in the old round (a race of its own, also worth running).
		b.spec.Faults = append(b.spec.Faults, sim.Fault{Kind: sim.FaultPartition, At: at(leaderDown), Heal: at(leaderUp + time.Second),
			Groups: [][]protocol.ServerID{stale, {leader}}, OneWay: true, Port: sim.PortElection})
	}
	joinDown := heal + m.ms("joiner crash after heal ms", 1, 10000)
	joinUp := joinDown + m.ms("joiner down ms", 1, 3000)
	b.Crash(joiner[0], joinDown).Restart(joiner[0], joinUp)
	return joinUp
}

// ackThenResync: once the ensemble is up, a write commits everywhere; the next reaches the
// leader and the victim at once, while the leader's learner port to every other follower holds
// what it sends for a while, released one follower at a time. The victim crashes once it has acked, restarts, and its
// FOLLOWERINFO reports the proposal, past the committed log: a TRUNC. In half the runs it
// dies just after the truncation; else it re-logs the proposal after UPTODATE.
func ackThenResync(d Drawer, b *Builder, voters int) time.Duration {
	if voters < 5 {
		return 0
	}
	m := motifDraws{d, "ack then resync "}
	leader := expectedLeader(b, voters)
	victim := pickFollowers(d, m.label("victim"), voters, leader, 1, nil)
	if len(victim) == 0 {
		return 0
	}
	var slow []protocol.ServerID
	for id := protocol.ServerID(1); int(id) <= voters; id++ {
		if id != leader && id != victim[0] {
			slow = append(slow, id)
		}
	}
	w := m.ms("settle ms", 1500, 4000)
	b.Writes(leader, w-time.Second, w)
	// Each slow follower's port is released on its own, so that their acks, and the commit
	// the stale ack completes, come one by one.
	heal := w + m.ms("held ms", 300, 2000)
	gap := m.ms("release gap ms", 30, 200)
	for i, id := range slow {
		b.fault(sim.Fault{Kind: sim.FaultPartition, At: at(w - time.Millisecond), Heal: at(heal + time.Duration(i)*gap),
			OneWay: true, Port: sim.PortLearner, Groups: [][]protocol.ServerID{{leader}, {id}}})
	}
	heal += time.Duration(len(slow)-1) * gap
	down := w + m.ms("victim down ms", 60, 150)
	up := down + m.ms("victim away ms", 10, 200)
	b.Crash(victim[0], down).Restart(victim[0], up)
	if m.draw("victim dies after truncate", 0, 1) == 1 {
		b.CrashPoint(victim[0], up, protocol.WriteTruncate, 1, sim.CrashAfter)
		back := heal + m.ms("victim back ms", 500, 2000)
		b.Restart(victim[0], back)
		return back
	}
	return heal
}

// disloyalVoterMotif: a bare quorum runs, the expected leader among it; the voters beyond it
// start late; one follower of the quorum is refused by the leader's learner port for a while,
// so after its tries it goes LOOKING and tells the leader, which, with maxTimeToWaitForEpoch
// set, quits its epoch wait at once (under NoQuitOnDisloyalVoter it waits out initLimit).
func disloyalVoterMotif(d Drawer, b *Builder, voters int) time.Duration {
	m := motifDraws{d, "disloyal voter "}
	leader := expectedLeader(b, voters)
	quorum := pickFollowers(d, m.label("quorum"), voters, leader, voters/2, nil)
	if len(quorum) == 0 {
		return 0
	}
	late := m.ms("others start ms", 5000, 30000)
	for id := protocol.ServerID(1); int(id) <= voters; id++ {
		if id != leader && !containsID(quorum, id) {
			b.StartAt(id, late)
		}
	}
	refusedUntil := m.ms("refused ms", 1000, 10000)
	b.RefuseConnect(leader, 0, refusedUntil, quorum[0])
	b.MaxTimeToWaitForEpoch(m.ms("maxTimeToWaitForEpoch ms", 50, 2000))
	return max(late, refusedUntil)
}

// motifDraws draws a motif's choices under labels that start with its name, so that saved
// rapid and fuzz inputs keep meaning the same choices.
type motifDraws struct {
	d      Drawer
	prefix string
}

func (m motifDraws) label(s string) string { return m.prefix + s }

func (m motifDraws) draw(s string, min, max int) int { return m.d.Draw(m.prefix+s, min, max) }

// ms draws a duration in whole milliseconds.
func (m motifDraws) ms(s string, min, max int) time.Duration {
	return time.Duration(m.draw(s, min, max)) * time.Millisecond
}
