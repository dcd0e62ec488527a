package scenarios

import (
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/sim"
)

// The leader's two sources of a DIFF, the in-memory committedLog and the on-disk txn log, and
// the holes each can have.

// staleDiffSync is QuorumSyncTest.testStaleDiffSync on five voters, leader 5 (its followers by
// sid from the top: follower1 = 4, follower2 = 3). One write commits everywhere; 3 goes down;
// ten writes; 4 goes down; ten more; 4 comes back and is DIFFed the second ten; leader 5 goes
// down, and 4, the highest sid with the newest zxid, leads epoch 2; 3 comes back, at the first
// write, inside 4's committedLog.
func staleDiffSync() *Builder {
	b := Cluster(5, 0).Writes(5, time.Second).Crash(3, 1500*time.Millisecond)
	for i := range 10 {
		b.Writes(5, 2*time.Second+time.Duration(i)*time.Millisecond)
	}
	b.Crash(4, 3*time.Second)
	for i := range 10 {
		b.Writes(5, 3500*time.Millisecond+time.Duration(i)*time.Millisecond)
	}
	return b.Restart(4, 4*time.Second).Crash(5, 6*time.Second).Restart(3, 9*time.Second)
}

func init() {
	register(
		Scenario{
			Name: "stale-diff-sync", Family: "writes",
			Description: "QuorumSyncTest.testStaleDiffSync on five voters: 3 misses twenty writes, 4 the last ten, which leader 5 DIFFs to it when it returns; 5 goes down and 4 leads epoch 2. Voter 4 cached the ten it got in its sync in its committedLog, so voter 3, back at the first write, is DIFFed all twenty, and every server ends with all 21",
			Reference:   "QuorumSyncTest.testStaleDiffSync; ZKDatabase.addCommittedProposal, Learner.syncWithLeader (ZOOKEEPER-4925's fix)",
			Build: func(seed uint64) *sim.RunSpec {
				return staleDiffSync().StopWhenStable().Spec("stale-diff-sync", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), established(r, 4, 2, 6*time.Second, 7*time.Second), synced2(r, 4, 3, 2, "DIFF"),
					answeredOK(r, 21), sameHistory(r, 21, 1, 2, 3, 4))
			},
		},
		Scenario{
			Name: "stale-diff-sync-4925", Family: "writes", Knobs: []string{"CommittedLogHole"},
			Description: "stale-diff-sync with 3.9.3's sync: voter 4 applies the ten writes of its DIFF with processTxn(hdr, txn), which leaves them out of its committedLog, so once it leads it DIFFs voter 3 the first ten only (DIFF 0x10000000b), and voter 3 acks UPTODATE and serves without the last ten writes",
			Reference:   "ZOOKEEPER-4925, QuorumSyncTest.testStaleDiffSync",
			Build: func(seed uint64) *sim.RunSpec {
				return staleDiffSync().Knob("CommittedLogHole").StopWhenStable().Spec("stale-diff-sync-4925", seed)
			},
			Expect: func(r *checker.Report) error {
				return violationsInclude(r, checker.UptodateFresh)
			},
		},
	)
}

// txnLogGap: five voters with disks from epoch 1. Voters 1, 2 and 5 hold 0x100000001-6, the
// first four only in a snapshot (their logs were purged below 0x100000005); voter 3 logged
// 0x100000001-3, voter 4 0x100000001-2. Leader 2 establishes epoch 2 with 1 and 5 and takes a
// burst of writes; voter 3 starts into it and, being below the leader's txn log, is sent a
// SNAP, and some writes commit while the snapshot is on the wire: their COMMITs come ahead of
// NEWLEADER, so voter 3 applies them in memory, they start its committedLog, and its NEWLEADER
// snapshot covers them: its txn log is 0x100000001-3 (files the SNAP did not delete), then
// what it logged after UPTODATE. Voter 3 then leads epoch 3, and voter 4 starts with
// 0x100000002: below voter 3's committedLog, and in its txn log.
func txnLogGap() *Builder {
	old := func(n int, snap, logStart protocol.Zxid) protocol.Disk {
		d := protocol.Disk{AcceptedEpoch: 1, CurrentEpoch: 1, CurrentEpochTmp: -1, SnapshotZxid: snap, LogStart: logStart}
		for i := 1; i <= n; i++ {
			d.Txns = append(d.Txns, protocol.Txn{Zxid: z(1, uint32(i))})
		}
		return d
	}
	b := AssignedCluster(5, 0).Leader(2)
	for _, id := range []protocol.ServerID{1, 2, 5} {
		b.RawDisk(id, old(6, z(1, 6), z(1, 5)))
	}
	b.RawDisk(3, old(3, 0, 0)).RawDisk(4, old(2, 0, 0))
	for i := range 200 {
		b.Writes(2, 2150*time.Millisecond+time.Duration(i)*time.Millisecond)
	}
	return b.StartAt(3, 2*time.Second).LeaderChange(5*time.Second, 3).Crash(2, 5*time.Second).StartAt(4, 8*time.Second)
}

func init() {
	register(
		Scenario{
			Name: "txnlog-gap-snap", Family: "writes",
			Description: "a leader whose txn log has a gap: voter 3 was SNAP-synced while writes committed, so its log files hold 0x100000001-3 and then, after the gap, only what it logged after the sync. Leading epoch 3, it does not read the files its SNAP left, so voter 4 (at 0x100000002) is below its txn log and gets a SNAP",
			Reference:   "LearnerHandler.syncFollower, ZKDatabase.getProposalsFromTxnLog; the TxnLogGapCheckAtEndOnly knob (docs/knobs.md)",
			Build: func(seed uint64) *sim.RunSpec {
				return txnLogGap().StopWhenStable().Spec("txnlog-gap-snap", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), synced2(r, 3, 4, 3, "SNAP"))
			},
		},
		Scenario{
			Name: "txnlog-gap-after-restart-snap", Family: "writes",
			Description: "txnlog-gap-snap with voter 3 restarted before it leads: its committedLog is then what its load replayed, which starts where its txn log resumes after the gap, and voter 4 again gets a SNAP, since the files the SNAP left are not read; ZooKeeper's read would DIFF here (probe superseded-log-skipped)",
			Reference:   "FileTxnIterator, LearnerHandler.syncFollower; the TxnLogGapCheckAtEndOnly knob (docs/knobs.md)",
			Build: func(seed uint64) *sim.RunSpec {
				return txnLogGapAfterRestart().StopWhenStable().Spec("txnlog-gap-after-restart-snap", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), probe(r, protocol.ProbeSupersededLogSkipped), synced2(r, 3, 4, 3, "SNAP"))
			},
		},
		Scenario{
			Name: "txnlog-gap-after-restart", Family: "writes", Knobs: []string{"TxnLogGapCheckAtEndOnly"},
			Description: "txnlog-gap-after-restart-snap with ZooKeeper's read: the read of the old file goes on across the gap to minCommittedLog, 2418's check passes, and leader 3 DIFFs voter 4 0x100000003 from its old log file and then, across the gap, what it logged after its sync, and voter 4, which only warns at a proposal of a new epoch, serves without 0x100000004-6 and the writes only voter 3's snapshot holds",
			Reference:   "FileTxnIterator, LearnerHandler.syncFollower, Learner.enforceContinuousProposal (found by zabsim)",
			Build: func(seed uint64) *sim.RunSpec {
				return txnLogGapAfterRestart().Knob("TxnLogGapCheckAtEndOnly").StopWhenStable().Spec("txnlog-gap-after-restart", seed)
			},
			Expect: func(r *checker.Report) error {
				return violationsInclude(r, checker.ContiguousDiff)
			},
		},
		Scenario{
			Name: "txnlog-gap-2418", Family: "writes", Knobs: []string{"NoTxnlogGapCheck"},
			Description: "txnlog-gap-snap without 2418's check and with ZooKeeper's read of the log files a SNAP left: voter 3 DIFFs voter 4 0x100000003 from its txn log and then its committedLog, skipping 0x100000004-6 and the writes committed before its own sync",
			Reference:   "ZOOKEEPER-2418, LearnerHandlerTest.testTxnLogGap",
			Build: func(seed uint64) *sim.RunSpec {
				return txnLogGap().Knob("NoTxnlogGapCheck").StopWhenStable().Spec("txnlog-gap-2418", seed)
			},
			Expect: func(r *checker.Report) error {
				return violationsInclude(r, checker.ContiguousDiff)
			},
		},
	)
}

// txnLogGapAfterRestart is txnLogGap with voter 3 restarted between its sync and its lead.
func txnLogGapAfterRestart() *Builder {
	return txnLogGap().Crash(3, 4*time.Second).Restart(3, 4500*time.Millisecond)
}

// missedWritesBelowWindow: voter 1 misses four writes while its leader keeps a committedLog
// of two, so its zxid is below the committedLog and the leader reads its txn log for it.
func missedWritesBelowWindow() *Builder {
	b := AssignedCluster(3, 0).Writes(3, time.Second).Crash(1, 1500*time.Millisecond).
		Writes(3, 2*time.Second, 2001*time.Millisecond, 2002*time.Millisecond, 2003*time.Millisecond).
		Restart(1, 3*time.Second)
	b.spec.Config.CommitLogCount = 2
	return b
}

func init() {
	register(
		Scenario{
			Name: "diff-from-txnlog", Family: "writes",
			Description: "voter 1 misses four writes while leader 3 keeps a committedLog of two (commitLogCount 2): it is below the committedLog, so leader 3 DIFFs it from its txn log, then its committedLog; the log files to read are well within a third of the 1 GiB snapshot",
			Reference:   "LearnerHandler.syncFollower (\"Use txnlog and committedLog\"), ZKDatabase.getProposalsFromTxnLog",
			Build: func(seed uint64) *sim.RunSpec {
				return missedWritesBelowWindow().StopWhenStable().Spec("diff-from-txnlog", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), probe(r, protocol.ProbeDiffFromTxnLog), synced2(r, 3, 1, 1, "DIFF"), answeredOK(r, 5), sameHistory(r, 5, 1, 2, 3))
			},
		},
		Scenario{
			Name: "txnlog-too-large-snap", Family: "writes",
			Description: "diff-from-txnlog with a database of 64 MiB: a third of its snapshot is less than one preallocated 64 MiB log file, so the txn-log read is refused and voter 1 gets a SNAP",
			Reference:   "ZKDatabase.calculateTxnLogSizeLimit, getProposalsFromTxnLog (\"Txnlog size ... exceeds sizeLimit\"), FileTxnLog preAllocSize",
			Build: func(seed uint64) *sim.RunSpec {
				b := missedWritesBelowWindow()
				b.spec.Config.DatabaseBytes = 64 << 20
				return b.StopWhenStable().Spec("txnlog-too-large-snap", seed)
			},
			Expect: func(r *checker.Report) error {
				return all(violations(r), probe(r, protocol.ProbeSnapFromTxnLogSize), synced2(r, 3, 1, 1, "SNAP"), answeredOK(r, 5), sameHistory(r, 5, 1, 2, 3))
			},
		},
	)
}
