package scenarios

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/sim"
)

// Drawer makes the choices of a generated run. Every choice is an integer in [min, max] with a
// label naming the decision; min is always the benign choice (no fault, smallest cluster), so a
// shrinker that lowers choices also removes faults. rapid's *rapid.T (through a small adapter)
// and a seeded PRNG both satisfy it.
type Drawer interface {
	Draw(label string, min, max int) int
}

// RandDrawer draws from a PCG seeded with Seed.
type RandDrawer struct{ R *rand.Rand }

// NewRandDrawer returns a drawer for seed.
func NewRandDrawer(seed uint64) *RandDrawer {
	return &RandDrawer{R: rand.New(rand.NewPCG(seed, 0x72616e646f6d))} // "random"
}

// Draw returns a uniform integer in [min, max].
func (d *RandDrawer) Draw(_ string, min, max int) int { return min + d.R.IntN(max-min+1) }

// GenerateRun draws a whole run: cluster size (3, 5 or 7 voters, 0 to 2 observers), timers,
// link jitter, each server's initial disk (histories and epochs that could really arise, some
// servers ahead of others), and a fault schedule (delayed starts, crashes and restarts, crash
// points between writes, failing writes, partitions of either port, symmetric or one-way), all
// of which heal before a final quiet phase long enough to judge liveness; a quarter of the runs
// also lose messages (each loss breaks its connection), which never heals. Three runs in four
// also carry a motif (motifs.go): correlated faults that line up with one handshake, which
// independent faults reach too rarely.
func GenerateRun(d Drawer, name string, seed uint64) *sim.RunSpec {
	voters := 3 + 2*d.Draw("extra voter pairs", 0, 2)
	observers := d.Draw("observers", 0, 2)
	b := Cluster(voters, observers)
	tick := []time.Duration{2 * time.Second, time.Second, 500 * time.Millisecond}[d.Draw("tickTime choice", 0, 2)]
	b.Timers(tick, 10-d.Draw("initLimit below 10", 0, 7), 5-d.Draw("syncLimit below 5", 0, 3))
	b.spec.Config.LeaderSelfRegisterJitter = time.Duration(d.Draw("self-register jitter ms", 0, 20)) * time.Millisecond
	b.spec.Options.OneWayDelayJitter = time.Duration(d.Draw("link jitter ms", 0, 20)) * time.Millisecond
	if d.Draw("lossy network", 0, 3) == 3 {
		// Each lost message breaks its connection. Loss never heals, so such runs are judged
		// for safety only.
		b.spec.Options.MessageLossProbability = sim.Ratio{Num: uint32(d.Draw("message loss per mille", 1, 10)), Den: 1000}
	}
	n := voters + observers
	generateDisks(d, b, n)
	lastHeal := generateMotif(d, b, voters) // a motif may give the voters other disks
	establishEpochs(b, voters)
	maxFaults := 6
	if lastHeal > 0 {
		maxFaults = 2 // fewer random faults to bury the motif under
	}
	faults := d.Draw("faults", 0, maxFaults)
	for i := 0; i < faults; i++ {
		lastHeal = max(lastHeal, generateFault(d, b, n, i))
	}
	// Choices added after the first generator go last, so saved rapid and fuzz inputs keep
	// drawing the runs they drew.
	lastHeal = max(lastHeal, generateProcessFaults(d, b, n))
	if d.Draw("maxTimeToWaitForEpoch set", 0, 3) == 3 {
		b.spec.Config.MaxTimeToWaitForEpoch = time.Duration(d.Draw("maxTimeToWaitForEpoch ms", 50, 5000)) * time.Millisecond
	}
	bound := checker.LivenessBound(&b.spec.Config)
	generateWorkload(d, b, n, lastHeal+bound)
	if d.Draw("small database", 0, 3) == 3 {
		// A database of a few MiB: its snapshot is smaller than the txn log files a DIFF
		// would read, so txn-log DIFFs are refused (snapshotSizeFactor) and the leader SNAPs.
		b.spec.Config.DatabaseBytes = int64(d.Draw("database MiB", 1, 400)) << 20
	}
	b.Until(lastHeal + bound + 10*time.Second).StopWhenStable()
	return b.Spec(name, seed)
}

// generateDisks gives each server a prefix of one committed history, sometimes with an
// uncommitted txn of an old leader on top, and epochs consistent with it: currentEpoch at least
// the epoch of its last txn (more after failed activations), acceptedEpoch at least that.
func generateDisks(d Drawer, b *Builder, n int) {
	var history []protocol.Zxid
	epochs := d.Draw("history epochs", 0, 3)
	for e := 1; e <= epochs; e++ {
		for c := 1; c <= d.Draw(fmt.Sprintf("txns in epoch %d", e), 0, 3); c++ {
			history = append(history, protocol.MakeZxid(protocol.Epoch(e), uint32(c)))
		}
	}
	for id := 1; id <= n; id++ {
		if d.Draw(fmt.Sprintf("server %d has a disk", id), 0, 1) == 0 {
			continue
		}
		keep := len(history) - d.Draw(fmt.Sprintf("server %d txns missing", id), 0, len(history))
		txns := append([]protocol.Zxid(nil), history[:keep]...)
		if len(txns) > 0 && d.Draw(fmt.Sprintf("server %d uncommitted txn", id), 0, 3) == 3 {
			// An old leader's next txn, logged alone: it diverges only if the committed
			// history moved on to a later epoch there (else it would be the committed one).
			last := txns[len(txns)-1]
			if keep == len(history) || history[keep].Epoch() > last.Epoch() {
				txns = append(txns, protocol.MakeZxid(last.Epoch(), last.Counter()+1))
			}
		}
		var lastEpoch protocol.Epoch
		if len(txns) > 0 {
			lastEpoch = txns[len(txns)-1].Epoch()
		}
		cur := lastEpoch + protocol.Epoch(d.Draw(fmt.Sprintf("server %d epochs after its log", id), 0, 2))
		acc := cur + protocol.Epoch(d.Draw(fmt.Sprintf("server %d accepted above current", id), 0, 2))
		b.Disk(protocol.ServerID(id), acc, cur, txns...)
	}
}

// establishEpochs makes the drawn disks reachable. A txn or a currentEpoch of epoch e exists
// only once e's leader had a voter quorum of ACKEPOCHs, each after writing acceptedEpoch >= e
// (Learner.registerWithLeader), and acceptedEpoch never decreases. Without that, a new leader
// may pick an epoch some server already holds txns of, and two different txns share a zxid, a
// history no ZooKeeper ensemble can reach. Voters with the highest acceptedEpoch are raised
// first (lower ids on ties); one without a disk gets the files of a server that acked e and
// never synced. It draws nothing, so saved inputs keep drawing the runs they drew.
func establishEpochs(b *Builder, voters int) {
	// An observer logs only what was committed (INFORM), and a committed txn is on a voter
	// quorum: no observer holds more of the history than the quorum-th longest voter log.
	lens := make([]int, voters)
	for _, sd := range b.spec.Disks {
		if int(sd.ID) <= voters {
			lens[sd.ID-1] = len(sd.Disk.Txns)
		}
	}
	slices.Sort(lens)
	quorumHeld := lens[voters-(voters/2+1)]
	for i := range b.spec.Disks {
		if sd := &b.spec.Disks[i]; int(sd.ID) > voters && len(sd.Disk.Txns) > quorumHeld {
			sd.Disk.Txns = sd.Disk.Txns[:quorumHeld:quorumHeld]
		}
	}
	var top protocol.Epoch
	for _, sd := range b.spec.Disks {
		top = max(top, sd.Disk.CurrentEpoch)
		if t := sd.Disk.Txns; len(t) > 0 {
			top = max(top, t[len(t)-1].Zxid.Epoch())
		}
	}
	if top <= 0 {
		return
	}
	accOf := func(id protocol.ServerID) protocol.Epoch {
		if d := b.diskOf(id); d != nil {
			return d.AcceptedEpoch
		}
		return -1
	}
	ids := make([]protocol.ServerID, voters)
	have := 0
	for i := range ids {
		ids[i] = protocol.ServerID(i + 1)
		if accOf(ids[i]) >= top {
			have++
		}
	}
	slices.SortStableFunc(ids, func(a, c protocol.ServerID) int { return cmp.Compare(accOf(c), accOf(a)) })
	for _, id := range ids {
		if have >= voters/2+1 {
			return
		}
		if accOf(id) >= top {
			continue
		}
		have++
		if d := b.diskOf(id); d != nil {
			d.AcceptedEpoch = top
		} else {
			b.Disk(id, top, 0)
		}
	}
}

// generateFault adds one fault that heals, and returns when it has healed.
func generateFault(d Drawer, b *Builder, n, i int) time.Duration {
	label := func(s string) string { return fmt.Sprintf("fault %d %s", i, s) }
	// Half of the faults are armed from the start, where the handshakes (and most writes) are.
	t0 := time.Duration(d.Draw(label("at ms"), 0, 30000)) * time.Millisecond
	if d.Draw(label("armed from the start"), 0, 1) == 1 {
		t0 = 0
	}
	server := protocol.ServerID(d.Draw(label("server"), 1, n))
	switch d.Draw(label("kind"), 0, 5) {
	case 0: // crash and restart
		back := t0 + time.Duration(d.Draw(label("down ms"), 1, 20000))*time.Millisecond
		b.Crash(server, t0).Restart(server, back)
		return back
	case 1: // partition
		heal := t0 + time.Duration(d.Draw(label("partition ms"), 1, 30000))*time.Millisecond
		var g1, g2 []protocol.ServerID
		for id := 1; id <= n; id++ {
			if d.Draw(label(fmt.Sprintf("side of %d", id)), 0, 1) == 0 {
				g1 = append(g1, protocol.ServerID(id))
			} else {
				g2 = append(g2, protocol.ServerID(id))
			}
		}
		if len(g1) == 0 || len(g2) == 0 {
			return 0
		}
		port := []sim.Port{sim.PortBoth, sim.PortLearner, sim.PortElection}[d.Draw(label("port"), 0, 2)]
		b.spec.Faults = append(b.spec.Faults, sim.Fault{Kind: sim.FaultPartition, At: at(t0), Heal: at(heal),
			Groups: [][]protocol.ServerID{g1, g2}, OneWay: d.Draw(label("one way"), 0, 1) == 1, Port: port})
		return heal
	case 2: // crash point between writes, then restart
		w := protocol.WriteKind(d.Draw(label("write kind"), 1, int(protocol.WriteClearUpdatingEpochMarker)))
		point := []sim.CrashPoint{sim.CrashAfter, sim.CrashBefore, sim.CrashTorn}[d.Draw(label("point"), 0, 2)]
		back := t0 + time.Duration(d.Draw(label("down ms"), 1, 20000))*time.Millisecond
		b.CrashPoint(server, t0, w, d.Draw(label("occurrence"), 1, 2), point).Restart(server, back)
		return back
	case 3: // a failing write
		w := protocol.WriteKind(d.Draw(label("write kind"), 1, int(protocol.WriteClearUpdatingEpochMarker)))
		b.DiskFault(server, t0, w, d.Draw(label("occurrence"), 1, 2))
		return t0
	case 4: // a late start
		if hasStart(b, server) {
			return 0
		}
		b.StartAt(server, t0)
		return t0
	default: // a crash of two servers at once, both restarted
		other := protocol.ServerID(d.Draw(label("second server"), 1, n))
		back := t0 + time.Duration(d.Draw(label("down ms"), 1, 20000))*time.Millisecond
		b.Crash(server, t0).Crash(other, t0).Restart(server, back).Restart(other, back)
		return back
	}
}

// generateProcessFaults adds up to two faults of the kinds added in issue 8: a process pause
// (SIGSTOP, a GC pause), a learner port that refuses connects (nobody listens there), and a
// restart from a replaced disk (a restored backup, an edited acceptedEpoch, or a disk
// ZooKeeper refuses to load). It returns when the last of them ends.
func generateProcessFaults(d Drawer, b *Builder, n int) time.Duration {
	var last time.Duration
	for i := 0; i < d.Draw("process faults", 0, 2); i++ {
		label := func(s string) string { return fmt.Sprintf("process fault %d %s", i, s) }
		t0 := time.Duration(d.Draw(label("at ms"), 0, 30000)) * time.Millisecond
		server := protocol.ServerID(d.Draw(label("server"), 1, n))
		switch d.Draw(label("kind"), 0, 2) {
		case 0: // a pause
			end := t0 + time.Duration(d.Draw(label("paused ms"), 1, 20000))*time.Millisecond
			b.Pause(server, t0, end)
			last = max(last, end)
		case 1: // the learner port refuses connects, from every learner or from one
			end := t0 + time.Duration(d.Draw(label("refusing ms"), 1, 30000))*time.Millisecond
			var peers []protocol.ServerID
			if d.Draw(label("only one learner refused"), 0, 1) == 1 {
				if p := protocol.ServerID(d.Draw(label("refused learner"), 1, n)); p != server {
					peers = []protocol.ServerID{p}
				}
			}
			b.RefuseConnect(server, t0, end, peers...)
			last = max(last, end)
		default: // a crash, then a restart from another disk
			back := t0 + time.Duration(d.Draw(label("down ms"), 1, 20000))*time.Millisecond
			disk := replacedDisk(d, label)
			b.Crash(server, t0).RestartWithDisk(server, back, disk)
			last = max(last, back)
		}
	}
	return last
}

// replacedDisk draws the disk an operator puts in place. The generator draws a run before it
// runs, so it does not know the disk a server will have when it crashes, and every disk it
// could describe (a backup of the data, an edited acceptedEpoch) may hold epoch files older
// than the ones the crash left: the ensemble can then reuse an epoch a quorum already accepted.
// A 100,000-run sweep that drew such disks from the initial ones found 14 runs where two
// leaders led the same epoch, every one after a restart whose acceptedEpoch went back. ZAB
// assumes epoch files are never lost, so those disks are the operator's hazard and live in
// catalogue scenarios (restored-from-old-backup). Generated runs restart only from a disk
// ZooKeeper refuses to load, which is safe whatever came before. The draw stays, so saved
// rapid and fuzz inputs keep their meaning.
func replacedDisk(d Drawer, label func(string) string) protocol.Disk {
	_ = d.Draw(label("replaced disk"), 0, 2)
	// Refused at load: "The accepted epoch, 0 is less than the current epoch, 1".
	return protocol.Disk{AcceptedEpoch: 0, CurrentEpoch: 1, CurrentEpochTmp: -1}
}

func hasStart(b *Builder, id protocol.ServerID) bool {
	for _, f := range b.spec.Faults {
		if f.Kind == sim.FaultStart && f.Server == id {
			return true
		}
	}
	return false
}

func init() {
	register(Scenario{
		Name: "random", Family: "random",
		Description: "a generated run per seed: 3, 5 or 7 voters and up to 2 observers, random timers and plausible disks, up to six faults (crashes, crash points, failing writes, partitions of either port, late starts) that all heal, and in three runs of four a motif (a bare quorum that loses a follower mid-handshake; a follower that fails mid-handshake and rejoins the same activation; followers that rejoin across a leader restart with old-round votes before another voter joins); expects every invariant to hold and a leader with a synced quorum within the liveness bound",
		Reference:   "shared/spec/invariants.md; issue 4",
		Build:       func(seed uint64) *sim.RunSpec { return GenerateRun(NewRandDrawer(seed), "random", seed) },
		Expect: func(r *checker.Report) error {
			if err := violations(r); err != nil {
				return err
			}
			if r.Liveness.Judged && !r.Liveness.OK {
				return fmt.Errorf("liveness: %s", r.Liveness)
			}
			return nil
		},
	})
}

// generateWorkload gives three runs in four a client workload: up to 40 writes, asked of
// random servers at random times up to end, some in bursts of writes 1 ms apart (which land
// during syncs and leader changes as often as the faults make them); a quarter of the runs stay
// without writes so start-up-only bugs stay cheap to find. Some runs snapshot often or keep a
// short committedLog, so that snapshots and DIFFs from the txn log happen.
func generateWorkload(d Drawer, b *Builder, n int, end time.Duration) {
	if d.Draw("client writes", 0, 3) == 0 {
		return
	}
	writes := d.Draw("writes", 1, 40)
	at := time.Duration(0)
	for i := 0; i < writes; i++ {
		if i == 0 || d.Draw("burst", 0, 3) != 0 {
			at = time.Duration(d.Draw("write at ms", 0, int(end/time.Millisecond))) * time.Millisecond
		} else {
			at += time.Millisecond
		}
		id := b.spec.Config.Servers[d.Draw("write server", 0, n-1)].ID
		b.spec.Writes = append(b.spec.Writes, sim.ClientWrite{At: protocol.Time(at), Server: id})
	}
	if d.Draw("small snapCount", 0, 3) == 3 {
		b.spec.Config.SnapCount = d.Draw("snapCount", 2, 10)
	}
	if d.Draw("short committedLog", 0, 3) == 3 {
		b.spec.Config.CommitLogCount = d.Draw("commitLogCount", 1, 5)
	}
}
