package scenarios

import (
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/sim"
)

// Crashes between two writes, failing writes, and partitions in the middle of the handshake.

const (
	accW  = protocol.WriteAcceptedEpoch
	curW  = protocol.WriteCurrentEpoch
	snapW = protocol.WriteSnapshot
)

// fresh3 is a 3-voter cluster whose epoch files exist (so no write happens at boot).
func fresh3() *Builder { return AssignedCluster(3, 0).Disk(1, 0, 0).Disk(2, 0, 0).Disk(3, 0, 0) }

// behindSnap: leader 3 and voter 2 hold epoch-1 txns; voter 1 (currentEpoch 0) must take a
// SNAP whose label (epoch 1) is newer than its currentEpoch until it writes currentEpoch 2.
func behindSnap() *Builder {
	d := protocol.Disk{AcceptedEpoch: 1, CurrentEpoch: 1, CurrentEpochTmp: -1, Txns: protocol.TxnsOf(z(1, 1), z(1, 2)), SnapshotZxid: z(1, 2), LogStart: z(1, 2)}
	return AssignedCluster(3, 0).RawDisk(3, d).RawDisk(2, d).Disk(1, 0, 0)
}

func init() {
	register(
		Scenario{
			Name: "crash-between-acceptedEpoch-and-ackepoch", Family: "crash",
			Description: "voter 1 crashes right after writing acceptedEpoch 1, before its ACKEPOCH leaves; the leader establishes epoch 1 with voter 2; voter 1 restarts at 1 s, answers LEADERINFO(1) with -1 (already accepted) and is synced anyway",
			Reference:   "spec §2.4 learner step 2, §6.3 (-1), Zab1_0Test.testAbandonBeforeACKEpoch",
			Build: func(seed uint64) *sim.RunSpec {
				return fresh3().CrashPoint(1, 0, accW, 1, sim.CrashAfter).Restart(1, time.Second).StopWhenStable().Spec("crash-between-acceptedEpoch-and-ackepoch", seed)
			},
			Expect: func(r *checker.Report) error {
				// A late joiner with an empty history gets a SNAP: the leader's lastProcessedZxid is
				// now 1<<32 and its empty txn log cannot start at zxid 0 (spec §5.6 rule 5).
				return all(violations(r), live(r), established(r, 3, 1, 0, 300*time.Millisecond), probe(r, protocol.ProbeAckEpochMinusOne),
					synced(r, 3, 1, 1, "SNAP"), allEpochs(r, 1, 1, 2, 3), role(r, 1, "FOLLOWING", 3))
			},
		},
		Scenario{
			Name: "crash-after-newleader-before-ack", Family: "crash",
			Description: "voter 1 crashes after writing currentEpoch 1 for NEWLEADER, before its ACK leaves; the leader establishes epoch 1 with voter 2; voter 1 restarts at 1 s with both epochs 1 and rejoins",
			Reference:   "spec §2.4 learner step 5, ZOOKEEPER-1282",
			Build: func(seed uint64) *sim.RunSpec {
				return fresh3().CrashPoint(1, 0, curW, 1, sim.CrashAfter).Restart(1, time.Second).StopWhenStable().Spec("crash-after-newleader-before-ack", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), live(r), established(r, 3, 1, 0, 300*time.Millisecond), allEpochs(r, 1, 1, 2, 3),
					role(r, 1, "FOLLOWING", 3))
			},
		},
		Scenario{
			Name: "crash-between-snapshot-and-epoch", Family: "crash",
			Description: "voter 1 takes the NEWLEADER snapshot (labelled with an epoch-1 zxid) and crashes before writing currentEpoch 2: the updatingEpoch marker lets it restart with currentEpoch 1, and it rejoins",
			Reference:   "spec §2.3, §9.1.3 MARK, ZOOKEEPER-1653",
			Build: func(seed uint64) *sim.RunSpec {
				return behindSnap().CrashPoint(1, 0, curW, 1, sim.CrashBefore).Restart(1, time.Second).StopWhenStable().Spec("crash-between-snapshot-and-epoch", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), live(r), probe(r, protocol.ProbeUpdatingEpochRecovery), synced(r, 3, 1, 2, "SNAP"),
					allEpochs(r, 2, 1, 2, 3))
			},
		},
		Scenario{
			Name: "crash-between-snapshot-and-epoch-1653", Family: "crash", Knobs: []string{"SnapshotBeforeEpochNoMarker"},
			Description: "as crash-between-snapshot-and-epoch without the marker (ZOOKEEPER-1653): the disk holds an epoch-1 snapshot and currentEpoch 0, and the restart is refused",
			Reference:   "ZOOKEEPER-1653, shared/spec/bug-knobs.md",
			Build: func(seed uint64) *sim.RunSpec {
				return behindSnap().CrashPoint(1, 0, curW, 1, sim.CrashBefore).Restart(1, time.Second).Knob("SnapshotBeforeEpochNoMarker").
					Until(5*time.Second).Spec("crash-between-snapshot-and-epoch-1653", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r, checker.EpochFileOrder, checker.RestartAlwaysPossible), role(r, 1, "REFUSED", -1))
			},
		},
		Scenario{
			Name: "crash-inside-currentEpoch-write", Family: "crash",
			Description: "voter 1 dies inside the atomic write of currentEpoch 2 after a SNAP: currentEpoch.tmp holds 2, the old file 0, and the load adopts the temp file",
			Reference:   "spec §2.3 step 3 (currentEpoch.tmp)",
			Build: func(seed uint64) *sim.RunSpec {
				return behindSnap().CrashPoint(1, 0, curW, 1, sim.CrashTorn).Restart(1, time.Second).StopWhenStable().Spec("crash-inside-currentEpoch-write", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), live(r), allEpochs(r, 2, 1, 2, 3))
			},
		},
		Scenario{
			Name: "acceptedEpoch-write-fails", Family: "crash",
			Description: "voter 1's acceptedEpoch write fails (IOException): it goes back to LOOKING with acceptedEpoch 0 in memory and on disk, later answers LEADERINFO(1) with a real ACKEPOCH, and ends with both epochs 1",
			Reference:   "spec §2.3, ZOOKEEPER-2307, EpochWriteFailureTest",
			Build: func(seed uint64) *sim.RunSpec {
				return fresh3().DiskFault(1, 0, accW, 1).StopWhenStable().Spec("acceptedEpoch-write-fails", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), live(r), probe(r, protocol.ProbeWriteFailed),
					roleEnd(r, 1, "FOLLOWING", 0, "IOException writing acceptedEpoch", 0, time.Second), allEpochs(r, 1, 1, 2, 3))
			},
		},
		Scenario{
			Name: "truncate-write-fails", Family: "crash",
			Description: "voter 1 holds 0x100000002, which leader 3 lacks: its TRUNC 0x100000001 fails (IOException). FileTxnSnapLog.truncateLog returns false and the learner exits (\"Not able to truncate the log\"), as when no log holds the target; restarted 1 s later from its untouched disk, it reports 0x100000002 again and the second TRUNC succeeds",
			Reference:   "FileTxnSnapLog.truncateLog, Learner.syncWithLeader (TRUNC)",
			Build: func(seed uint64) *sim.RunSpec {
				return AssignedCluster(3, 0).Disk(1, 1, 1, z(1, 1), z(1, 2)).Disk(2, 1, 1, z(1, 1)).Disk(3, 1, 1, z(1, 1)).
					DiskFault(1, 0, protocol.WriteTruncate, 1).Restart(1, 1500*time.Millisecond).StopWhenStable().Spec("truncate-write-fails", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), live(r), probe(r, protocol.ProbeWriteFailed), synced(r, 3, 1, 2, "TRUNC"),
					roleEnd(r, 1, "FOLLOWING", 0, "exit: Not able to truncate the log 0x100000001", 0, time.Second),
					syncedTwice(r, 3, 1, 2, "TRUNC"), lastZxid(r, 1, z(1, 1)))
			},
		},
		Scenario{
			Name: "newleader-txnlog-fails", Family: "crash",
			Description: "voter 1 lacks 0x100000002 and is DIFFed it; at NEWLEADER its append of the committed txn fails. The model takes the txn back out of memory, so voter 1 reports 0x100000001 again and the next DIFF resends it (ZooKeeper applies it before the fsync and keeps it: see README, Modelling choices)",
			Reference:   "Learner.syncWithLeader (NEWLEADER), ZOOKEEPER-3911, 4646",
			Build: func(seed uint64) *sim.RunSpec {
				return AssignedCluster(3, 0).Disk(1, 1, 1, z(1, 1)).Disk(2, 1, 1, z(1, 1), z(1, 2)).Disk(3, 1, 1, z(1, 1), z(1, 2)).
					DiskFault(1, 0, protocol.WriteTxns, 1).StopWhenStable().Spec("newleader-txnlog-fails", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), live(r), probe(r, protocol.ProbeWriteFailed), synced(r, 3, 1, 2, "DIFF"),
					roleEnd(r, 1, "FOLLOWING", 0, "IOException writing txnlog", 0, time.Second), syncedTwice(r, 3, 1, 2, "DIFF"),
					holds(r, 1, z(1, 2)))
			},
		},
		Scenario{
			Name: "acceptedEpoch-write-fails-2307", Family: "crash", Knobs: []string{"EpochMemoryBeforeFile"},
			Description: "as acceptedEpoch-write-fails with ZOOKEEPER-2307 restored: memory keeps acceptedEpoch 1 that the file never got, the learner answers -1, writes currentEpoch 1 over acceptedEpoch 0, and cannot restart",
			Reference:   "ZOOKEEPER-2307, shared/spec/bug-knobs.md",
			Build: func(seed uint64) *sim.RunSpec {
				return fresh3().DiskFault(1, 0, accW, 1).Crash(1, 3*time.Second).Restart(1, 4*time.Second).Until(10*time.Second).
					Knob("EpochMemoryBeforeFile").Spec("acceptedEpoch-write-fails-2307", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r, checker.EpochFileOrder, checker.FollowerEpochGate, checker.RestartAlwaysPossible), role(r, 1, "REFUSED", -1))
			},
		},
		Scenario{
			Name: "newleader-ack-before-epoch-1282", Family: "crash", Knobs: []string{"CurrentEpochOnUptodate"},
			Description: "ZOOKEEPER-1282 restored: learners ACK NEWLEADER before writing currentEpoch (they write it at UPTODATE)",
			Reference:   "ZOOKEEPER-1282, shared/spec/bug-knobs.md",
			Build: func(seed uint64) *sim.RunSpec {
				return fresh3().CrashPoint(1, 0, curW, 1, sim.CrashBefore).Restart(1, time.Second).Knob("CurrentEpochOnUptodate").StopWhenStable().Spec("newleader-ack-before-epoch-1282", seed)
			},
			Expect: func(r *checker.Report) error {
				// After the restart voter 1 rejoins as a late joiner with a SNAP labelled 1<<32;
				// with currentEpoch deferred to UPTODATE the snapshot outruns the epoch file.
				return all(violationsInclude(r, checker.AckImpliesDurable, checker.EpochFileOrder))
			},
		},
		Scenario{
			Name: "abandon-before-ackepoch", Family: "crash",
			Description: "voter 2 never starts and voter 1 crashes before writing acceptedEpoch, so no ACKEPOCH ever comes: the leader's waitForEpochAck times out at its own deadline and it goes back to LOOKING",
			Reference:   "spec §5.5 step 4, Zab1_0Test.testAbandonBeforeACKEpoch",
			Build: func(seed uint64) *sim.RunSpec {
				return fresh3().ExactTiming().StartAt(2, time.Hour).CrashPoint(1, 0, accW, 1, sim.CrashBefore).Until(30*time.Second).Spec("abandon-before-ackepoch", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), establishedCount(r, 0), probe(r, protocol.ProbeLeaderEpochAckTimeout),
					roleEnd(r, 3, "LEADING", 0, "Timeout while waiting for epoch to be acked by quorum", 20*time.Second, 20300*time.Millisecond),
					epochs(r, 3, 1, 0))
			},
		},
		Scenario{
			Name: "abandon-before-ackepoch-1192", Family: "crash", Knobs: []string{"EpochAckWaitsWrongFlag"},
			Description: "as abandon-before-ackepoch with ZOOKEEPER-1192 restored: at its deadline the leader's waitForEpochAck returns as if acked and the leader writes currentEpoch 1 without an epoch-ack quorum",
			Reference:   "ZOOKEEPER-1192, shared/spec/bug-knobs.md",
			Build: func(seed uint64) *sim.RunSpec {
				return fresh3().ExactTiming().StartAt(2, time.Hour).CrashPoint(1, 0, accW, 1, sim.CrashBefore).Until(80*time.Second).
					Knob("EpochAckWaitsWrongFlag").Spec("abandon-before-ackepoch-1192", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r, checker.ActivationNeedsVoterQuorum), epochs(r, 3, 1, 1))
			},
		},
		Scenario{
			Name: "partition-during-sync", Family: "partition",
			Description: "voter 1 is cut off from 0.2045 s, after its ACKEPOCH left and before the leader's DIFF and NEWLEADER reach it, until 10 s: the leader establishes epoch 1 with voter 2; at the heal the held packets arrive and voter 1 finishes its sync within its initLimit read timeout",
			Reference:   "spec §5.7, §6.4 read timeouts",
			Build: func(seed uint64) *sim.RunSpec {
				return fresh3().ExactTiming().Partition(204500*time.Microsecond, 10*time.Second, []protocol.ServerID{1}, []protocol.ServerID{2, 3}).
					StopWhenStable().Spec("partition-during-sync", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), live(r), noRoleEnds(r), established(r, 3, 1, 0, 300*time.Millisecond), allEpochs(r, 1, 1, 2, 3))
			},
		},
		Scenario{
			Name: "partition-during-sync-outlasts-initLimit", Family: "partition",
			Description: "as partition-during-sync, but the partition lasts until 30 s: voter 1's read times out at initLimit*tickTime, the leader's handler for it times out too, and voter 1 rejoins after the heal",
			Reference:   "spec §5.7, §6.4 read timeouts, §7",
			Build: func(seed uint64) *sim.RunSpec {
				return fresh3().ExactTiming().Partition(204500*time.Microsecond, 30*time.Second, []protocol.ServerID{1}, []protocol.ServerID{2, 3}).
					StopWhenStable().Spec("partition-during-sync-outlasts-initLimit", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), live(r), established(r, 3, 1, 0, 300*time.Millisecond),
					roleEnd(r, 1, "FOLLOWING", 0, "Read timed out", 20204*time.Millisecond, 20204*time.Millisecond),
					roleEnd(r, 3, "LearnerHandler", 1, "Read timed out", 20205*time.Millisecond, 20205*time.Millisecond),
					allEpochs(r, 1, 1, 2, 3), role(r, 1, "FOLLOWING", 3))
			},
		},
	)
}

func init() {
	register(Scenario{
		Name: "leader-crash-reassigned", Family: "crash",
		Description: "leader 3 establishes epoch 1 and crashes at 2 s; the followers see its sockets reset, go LOOKING, and the assigned election now names 2, which leads epoch 2; server 3 restarts at 4 s and rejoins as a follower",
		Reference:   "spec §2.2 (every failure leads to LOOKING), §5.3",
		Build: func(seed uint64) *sim.RunSpec {
			return AssignedCluster(3, 0).LeaderChange(2*time.Second, 2).Crash(3, 2*time.Second).Restart(3, 4*time.Second).
				StopWhenStable().Spec("leader-crash-reassigned", seed)
		},
		Expect: func(r *checker.Report) error {
			return all(violations(r), live(r), established(r, 3, 1, 0, 300*time.Millisecond),
				// Server 1 may have joined epoch 1 late, by a SNAP labelled 1<<32: it is then ahead
				// of the assigned leader 2 (the FLE of the next issue would elect it), its
				// ACKEPOCH is refused, and epoch 2 waits for server 3 to restart at 4 s.
				established(r, 2, 2, 2*time.Second, 4500*time.Millisecond), allEpochs(r, 2, 1, 2, 3),
				role(r, 3, "FOLLOWING", 2), role(r, 1, "FOLLOWING", 2))
		},
	})
}
