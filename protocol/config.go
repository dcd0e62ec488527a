package protocol

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ServerConfig is one server.N line of zoo.cfg: its sid and whether it votes.
type ServerConfig struct {
	ID   ServerID
	Type LearnerType
}

// Config is what every server of an ensemble shares: membership, ZooKeeper's timers and the
// bug knobs. Durations carry their unit in the type; limits are in ticks of TickTime, as
// ZooKeeper spells them.
type Config struct {
	_ struct{}

	Servers []ServerConfig

	// TickTime is ZooKeeper's tickTime, the unit of every limit.
	TickTime time.Duration
	// InitLimit, in ticks of TickTime, bounds each activation wait and each read before
	// NEWLEADER is acknowledged (spec §8).
	InitLimit int
	// SyncLimit, in ticks of TickTime, bounds reads after NEWLEADER and the leader's tick check.
	SyncLimit int
	// ConnectToLearnerMasterLimit, in ticks; 0 means use InitLimit (Learner.connectToLeader).
	ConnectToLearnerMasterLimit int
	// LeaderConnectDelayDuringRetry is the sleep between connect tries
	// (zookeeper.leaderConnectDelayDuringRetryMs, 100 ms).
	LeaderConnectDelayDuringRetry time.Duration
	// CommitLogCount is how many committed txns the leader keeps in memory for DIFF (500).
	CommitLogCount int
	// SnapCount is zookeeper.snapCount: the sync thread takes a snapshot after this many
	// logged txns (ZooKeeper rolls a random point between snapCount/2 and snapCount; the
	// model takes it at snapCount exactly). 0 means ZooKeeper's default, 100000.
	SnapCount int
	// DatabaseBytes is the size of the database's snapshot file, which bounds how much txn log
	// a leader reads for a DIFF (ZKDatabase.calculateTxnLogSizeLimit). 0 means 1 GiB: a
	// database large enough that txn-log DIFFs happen (a few KB of data, with log files
	// preallocated to 64 MiB, never gets one).
	DatabaseBytes int64
	// SnapshotSizeFactor is zookeeper.snapshotSizeFactor in thousandths: the txn log files a
	// DIFF would read may total at most this share of DatabaseBytes. 0 means ZooKeeper's 0.33
	// (330); negative disables DIFFs from the txn log (isTxnLogSyncEnabled).
	SnapshotSizeFactor int
	// SyncDelay is how long SyncRequestProcessor takes to write and fsync what is queued
	// once a txn is queued for logging, plus a world-chosen jitter up to SyncJitter. 0 means
	// the model's default, 1 ms (and 2 ms of jitter): an fsync on a local disk.
	SyncDelay  time.Duration
	SyncJitter time.Duration
	// ObserverElectionDelay bounds the random pause an observer takes before LOOKING
	// (zookeeper.observer.election.DelayMs, 200 ms).
	ObserverElectionDelay time.Duration
	// LeaderSelfRegisterJitter bounds the thread-scheduling gap between the leader's acceptor
	// starting and the leader's own getEpochToPropose call (spec §5.1 steps 3-4). The world
	// resolves it with the run's PRNG; learners that connect inside the gap register first.
	LeaderSelfRegisterJitter time.Duration
	// LeaderSelfRegisterDelay is the fixed part of that gap (0 in ZooKeeper's common case);
	// scenarios raise it to let learners register before the leader does (ZOOKEEPER-1270).
	LeaderSelfRegisterDelay time.Duration
	// LeaderThreadDelay is how long the leader's own thread takes to run again after one of
	// its waits ends, beyond its place in the order the world draws for the threads woken
	// together (0: it competes at once). Scenarios raise it to let learners' handlers run
	// first (Zab1_0Test.testLeaderInElectingFollowers).
	LeaderThreadDelay time.Duration
	// MaxTimeToWaitForEpoch is zookeeper.leader.maxTimeToWaitForEpoch (ZOOKEEPER-3109): a
	// leader still waiting for the epoch quorum that long after its own getEpochToPropose
	// began quits leading when a voter sends it a LOOKING notification. 0 disables it, as
	// ZooKeeper's default (-1) does.
	MaxTimeToWaitForEpoch time.Duration

	// Election chooses roles when a server is LOOKING. Until Fast Leader Election lands, the
	// only election is Assigned: the run says who leads.
	Election ElectionConfig

	Knobs Knobs
}

// ElectionConfig configures the election component a LOOKING peer asks for a decision: Fast
// Leader Election (the default), or assigned roles for focused scenarios.
type ElectionConfig struct {
	_ struct{}
	// Assigned turns Fast Leader Election off: every election decides for Leader (or the
	// latest of Changes) after Delay.
	Assigned bool
	// Leader is the sid every server decides for in assigned-roles mode.
	Leader ServerID
	// Delay is how long an assigned election takes to decide, standing for FLE's
	// finalize wait (200 ms).
	Delay time.Duration
	// FinalizeWait is FLE's finalizeWait: quiet time after a quorum before deciding (200 ms).
	FinalizeWait time.Duration
	// MinNotificationInterval is FLE's first poll timeout (200 ms); it doubles on every
	// empty poll up to MaxNotificationInterval (60 s).
	MinNotificationInterval time.Duration
	MaxNotificationInterval time.Duration
	// Changes re-assign the leader over time: an election that decides at or after At
	// decides for Leader (the latest change that applies wins). Use them to re-elect after a
	// leader crashes.
	Changes []LeaderChange
}

// LeaderChange re-assigns the leader from virtual time At on.
type LeaderChange struct {
	At     Time
	Leader ServerID
}

// LeaderAt is the leader an assigned election decides for at time now.
func (e *ElectionConfig) LeaderAt(now Time) ServerID {
	leader := e.Leader
	for _, c := range e.Changes {
		if now >= c.At {
			leader = c.Leader
		}
	}
	return leader
}

// Knobs re-introduce historical ZooKeeper bugs (shared/spec/bug-knobs.md). All off by default;
// each exists to prove that the checker catches the bug it is named after.
type Knobs struct {
	_ struct{}
	// EpochQuorumIgnoresLeader (ZOOKEEPER-1270): getEpochToPropose decides on any voter quorum,
	// without requiring the leader's own registration.
	EpochQuorumIgnoresLeader bool
	// EpochAckWaitsWrongFlag (ZOOKEEPER-1192): waitForEpochAck checks waitingForNewEpoch
	// instead of electionFinished, so a waiter "succeeds" at its deadline without a quorum.
	EpochAckWaitsWrongFlag bool
	// CountObservers (ZOOKEEPER-1294/2959/769): observers count in every quorum.
	CountObservers bool
	// CurrentEpochOnUptodate (ZOOKEEPER-1282): the learner writes currentEpoch at UPTODATE
	// instead of before acknowledging NEWLEADER.
	CurrentEpochOnUptodate bool
	// EpochMemoryBeforeFile (ZOOKEEPER-2307): setAcceptedEpoch/setCurrentEpoch update the
	// in-memory value before the file write, so a failed write leaves memory ahead of disk.
	EpochMemoryBeforeFile bool
	// SnapshotBeforeEpochNoMarker (ZOOKEEPER-1653): the learner takes the NEWLEADER snapshot
	// without first leaving the updatingEpoch marker that lets a restart recover.
	SnapshotBeforeEpochNoMarker bool
	// VoteOrderPrecedenceBug (ZOOKEEPER-1419): totalOrderPredicate lets a higher sid with an
	// equal zxid win even when its peerEpoch is lower.
	VoteOrderPrecedenceBug bool
	// StrictOutOfElectionVoteEquality (ZOOKEEPER-1732/1818): votes of servers out of
	// election must agree on zxid and election round too, so a joiner may never see a
	// quorum in an ensemble whose members report different rounds.
	StrictOutOfElectionVoteEquality bool
	// NoQuitOnDisloyalVoter (ZOOKEEPER-3109): the leader ignores MaxTimeToWaitForEpoch and
	// waits out initLimit for an epoch quorum a voter has already abandoned.
	NoQuitOnDisloyalVoter bool

	// The knobs of the broadcast phase and of synchronization with client writes.

	// DiffInsteadOfTrunc (ZOOKEEPER-1154): syncFollower sends a DIFF to a peer whose last
	// zxid is above the leader's committed log, instead of TRUNC, so the peer keeps a txn
	// the quorum never committed.
	DiffInsteadOfTrunc bool
	// NewLeaderSentUnqueued (ZOOKEEPER-1136): NEWLEADER is written straight to the socket,
	// ahead of the DIFF proposals still in the handler's queue.
	NewLeaderSentUnqueued bool
	// AckNewLeaderBeforeTxnsDurable (ZOOKEEPER-3911/4646): on NEWLEADER the learner ACKs
	// with the DIFF txns only in memory and hands them to the logging thread afterwards.
	AckNewLeaderBeforeTxnsDurable bool
	// CurrentEpochBeforeTxnsDurable (ZOOKEEPER-4643/4785): on NEWLEADER the learner writes
	// currentEpoch and ACKs, and logs the DIFF txns only after UPTODATE.
	CurrentEpochBeforeTxnsDurable bool
	// AsyncSyncAck (ZOOKEEPER-4685): on NEWLEADER the learner hands its uncommitted
	// proposals to the logging thread before it ACKs NEWLEADER, so the logging thread may
	// ACK a proposal first.
	AsyncSyncAck bool
	// CommitAfterNewLeaderNPE (ZOOKEEPER-4394): the learner drops its pending proposals at
	// NEWLEADER, so a COMMIT that follows NEWLEADER finds no proposal.
	CommitAfterNewLeaderNPE bool
	// LastProcessedSetOnDiff (ZOOKEEPER-2355): on DIFF the learner sets lastProcessedZxid to
	// the DIFF's zxid before it has the txns, so a learner that leaves mid-sync reports
	// txns it does not have.
	LastProcessedSetOnDiff bool
	// RetainDbWithoutFastForward (ZOOKEEPER-2845): a server whose role ends keeps its
	// in-memory database as it is, without replaying the txns it logged but never applied,
	// and reports a zxid below what its log holds.
	RetainDbWithoutFastForward bool
	// TruncToZxidNotHeld (found by zabsim, reproduced on 3.8.0; master has the same code):
	// ZooKeeper's TRUNC as it is. syncFollower sends TRUNC maxCommittedLog to a peer past the
	// committed log even when that zxid is of another epoch or names no txn (0, e<<32), and
	// FileTxnLog.truncate cuts the learner's log after the first txn at or above the target,
	// so a learner whose log lacks the target (another epoch's history, or a SNAP-synced log
	// that starts above it) keeps, applies and serves a txn its leader never had.
	TruncToZxidNotHeld bool
	// AcksKeptAcrossResync (found by zabsim; ZooKeeper master has the same code): a learner's
	// acks of outstanding proposals outlive its reconnect. Leader.removeLearnerHandler leaves
	// the proposals' ack sets alone and the new handler's syncFollower does not touch them, so
	// when the resync TRUNCs (or SNAPs) the learner below a proposal it acked, the leader still
	// counts that ack and can commit the proposal on fewer durable copies than a quorum.
	AcksKeptAcrossResync bool
	// NoTxnlogGapCheck (ZOOKEEPER-2418): syncFollower does not check that the txn log it read
	// reaches the committedLog, so a DIFF from a txn log that ends below minCommittedLog goes
	// on from the committedLog and skips the txns in between. Like ZooKeeper of every
	// version, it reads the log files a SNAP left (see TxnLogGapCheckAtEndOnly).
	NoTxnlogGapCheck bool
	// CommittedLogHole (ZOOKEEPER-4925, 3.9.3): the txns a learner applies while it syncs
	// (processTxn(hdr, txn)) are not cached in its committedLog, which then has a hole it
	// DIFFs other learners past once it leads.
	CommittedLogHole bool
	// TxnLogGapCheckAtEndOnly (found by zabsim; ZooKeeper master has the same code): the
	// leader reads every txn log file from a learner's zxid on, and checks for a gap only
	// where the read ends. A SNAP deletes no log file, so a server SNAP-synced at Z keeps
	// older files that end below Z and logs on above its snapshot: its txn log has a gap
	// inside. Leading later, it reads for a learner inside the old files, FileTxnIterator
	// goes on across the gap, and 2418's check passes whenever the read gets to
	// minCommittedLog (after a restart it always does): the DIFF skips the gap. The model's
	// leader does not read the files a SNAP left (Disk.LoggedTxns).
	TxnLogGapCheckAtEndOnly bool
}

// KnobNames lists the knobs in a fixed order, for flags and run files.
var KnobNames = []string{
	"EpochQuorumIgnoresLeader",
	"EpochAckWaitsWrongFlag",
	"CountObservers",
	"CurrentEpochOnUptodate",
	"EpochMemoryBeforeFile",
	"SnapshotBeforeEpochNoMarker",
	"VoteOrderPrecedenceBug",
	"StrictOutOfElectionVoteEquality",
	"NoQuitOnDisloyalVoter",
	"AckNewLeaderBeforeTxnsDurable",
	"CurrentEpochBeforeTxnsDurable",
	"TruncToZxidNotHeld",
	"DiffInsteadOfTrunc",
	"NewLeaderSentUnqueued",
	"AsyncSyncAck",
	"CommitAfterNewLeaderNPE",
	"LastProcessedSetOnDiff",
	"RetainDbWithoutFastForward",
	"AcksKeptAcrossResync",
	"NoTxnlogGapCheck",
	"CommittedLogHole",
	"TxnLogGapCheckAtEndOnly",
}

// PendingKnobs are modelled in the protocol but not yet offered: a knob no invariant can be seen
// to catch in a catalogue scenario would be a stub. Set refuses them until they move to
// KnobNames. None is pending today.
var PendingKnobs = []string{}

func (k *Knobs) field(name string) *bool {
	switch name {
	case "EpochQuorumIgnoresLeader":
		return &k.EpochQuorumIgnoresLeader
	case "EpochAckWaitsWrongFlag":
		return &k.EpochAckWaitsWrongFlag
	case "CountObservers":
		return &k.CountObservers
	case "CurrentEpochOnUptodate":
		return &k.CurrentEpochOnUptodate
	case "EpochMemoryBeforeFile":
		return &k.EpochMemoryBeforeFile
	case "SnapshotBeforeEpochNoMarker":
		return &k.SnapshotBeforeEpochNoMarker
	case "VoteOrderPrecedenceBug":
		return &k.VoteOrderPrecedenceBug
	case "StrictOutOfElectionVoteEquality":
		return &k.StrictOutOfElectionVoteEquality
	case "NoQuitOnDisloyalVoter":
		return &k.NoQuitOnDisloyalVoter
	case "DiffInsteadOfTrunc":
		return &k.DiffInsteadOfTrunc
	case "NewLeaderSentUnqueued":
		return &k.NewLeaderSentUnqueued
	case "AckNewLeaderBeforeTxnsDurable":
		return &k.AckNewLeaderBeforeTxnsDurable
	case "CurrentEpochBeforeTxnsDurable":
		return &k.CurrentEpochBeforeTxnsDurable
	case "AsyncSyncAck":
		return &k.AsyncSyncAck
	case "CommitAfterNewLeaderNPE":
		return &k.CommitAfterNewLeaderNPE
	case "LastProcessedSetOnDiff":
		return &k.LastProcessedSetOnDiff
	case "RetainDbWithoutFastForward":
		return &k.RetainDbWithoutFastForward
	case "TruncToZxidNotHeld":
		return &k.TruncToZxidNotHeld
	case "AcksKeptAcrossResync":
		return &k.AcksKeptAcrossResync
	case "NoTxnlogGapCheck":
		return &k.NoTxnlogGapCheck
	case "CommittedLogHole":
		return &k.CommittedLogHole
	case "TxnLogGapCheckAtEndOnly":
		return &k.TxnLogGapCheckAtEndOnly
	}
	return nil
}

// Set turns the named knob on; an unknown name is an error that lists the known ones.
func (k *Knobs) Set(name string) error {
	f := k.field(name)
	if f == nil || !slices.Contains(KnobNames, name) {
		return fmt.Errorf("unknown bug knob %q (known: %s)", name, strings.Join(KnobNames, ", "))
	}
	*f = true
	return nil
}

// Enabled returns the names of the knobs that are on, in KnobNames order.
func (k Knobs) Enabled() []string {
	if k == (Knobs{}) {
		return nil // the faithful model: every run's report asks, and most have none
	}
	var on []string
	for _, n := range KnobNames {
		if *k.field(n) {
			on = append(on, n)
		}
	}
	return on
}

// Limits on a configuration, so that a typo is a clear error rather than an overflow of
// virtual time or a run that exhausts memory.
const (
	// MaxServers bounds the ensemble (the world keeps per-pair state).
	MaxServers = 64
	// MaxServerID: ZooKeeper's admin guide asks for a myid between 1 and 255.
	MaxServerID = 255
	// MaxLimitTicks and MaxLimitTime bound initLimit, syncLimit and
	// connectToLearnerMasterLimit, in ticks and as a duration.
	MaxLimitTicks = 100_000
	MaxLimitTime  = 24 * time.Hour
	// MaxDelay bounds tickTime and every configured delay or interval.
	MaxDelay = time.Hour
	// MaxCommitLogCount bounds the leader's in-memory committed log.
	MaxCommitLogCount = 1_000_000
)

// DefaultConfig returns ZooKeeper's sample configuration (tickTime 2000 ms, initLimit 10,
// syncLimit 5) for the given voters and observers, with Fast Leader Election and its timers.
// For assigned roles set Election.Assigned (the assigned leader defaults to the highest voter).
func DefaultConfig(participants, observers []ServerID) Config {
	c := Config{
		TickTime:                      2 * time.Second,
		InitLimit:                     10,
		SyncLimit:                     5,
		LeaderConnectDelayDuringRetry: 100 * time.Millisecond,
		CommitLogCount:                500,
		ObserverElectionDelay:         200 * time.Millisecond,
		LeaderSelfRegisterJitter:      2 * time.Millisecond,
	}
	for _, id := range participants {
		c.Servers = append(c.Servers, ServerConfig{ID: id, Type: PARTICIPANT})
	}
	for _, id := range observers {
		c.Servers = append(c.Servers, ServerConfig{ID: id, Type: OBSERVER})
	}
	if len(participants) > 0 {
		c.Election.Leader = slices.Max(participants)
	}
	c.Election.Delay = 200 * time.Millisecond
	c.Election.FinalizeWait = 200 * time.Millisecond
	c.Election.MinNotificationInterval = 200 * time.Millisecond
	c.Election.MaxNotificationInterval = 60 * time.Second
	return c
}

// Validate reports every problem with the configuration at once (QuorumPeerConfig.checkValidity).
func (c *Config) Validate() error {
	var errs []error
	if len(c.Servers) == 0 {
		errs = append(errs, errors.New("no servers configured"))
	}
	seen := map[ServerID]bool{}
	voters := 0
	if len(c.Servers) > MaxServers {
		errs = append(errs, fmt.Errorf("%d servers configured; the limit is %d", len(c.Servers), MaxServers))
	}
	for _, s := range c.Servers {
		if s.ID < 1 || s.ID > MaxServerID {
			// ZooKeeper's admin guide: the myid is "a unique number between 1 and 255".
			errs = append(errs, fmt.Errorf("server id %d is outside [1, %d]", s.ID, MaxServerID))
		}
		if seen[s.ID] {
			errs = append(errs, fmt.Errorf("duplicate server id %d", s.ID))
		}
		seen[s.ID] = true
		if s.Type == PARTICIPANT {
			voters++
		}
	}
	if len(c.Servers) > 0 && voters == 0 {
		errs = append(errs, errors.New("no participants (voters) configured"))
	}
	if c.TickTime <= 0 {
		errs = append(errs, fmt.Errorf("tickTime must be positive, got %v", c.TickTime))
	}
	if c.InitLimit <= 0 {
		errs = append(errs, fmt.Errorf("initLimit must be at least 1 tick, got %d", c.InitLimit))
	}
	if c.SyncLimit <= 0 {
		errs = append(errs, fmt.Errorf("syncLimit must be at least 1 tick, got %d", c.SyncLimit))
	}
	for _, l := range [...]struct {
		name  string
		ticks int
	}{{"initLimit", c.InitLimit}, {"syncLimit", c.SyncLimit}, {"connectToLearnerMasterLimit", c.ConnectToLearnerMasterLimit}} {
		if c.TickTime > 0 && l.ticks > 0 && (l.ticks > MaxLimitTicks || time.Duration(l.ticks)*c.TickTime > MaxLimitTime) {
			errs = append(errs, fmt.Errorf("%s %d ticks of %v is above the limit (%d ticks, %v)", l.name, l.ticks, c.TickTime, MaxLimitTicks, MaxLimitTime))
		}
	}
	if c.TickTime > MaxDelay {
		errs = append(errs, fmt.Errorf("tickTime %v is above the limit of %v", c.TickTime, MaxDelay))
	}
	for _, d := range [...]struct {
		name string
		v    time.Duration
	}{{"leaderConnectDelayDuringRetry", c.LeaderConnectDelayDuringRetry}, {"observerElectionDelay", c.ObserverElectionDelay},
		{"leaderSelfRegisterJitter", c.LeaderSelfRegisterJitter}, {"leaderSelfRegisterDelay", c.LeaderSelfRegisterDelay},
		{"leaderThreadDelay", c.LeaderThreadDelay}, {"maxTimeToWaitForEpoch", c.MaxTimeToWaitForEpoch},
		{"election.delay", c.Election.Delay}, {"election.finalizeWait", c.Election.FinalizeWait},
		{"election.minNotificationInterval", c.Election.MinNotificationInterval}, {"election.maxNotificationInterval", c.Election.MaxNotificationInterval}} {
		if d.v > MaxDelay {
			errs = append(errs, fmt.Errorf("%s %v is above the limit of %v", d.name, d.v, MaxDelay))
		}
	}
	if c.CommitLogCount > MaxCommitLogCount {
		errs = append(errs, fmt.Errorf("commitLogCount %d is above the limit of %d", c.CommitLogCount, MaxCommitLogCount))
	}
	if c.ConnectToLearnerMasterLimit < 0 {
		errs = append(errs, fmt.Errorf("connectToLearnerMasterLimit must not be negative, got %d", c.ConnectToLearnerMasterLimit))
	}
	if c.LeaderConnectDelayDuringRetry < 0 || c.ObserverElectionDelay < 0 || c.LeaderSelfRegisterJitter < 0 || c.LeaderSelfRegisterDelay < 0 ||
		c.LeaderThreadDelay < 0 || c.MaxTimeToWaitForEpoch < 0 || c.Election.Delay < 0 {
		errs = append(errs, errors.New("delays must not be negative"))
	}
	if c.CommitLogCount < 1 {
		errs = append(errs, fmt.Errorf("commitLogCount must be at least 1, got %d", c.CommitLogCount))
	}
	if !c.Election.Assigned && (c.Election.FinalizeWait <= 0 || c.Election.MinNotificationInterval <= 0 ||
		c.Election.MaxNotificationInterval < c.Election.MinNotificationInterval) {
		errs = append(errs, fmt.Errorf("fast leader election needs positive finalizeWait and notification intervals (min <= max), got %v, %v, %v",
			c.Election.FinalizeWait, c.Election.MinNotificationInterval, c.Election.MaxNotificationInterval))
	}
	if len(c.Servers) > 0 && voters > 0 && c.Election.Assigned {
		if t, ok := c.typeOf(c.Election.Leader); !ok || t != PARTICIPANT {
			errs = append(errs, fmt.Errorf("assigned leader %d is not a participant", c.Election.Leader))
		}
		for i, ch := range c.Election.Changes {
			if t, ok := c.typeOf(ch.Leader); !ok || t != PARTICIPANT {
				errs = append(errs, fmt.Errorf("leader change %d: %d is not a participant", i, ch.Leader))
			}
			if i > 0 && ch.At < c.Election.Changes[i-1].At {
				errs = append(errs, fmt.Errorf("leader change %d: changes must be in time order", i))
			}
		}
	}
	return errors.Join(errs...)
}

func (c *Config) typeOf(id ServerID) (LearnerType, bool) {
	for _, s := range c.Servers {
		if s.ID == id {
			return s.Type, true
		}
	}
	return PARTICIPANT, false
}

// IsParticipant reports whether sid is a voting member (QuorumVerifier.getVotingMembers).
func (c *Config) IsParticipant(id ServerID) bool {
	t, ok := c.typeOf(id)
	return ok && t == PARTICIPANT
}

// IsMember reports whether sid is in the configuration at all.
func (c *Config) IsMember(id ServerID) bool {
	_, ok := c.typeOf(id)
	return ok
}

// Voters returns the number of participants.
func (c *Config) Voters() int {
	n := 0
	for _, s := range c.Servers {
		if s.Type == PARTICIPANT {
			n++
		}
	}
	return n
}

// InitLimitTime is initLimit*tickTime.
func (c *Config) InitLimitTime() time.Duration { return time.Duration(c.InitLimit) * c.TickTime }

// SyncLimitTime is syncLimit*tickTime.
func (c *Config) SyncLimitTime() time.Duration { return time.Duration(c.SyncLimit) * c.TickTime }

// counts reports whether sid counts towards a quorum: voters only, unless CountObservers.
func (c *Config) counts(id ServerID) bool {
	if c.Knobs.CountObservers {
		return c.IsMember(id)
	}
	return c.IsParticipant(id)
}

// txnLogFileBytes is a txn log file's size on disk: FileTxnLog preallocates 64 MiB
// (zookeeper.preAllocSize) and each file holds the txns between two snapshots of the logging
// thread.
const txnLogFileBytes = 64 << 20

// maxTxnLogRead is how many logged txns, from a learner's zxid to the end of the log, a DIFF
// may read: FileTxnIterator.getStorageSize sums the files it would read, one per snapCount
// txns, and getProposalsFromTxnLog refuses more than snapshotSizeFactor times the snapshot's
// size. -1: no txn-log DIFF at all.
func (c *Config) maxTxnLogRead() int {
	factor := int64(c.SnapshotSizeFactor)
	if factor == 0 {
		factor = 330
	}
	if factor < 0 {
		return -1
	}
	db := c.DatabaseBytes
	if db <= 0 {
		db = 1 << 30
	}
	files := db * factor / 1000 / txnLogFileBytes
	return int(min(files*int64(c.snapCount()), 1<<30))
}

// snapCount is SnapCount with ZooKeeper's default.
func (c *Config) snapCount() int {
	if c.SnapCount > 0 {
		return c.SnapCount
	}
	return 100000
}

// snapshotSendDelay is how long a LearnerHandler takes to write a SNAP's snapshot to the
// socket: a small database serializes in a millisecond or two. No jitter: the ACKs that land
// in the window already vary with the links.
func (c *Config) snapshotSendDelay() (time.Duration, time.Duration) {
	return 2 * time.Millisecond, 0
}

// syncDelay is SyncDelay and SyncJitter with the model's defaults.
func (c *Config) syncDelay() (time.Duration, time.Duration) {
	if c.SyncDelay > 0 {
		return c.SyncDelay, c.SyncJitter
	}
	return time.Millisecond, 2 * time.Millisecond
}

// ContainsQuorum is QuorumMaj.containsQuorum: more than half of the voters. The set may hold
// duplicates and non-voters; each voter counts once. Under CountObservers every member counts.
func (c *Config) ContainsQuorum(set []ServerID) bool {
	n := 0
	for i, id := range set {
		if !c.counts(id) || slices.Contains(set[:i], id) {
			continue
		}
		n++
	}
	return 2*n > c.Voters()
}
