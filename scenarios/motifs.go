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
	}
	return 0
}

// writesAroundSync: a follower of the expected leader crashes once the ensemble is up, misses
// a few writes, and restarts; a burst of writes to the leader starts while it elects and
// registers, so proposals and COMMITs reach it during its sync (packetsNotLogged,
// packetsCommitted). In one run of three, its updatingEpoch marker or its NEWLEADER-step txn
// log write fails, so it leaves the sync after the DIFF and before applying it.
func writesAroundSync(d Drawer, b *Builder, voters int) time.Duration {
	label := func(s string) string { return "writes around sync " + s }
	leader := expectedLeader(b, voters)
	victim := pickFollowers(d, label("victim"), voters, leader, 1, nil)
	if len(victim) == 0 {
		return 0
	}
	down := time.Duration(d.Draw(label("down ms"), 1000, 5000)) * time.Millisecond
	up := down + time.Duration(d.Draw(label("away ms"), 200, 3000))*time.Millisecond
	b.Crash(victim[0], down).Restart(victim[0], up)
	for i := range d.Draw(label("missed writes"), 1, 5) {
		b.Writes(leader, down+50*time.Millisecond+time.Duration(i)*time.Millisecond)
	}
	burst := d.Draw(label("burst writes"), 20, 80)
	start := up + time.Duration(d.Draw(label("burst delay ms"), 0, 100))*time.Millisecond
	for i := range burst {
		b.Writes(leader, start+time.Duration(i)*time.Millisecond)
	}
	if d.Draw(label("sync write fails"), 0, 2) == 0 {
		w := []protocol.WriteKind{protocol.WriteUpdatingEpochMarker, protocol.WriteTxns}[d.Draw(label("sync write"), 0, 1)]
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
	label := func(s string) string { return "mixed rounds " + s }
	cfg := &b.spec.Config
	ms := func(s string, min, max int) time.Duration {
		return time.Duration(d.Draw(label(s), min, max)) * time.Millisecond
	}
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
	stale := pickFollowers(d, label("stale follower"), voters, leader, (voters-1)/2, nil)
	joiner := pickFollowers(d, label("joiner"), voters, leader, 1, stale)
	if len(joiner) == 0 {
		return 0
	}
	up := ms("settle ms", 1000, 8000) // the first ensemble has formed
	restart := up + ms("stale down ms", 1, 3000)
	cutFrom := up + ms("cut after crash ms", 1, 3000)
	// The leader's crash, its restart and the heal all fall inside the stale group's
	// connectToLeader window (initLimit ticks from its restart), so it still retries when the
	// cut heals and syncs with its old-round vote.
	window := cfg.InitLimitTime()
	p1 := d.Draw(label("leader crash, per mille of connect window"), 1, 997)
	p2 := d.Draw(label("leader restart, per mille of connect window"), p1+1, 998)
	p3 := d.Draw(label("heal, per mille of connect window"), p2+1, 999)
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
	if d.Draw(label("hold stale replies to the restarted leader"), 0, 1) == 1 {
		// Else a stale FOLLOWING reply may reach the restarted leader first, and it takes the
		// lead again in the old round (a race of its own, also worth running).
		b.spec.Faults = append(b.spec.Faults, sim.Fault{Kind: sim.FaultPartition, At: at(leaderDown), Heal: at(leaderUp + time.Second),
			Groups: [][]protocol.ServerID{stale, {leader}}, OneWay: true, Port: sim.PortElection})
	}
	joinDown := heal + ms("joiner crash after heal ms", 1, 10000)
	joinUp := joinDown + ms("joiner down ms", 1, 3000)
	b.Crash(joiner[0], joinDown).Restart(joiner[0], joinUp)
	return joinUp
}
