package realzk

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Step is one protocol step a server's log shows, or one action this package took on the
// server's process (launch, kill, pause, resume, exit).
type Step struct {
	// At is the line's timestamp (log4j, milliseconds) from the run's time 0.
	At time.Duration
	// Kind names the step; see the Kind constants.
	Kind string
	// Side is "leader" for a step on the leader's side of a learner connection (a
	// LearnerHandler or Leader line), "learner" for the learner's side (Learner, Follower,
	// Observer and the packets a learner reads), "" for election and process steps.
	Side string
	// Peer is the other server of the step: on the leader's side the learner's sid, on the
	// learner's side the leader it decided for (from its last "decided" step in this log), for
	// "decided" the leader voted for; 0 when the log does not say.
	Peer int
	// Epoch is the epoch the line names: LEADERINFO's and NEWLEADER's (zxid>>32), the quorum's
	// zxid>>32 for have-quorum, the leader's epoch for leaders-epoch-less.
	Epoch int64
	// Zxid is the zxid the line names (New election's proposed zxid, a sync's zxid, ...).
	Zxid int64
	// Value is a number the line carries: the next wait for notification-timeout, the try for
	// connect-refused, the accepted epoch for leaders-epoch-less, the milliseconds of
	// election-took, the exit status for exit.
	Value int64
	// Sids are the servers a have-quorum or not-sufficient-followers line lists.
	Sids []int
	// Detail is free text: the state for decided and state, the reason of a shutdown, the
	// first line of an exception's stack trace, the learner type of followerinfo.
	Detail string
	// Thread is the logging thread.
	Thread string
	// Life counts the server's starts: 1 for its first process, 2 after its first restart.
	Life int
	// Line is the raw log line (for a stack-trace step, the stack line), or this package's
	// description of an action it took.
	Line string
}

// Step kinds. Election: KindLooking .. KindNotificationTimeout; activation on the leader's and
// the learner's side (see Step.Side); role ends; and this package's actions on the process.
const (
	KindLooking             = "looking"              // QuorumPeer "LOOKING"
	KindNewElection         = "new-election"         // "New election. My id = N, proposed zxid=0x.."
	KindDecided             = "decided"              // "About to leave FLE instance: leader=N, ..., my state=S" (Detail S)
	KindLeading             = "leading"              // QuorumPeer "LEADING"
	KindFollowing           = "following"            // QuorumPeer "FOLLOWING"
	KindObserving           = "observing"            // QuorumPeer "OBSERVING"
	KindElectionTook        = "election-took"        // "LEADING - LEADER ELECTION TOOK - X MS" (Value X)
	KindNotificationTimeout = "notification-timeout" // "Notification time out: T ms" (Value T, the next wait)
	KindState               = "state"                // "Peer state changed: ..." (Detail)
	KindQueueFull           = "queue-full"           // CircularBlockingQueue: "Queue is full. Discarding oldest element" (an election queue overflowed)

	KindConnectRefused = "connect-refused" // a learner's connect try failed: "Unexpected exception, tries=K, ..." (Value K, from 0; Detail: the address and the exception)
	KindConnectOK      = "connect-ok"      // "Successfully connected to leader, using address: ..."
	KindFollowerInfo   = "followerinfo"    // leader: "Follower sid: N : info : ..." (FOLLOWERINFO or OBSERVERINFO; Detail the type)
	KindLeaderInfo     = "leaderinfo"      // learner: "i UNKNOWN17 <e<<32> null" (3.8.0 has no name for LEADERINFO)
	KindSync           = "sync"            // leader: "Synchronizing with Learner sid: N ... peerLastZxid=0x.." (Zxid peerLastZxid)
	KindSyncDiff       = "sync-diff"       // leader: "Sending DIFF zxid=0x.. for peer sid: N"; learner: "i DIFF <zxid> null"
	KindSyncTrunc      = "sync-trunc"      // leader: "Sending TRUNC to follower zxidToSend=0x.."; learner: "i TRUNC <zxid> null"
	KindSyncSnap       = "sync-snap"       // leader: "Sending snapshot last zxid of peer is ..." (Zxid the db's); learner: "i SNAP <zxid> null"
	// KindSyncTruncOrDiff is the leader's "Sending TRUNC zxid=0x..  for peer sid: N" of
	// LearnerHandler.queueCommittedProposals: a TRUNC, or (3.8.0's wrong text in the empty-DIFF
	// catch) a DIFF. The learner's packet (its sync-diff or sync-trunc step) tells which;
	// Result.Syncs resolves it.
	KindSyncTruncOrDiff = "sync-trunc-or-diff"
	KindNewLeader       = "newleader"     // leader: "Sending NEWLEADER message to N"; learner: "i NEWLEADER <e<<32> null"
	KindNewLeaderAck    = "newleader-ack" // leader: "Received NEWLEADER-ACK message from N"
	KindHaveQuorum      = "have-quorum"   // leader: "Have quorum of supporters, sids: [[..]]; ... zxid: 0x.."
	KindUptodate        = "uptodate"      // leader: "Sending UPTODATE message to N"; learner: "i UPTODATE ..."

	KindLeaderShutdown = "leader-shutdown" // "Shutdown called. For the reason X" (Detail X)
	// KindEpochTimeout is "Timeout while waiting for epoch from quorum" on the leader's thread.
	// 3.8.0 throws the same exception when the leader quits its epoch wait on a voter's
	// LOOKING (maxTimeToWaitForEpoch, ZOOKEEPER-3109): a voter-changed-mind step then comes
	// just before it, within the same leadership.
	KindEpochTimeout            = "epoch-timeout"
	KindEpochAckTimeout         = "epoch-ack-timeout"        // "Timeout while waiting for epoch to be acked by quorum"
	KindNewLeaderAckTimeout     = "newleader-ack-timeout"    // "Waiting for a quorum of followers, only synced with sids" / "Timeout while waiting for NEWLEADER to be acked by quorum"
	KindNotSufficientFollowers  = "not-sufficient-followers" // "Not sufficient followers synced, only synced with sids: [ .. ]"
	KindVoterChangedMind        = "voter-changed-mind"       // "Quit leading due to voter changed mind." (maxTimeToWaitForEpoch)
	KindLeadersEpochLess        = "leaders-epoch-less"       // "Leaders epoch, E is less than accepted epoch, A" (Epoch E, Value A)
	KindLearnerException        = "learner-exception"        // "Exception when following/observing the leader" (Detail: the exception)
	KindGoodbye                 = "goodbye"                  // leader: "******* GOODBYE /127.0.0.1:P ********"
	KindLoadFailed              = "load-failed"              // the data dir was refused at start-up (Detail: the reason)
	KindUnexpectedLeaderFailure = "leader-exception"         // the leader's "Unexpected exception" in QuorumPeer.run (Detail: the exception)

	KindLaunch = "launch" // this package started the server's process
	KindKill   = "kill"   // this package SIGKILLed it for a crash fault (the kills that end a run are no steps)
	KindPause  = "pause"  // SIGSTOP
	KindResume = "resume" // SIGCONT
	KindCut    = "cut"    // a partition began: this server's packets to Peer are dropped (Detail: what)
	KindHealed = "healed" // that partition ended
	KindExit   = "exit"   // the process ended on its own (Value: its exit status)
)

// LogLine is one line of log4j's "%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n".
type LogLine struct {
	Time   time.Time // UTC (the JVMs run with -Duser.timezone=UTC)
	Level  string
	Thread string
	Class  string
	LineNo int
	Msg    string
}

var lineRE = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) - (\w+)\s*\[(.*?):([\w$]+)@(\d+)\] - (.*)$`)

// TimeLayout is log4j's ISO8601 date format.
const TimeLayout = "2006-01-02 15:04:05,000"

// ParseLogLine splits one timestamped log line; ok is false for any other line (a stack-trace
// line, a continuation of a multi-line message).
func ParseLogLine(s string) (l LogLine, ok bool) {
	m := lineRE.FindStringSubmatch(strings.TrimRight(s, "\r"))
	if m == nil {
		return l, false
	}
	t, err := time.ParseInLocation(TimeLayout, m[1], time.UTC)
	if err != nil {
		return l, false
	}
	n, _ := strconv.Atoi(m[5])
	return LogLine{Time: t, Level: m[2], Thread: m[3], Class: m[4], LineNo: n, Msg: m[6]}, true
}

// Parser turns one log file, line by line, into steps. It keeps what later lines need: which
// LearnerHandler thread serves which sid, the leader the server last decided for, and a step
// that waits for the first line of its exception's stack trace (returned with the next line,
// or by Flush).
type Parser struct {
	zero   time.Time
	life   int
	sidOf  map[string]int // LearnerHandler thread -> learner sid
	leader int
	// last is the last timestamped line; stack lines belong to it.
	last       LogLine
	haveLast   bool
	pending    *Step
	stackLines int
}

// NewParser returns a parser whose steps are timed from zero and carry life.
func NewParser(zero time.Time, life int) *Parser {
	return &Parser{zero: zero, life: life, sidOf: map[string]int{}}
}

// Flush returns the step still waiting for a stack line, if any.
func (p *Parser) Flush() []Step {
	if p.pending == nil {
		return nil
	}
	st := *p.pending
	p.pending = nil
	return []Step{st}
}

// Patterns of the messages, in the order Line tries them.
var (
	reNewElection  = regexp.MustCompile(`^New election\. My id = (\d+), proposed zxid=0x([0-9a-f]+)`)
	reDecided      = regexp.MustCompile(`^About to leave FLE instance: leader=(\d+), zxid=0x([0-9a-f]+), my id=(\d+), my state=(\w+)`)
	reNotifTimeout = regexp.MustCompile(`^Notification time out: (\d+)`)
	reTook         = regexp.MustCompile(`^(LEADING|FOLLOWING|OBSERVING) - LEADER ELECTION TOOK - (-?\d+)`)
	reFollowerInfo = regexp.MustCompile(`^Follower sid: (\d+) : info : \S*?:(participant|observer)\b`)
	rePacket       = regexp.MustCompile(`^i (\w+) ([0-9a-f]+) `)
	reSyncWith     = regexp.MustCompile(`^Synchronizing with Learner sid: (\d+) .*peerLastZxid=0x([0-9a-f]+)`)
	reSendDiff     = regexp.MustCompile(`^Sending DIFF zxid=0x([0-9a-f]+) +for peer sid: (\d+)`)
	reSendTrunc    = regexp.MustCompile(`^Sending TRUNC to follower zxidToSend=0x([0-9a-f]+) for peer sid: ?(\d+)`)
	reSendTruncQ   = regexp.MustCompile(`^Sending TRUNC zxid=0x([0-9a-f]+) +for peer sid: (\d+)`)
	reSendSnap     = regexp.MustCompile(`^Sending snapshot last zxid of peer is 0x([0-9a-f]+), zxid of leader is 0x([0-9a-f]+), send zxid of db as 0x([0-9a-f]+)`)
	reSendNL       = regexp.MustCompile(`^Sending NEWLEADER message to (\d+)`)
	reNLAck        = regexp.MustCompile(`^Received NEWLEADER-ACK message from (\d+)`)
	reSendUTD      = regexp.MustCompile(`^Sending UPTODATE message to (\d+)`)
	reHaveQuorum   = regexp.MustCompile(`^Have quorum of supporters, sids: \[(.*)\]; starting up and setting last processed zxid: 0x([0-9a-f]+)`)
	reShutdown     = regexp.MustCompile(`^Shutdown called\. For the reason (.*)$`)
	reEpochLess    = regexp.MustCompile(`Leaders epoch, (\d+) is less than accepted epoch, (\d+)`)
	reEpochLess2   = regexp.MustCompile(`[Pp]roposed leader epoch (\d+) is less than our accepted epoch (\d+)`)
	reTries        = regexp.MustCompile(`^Unexpected exception, (?:retries exceeded\. |connectToLeader exceeded\. )?tries=(\d+), remaining init limit=(-?\d+), connecting to (.*)$`)
	reConnected    = regexp.MustCompile(`^Successfully connected to leader, using address: (.*)$`)
	reGoodbye      = regexp.MustCompile(`^\*+ GOODBYE (\S+) \*+`)
	reSids         = regexp.MustCompile(`\d+`)
)

// Line feeds one line of the log and returns the steps it completes (most lines make none).
func (p *Parser) Line(s string) []Step {
	s = strings.TrimRight(s, "\r\n")
	l, ok := ParseLogLine(s)
	if !ok {
		return p.stackLine(s)
	}
	out := p.Flush()
	p.last, p.haveLast, p.stackLines = l, true, 0
	steps := p.message(l)
	for i := range steps {
		st := &steps[i]
		st.At, st.Thread, st.Life, st.Line = l.Time.Sub(p.zero), l.Thread, p.life, s
	}
	if n := len(steps); n > 0 {
		switch steps[n-1].Kind {
		case KindLearnerException, KindUnexpectedLeaderFailure, KindLoadFailed, KindConnectRefused:
			// The first line of the exception's stack trace says what it was.
			st := steps[n-1]
			p.pending = &st
			steps = steps[:n-1]
		}
	}
	return append(out, steps...)
}

// stackLine handles a line without a timestamp: part of the previous line's stack trace or
// message. It may fill the previous step's Detail (through the caller's slice, see Parse) and
// makes steps of its own for the exception messages that name a protocol end.
func (p *Parser) stackLine(s string) []Step {
	if !p.haveLast {
		return nil
	}
	p.stackLines++
	t := strings.TrimSpace(s)
	if p.pending != nil && p.stackLines == 1 {
		if p.pending.Detail == "" {
			p.pending.Detail = t
		} else {
			p.pending.Detail += ": " + t
		}
	}
	l := p.last
	mk := func(kind string) Step {
		return Step{At: l.Time.Sub(p.zero), Kind: kind, Thread: l.Thread, Life: p.life, Line: s}
	}
	// Only the first line of a trace (the exception and its message) and "Caused by:" lines.
	if strings.HasPrefix(t, "at ") || strings.HasPrefix(t, "...") {
		return nil
	}
	mainThread := strings.HasPrefix(l.Thread, "QuorumPeer[")
	var out []Step
	switch {
	case mainThread && strings.Contains(t, "Timeout while waiting for epoch from quorum"):
		st := mk(KindEpochTimeout)
		st.Side, st.Detail = "leader", t
		out = append(out, st)
	case mainThread && strings.Contains(t, "Timeout while waiting for epoch to be acked by quorum"):
		st := mk(KindEpochAckTimeout)
		st.Side, st.Detail = "leader", t
		out = append(out, st)
	case mainThread && strings.Contains(t, "Timeout while waiting for NEWLEADER to be acked by quorum"):
		st := mk(KindNewLeaderAckTimeout)
		st.Side, st.Detail = "leader", t
		out = append(out, st)
	}
	if m := reEpochLess.FindStringSubmatch(t); m != nil && mainThread {
		out = append(out, p.epochLess(mk, m, t))
	} else if m := reEpochLess2.FindStringSubmatch(t); m != nil && mainThread {
		out = append(out, p.epochLess(mk, m, t))
	}
	if len(out) > 0 {
		return append(p.Flush(), out...)
	}
	return nil
}

func (p *Parser) epochLess(mk func(string) Step, m []string, t string) Step {
	st := mk(KindLeadersEpochLess)
	st.Side, st.Peer, st.Detail = "learner", p.leader, t
	st.Epoch, _ = strconv.ParseInt(m[1], 10, 64)
	st.Value, _ = strconv.ParseInt(m[2], 10, 64)
	return st
}

func hex(s string) int64 {
	u, _ := strconv.ParseUint(s, 16, 64)
	return int64(u)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// message makes the steps of one timestamped line (without times, thread and raw line).
func (p *Parser) message(l LogLine) []Step {
	msg := l.Msg
	one := func(st Step) []Step { return []Step{st} }
	// The learner side's peer: its leader.
	learner := func(kind string) Step { return Step{Kind: kind, Side: "learner", Peer: p.leader} }
	switch msg {
	case "LOOKING":
		return one(Step{Kind: KindLooking})
	case "LEADING":
		return one(Step{Kind: KindLeading, Peer: p.leader})
	case "FOLLOWING":
		return one(Step{Kind: KindFollowing, Peer: p.leader})
	case "OBSERVING":
		return one(Step{Kind: KindObserving, Peer: p.leader})
	case "Exception when following the leader", "Exception when observing the leader":
		return one(learner(KindLearnerException))
	case "Quit leading due to voter changed mind.":
		return one(Step{Kind: KindVoterChangedMind, Side: "leader"})
	case "Unexpected exception":
		if l.Class == "QuorumPeer" {
			return one(Step{Kind: KindUnexpectedLeaderFailure, Side: "leader"})
		}
	case "Queue is full. Discarding oldest element":
		return one(Step{Kind: KindQueueFull})
	case "Unable to load database on disk":
		return one(Step{Kind: KindLoadFailed})
	}
	if m := reNewElection.FindStringSubmatch(msg); m != nil {
		return one(Step{Kind: KindNewElection, Zxid: hex(m[2])})
	}
	if m := reDecided.FindStringSubmatch(msg); m != nil {
		p.leader = atoi(m[1])
		return one(Step{Kind: KindDecided, Peer: p.leader, Zxid: hex(m[2]), Detail: m[4]})
	}
	if m := reNotifTimeout.FindStringSubmatch(msg); m != nil {
		v, _ := strconv.ParseInt(m[1], 10, 64)
		return one(Step{Kind: KindNotificationTimeout, Value: v})
	}
	if strings.HasPrefix(msg, "Peer state changed: ") {
		return one(Step{Kind: KindState, Detail: strings.TrimPrefix(msg, "Peer state changed: ")})
	}
	if m := reTook.FindStringSubmatch(msg); m != nil {
		v, _ := strconv.ParseInt(m[2], 10, 64)
		return one(Step{Kind: KindElectionTook, Value: v, Detail: m[1], Peer: p.leader})
	}
	if m := rePacket.FindStringSubmatch(msg); m != nil && l.Class == "ZooTrace" {
		z := hex(m[2])
		switch m[1] {
		case "UNKNOWN17", "LEADERINFO":
			st := learner(KindLeaderInfo)
			st.Zxid, st.Epoch = z, z>>32
			return one(st)
		case "DIFF", "TRUNC", "SNAP":
			st := learner(map[string]string{"DIFF": KindSyncDiff, "TRUNC": KindSyncTrunc, "SNAP": KindSyncSnap}[m[1]])
			st.Zxid = z
			return one(st)
		case "NEWLEADER":
			st := learner(KindNewLeader)
			st.Zxid, st.Epoch = z, z>>32
			return one(st)
		case "UPTODATE":
			return one(learner(KindUptodate))
		}
		return nil
	}
	if m := reTries.FindStringSubmatch(msg); m != nil {
		st := learner(KindConnectRefused)
		st.Value = int64(atoi(m[1]))
		st.Detail = "connecting to " + m[3]
		return one(st)
	}
	if m := reConnected.FindStringSubmatch(msg); m != nil {
		st := learner(KindConnectOK)
		st.Detail = m[1]
		return one(st)
	}
	// The leader's side.
	leader := func(kind string, sid int) Step { return Step{Kind: kind, Side: "leader", Peer: sid} }
	if m := reFollowerInfo.FindStringSubmatch(msg); m != nil {
		sid := atoi(m[1])
		p.sidOf[l.Thread] = sid
		st := leader(KindFollowerInfo, sid)
		st.Detail = m[2]
		return one(st)
	}
	if m := reSyncWith.FindStringSubmatch(msg); m != nil {
		st := leader(KindSync, atoi(m[1]))
		st.Zxid = hex(m[2])
		return one(st)
	}
	if m := reSendDiff.FindStringSubmatch(msg); m != nil {
		st := leader(KindSyncDiff, atoi(m[2]))
		st.Zxid = hex(m[1])
		return one(st)
	}
	if m := reSendTrunc.FindStringSubmatch(msg); m != nil {
		st := leader(KindSyncTrunc, atoi(m[2]))
		st.Zxid = hex(m[1])
		return one(st)
	}
	if m := reSendTruncQ.FindStringSubmatch(msg); m != nil {
		st := leader(KindSyncTruncOrDiff, atoi(m[2]))
		st.Zxid = hex(m[1])
		return one(st)
	}
	if m := reSendSnap.FindStringSubmatch(msg); m != nil {
		st := leader(KindSyncSnap, p.sidOf[l.Thread])
		st.Zxid = hex(m[3])
		return one(st)
	}
	if m := reSendNL.FindStringSubmatch(msg); m != nil {
		return one(leader(KindNewLeader, atoi(m[1])))
	}
	if m := reNLAck.FindStringSubmatch(msg); m != nil {
		return one(leader(KindNewLeaderAck, atoi(m[1])))
	}
	if m := reSendUTD.FindStringSubmatch(msg); m != nil {
		return one(leader(KindUptodate, atoi(m[1])))
	}
	if m := reHaveQuorum.FindStringSubmatch(msg); m != nil {
		st := leader(KindHaveQuorum, 0)
		st.Zxid = hex(m[2])
		st.Epoch = st.Zxid >> 32
		st.Sids = sids(m[1])
		return one(st)
	}
	if m := reGoodbye.FindStringSubmatch(msg); m != nil {
		st := leader(KindGoodbye, p.sidOf[l.Thread])
		st.Detail = m[1]
		return one(st)
	}
	if m := reShutdown.FindStringSubmatch(msg); m != nil && l.Class == "Leader" {
		reason := m[1]
		out := []Step{{Kind: KindLeaderShutdown, Side: "leader", Detail: reason}}
		switch {
		case strings.HasPrefix(reason, "Not sufficient followers synced"):
			out = append(out, Step{Kind: KindNotSufficientFollowers, Side: "leader", Detail: reason, Sids: sids(reason)})
		case strings.HasPrefix(reason, "Waiting for a quorum of followers"):
			out = append(out, Step{Kind: KindNewLeaderAckTimeout, Side: "leader", Detail: reason, Sids: sids(reason)})
		}
		return out
	}
	return nil
}

func sids(s string) []int {
	var out []int
	for _, m := range reSids.FindAllString(s, -1) {
		out = append(out, atoi(m))
	}
	return out
}

// ParseLog reads a whole log file. Steps are in the file's order, which is the order log4j
// wrote them; threads log a few milliseconds out of time order at times (sort by At for time
// order, as Run does).
func ParseLog(r io.Reader, zero time.Time, life int) ([]Step, error) {
	p := NewParser(zero, life)
	var out []Step
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		out = append(out, p.Line(sc.Text())...)
	}
	return append(out, p.Flush()...), sc.Err()
}
