package protocol

// Probe marks a rare branch of the protocol. A sweep counts how often each was reached, and a
// test fails when a sweep of fixed size never reaches one (FoundationDB's "must be hit").
type Probe uint8

// Probes on the protocol's rare branches. The world adds its own (crash between two writes).
const (
	ProbeSyncDIFF               Probe = iota + 1 // syncFollower chose DIFF
	ProbeSyncTRUNC                               // syncFollower chose TRUNC
	ProbeSyncSNAP                                // syncFollower chose SNAP
	ProbeLeaderEpochTimeout                      // the leader's own getEpochToPropose timed out
	ProbeLeaderEpochAckTimeout                   // the leader's own waitForEpochAck timed out
	ProbeLeaderNewLeaderTimeout                  // the leader's own waitForNewLeaderAck timed out
	ProbeFollowerAhead                           // "Follower is ahead of the leader"
	ProbeAckEpochMinusOne                        // a learner answered LEADERINFO with -1
	ProbeEpochRejected                           // "Leaders epoch, X is less than accepted epoch, Y"
	ProbeObserverRegistered                      // a handler read OBSERVERINFO
	ProbeLateJoiner                              // a learner registered after the epoch was decided
	ProbeTickQuorumLost                          // "Not sufficient followers synced"
	ProbeConnectRetry                            // a learner retried connecting
	ProbeWriteFailed                             // a durable write failed (IOException)
	ProbeUpdatingEpochRecovery                   // load recovered currentEpoch from a marker or tmp file
	ProbeCrashBetweenWrites                      // the world crashed a server between two effects of a step
	ProbeFinalizeVoteChange                      // FLE's finalize wait was cut short by a better vote
	ProbeRecvQueueDrop                           // a resumed process's burst overfilled the receive queue
	ProbeQuitLeading                             // maxTimeToWaitForEpoch: the leader quit on a LOOKING voter
	ProbeHandlerBeforeLeader                     // the world ran a LearnerHandler before the leader's own woken thread
	ProbePause                                   // the world paused a process (FaultPause)
	ProbeRefusedByFault                          // a learner's connect was reset by a refuse-connect fault
	ProbeReplacedDisk                            // a server restarted from a replaced disk
	ProbeReplacedDiskRefused                     // ... and ZooKeeper refused to load it
	ProbeWriteDuringSync                         // a PROPOSAL reached a learner while it was still syncing
	ProbeDiffFromTxnLog                          // a DIFF read proposals from the txn log beyond the committedLog
	ProbeTruncMultiTxn                           // a TRUNC dropped a tail of two or more txns
	ProbeSnapFromRefusedTrunc                    // a TRUNC across an epoch boundary was refused: SNAP instead
	ProbeCrashLogToAck                           // the world crashed a server after its txn log write and before the ACK
	ProbeLogQueuedAtRoleEnd                      // a logging step was still queued when its role ended
	ProbeSnapCount                               // the logging thread took a snapshot after snapCount txns
	ProbeClientWriteCommitted                    // a client was told its write succeeded
	ProbeTruncTargetNotLogged                    // a TRUNC named a zxid the learner's log lacks (ZooKeeper keeps the txn above it)
	ProbeResyncDroppedAck                        // a TRUNC or SNAP resync made the leader forget a learner's ack
	ProbeSnapFromTxnLogSize                      // the txn log a DIFF would read was over snapshotSizeFactor of the snapshot: SNAP instead
	ProbeSupersededLogSkipped                    // the leader's sync would differ had it read the log files a SNAP left (ZooKeeper does)
	ProbeCount                                   // number of probes + 1
)

var probeNames = [...]string{
	ProbeSyncDIFF: "sync-DIFF", ProbeSyncTRUNC: "sync-TRUNC", ProbeSyncSNAP: "sync-SNAP",
	ProbeLeaderEpochTimeout: "leader-timeout-epoch", ProbeLeaderEpochAckTimeout: "leader-timeout-epoch-ack",
	ProbeLeaderNewLeaderTimeout: "leader-timeout-newleader-ack", ProbeFollowerAhead: "follower-ahead",
	ProbeAckEpochMinusOne: "ackepoch-minus-one", ProbeEpochRejected: "epoch-rejected-by-learner",
	ProbeObserverRegistered: "observer-registered", ProbeLateJoiner: "late-joiner",
	ProbeTickQuorumLost: "tick-quorum-lost", ProbeConnectRetry: "connect-retry",
	ProbeWriteFailed: "write-failed", ProbeUpdatingEpochRecovery: "epoch-recovered-at-load",
	ProbeCrashBetweenWrites: "crash-between-writes", ProbeFinalizeVoteChange: "finalize-wait-vote-change",
	ProbeRecvQueueDrop: "recv-queue-drop", ProbeQuitLeading: "quit-leading-disloyal-voter",
	ProbeHandlerBeforeLeader: "handler-before-leader", ProbePause: "fault-pause", ProbeRefusedByFault: "fault-refuse-connect",
	ProbeReplacedDisk: "fault-replaced-disk", ProbeReplacedDiskRefused: "fault-replaced-disk-refused",
	ProbeWriteDuringSync: "write-during-sync", ProbeDiffFromTxnLog: "diff-from-txnlog", ProbeTruncMultiTxn: "trunc-multi-txn",
	ProbeSnapFromRefusedTrunc: "snap-from-refused-trunc", ProbeCrashLogToAck: "crash-between-log-and-ack",
	ProbeLogQueuedAtRoleEnd: "log-queued-at-role-end", ProbeSnapCount: "snapshot-snapcount",
	ProbeClientWriteCommitted: "client-write-committed", ProbeTruncTargetNotLogged: "trunc-target-not-logged",
	ProbeResyncDroppedAck: "resync-dropped-ack", ProbeSnapFromTxnLogSize: "snap-from-txnlog-size", ProbeSupersededLogSkipped: "superseded-log-skipped",
}

func (p Probe) String() string {
	if int(p) < len(probeNames) && probeNames[p] != "" {
		return probeNames[p]
	}
	return UnknownName("Probe", int(p))
}
