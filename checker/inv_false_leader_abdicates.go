package checker

import (
	"fmt"
	"time"

	"zabsim/protocol"
	"zabsim/sim"
)

// FalseLeaderAbdicates (27): a leader leaves: it finishes activating within 3*initLimit*tickTime
// (plus the self-register gap); it leaves BROADCAST without a supporting voter quorum within
// (initLimit+syncLimit+1) ticks (the tracker's lostSince); and, with maxTimeToWaitForEpoch set,
// it quits its own epoch wait on a voter's LOOKING notification. testElectionFraud;
// ZOOKEEPER-1294, 87, 3109.
//
// Why initLimit+syncLimit+1 ticks and not syncLimit: a learner that has not yet sent a packet
// after its sync keeps its handler's first ack deadline, tick0 + initLimit + syncLimit, and any
// live handler counts as synced (spec §5.9); a syncing handler's read timeout is initLimit. So a
// leader may keep BROADCAST that long after its support is gone, and ZooKeeper does.
const FalseLeaderAbdicates = "FalseLeaderAbdicates"

// falseLeaderAbdicates remembers, per server, a quit its current attempt owes: set when a
// LOOKING notification arrives too far into the epoch wait, judged after the step.
type falseLeaderAbdicates struct {
	quitDue []string
}

func (j *falseLeaderAbdicates) reset(n int) { j.quitDue = resize(j.quitDue, n) }

func (j *falseLeaderAbdicates) event(x *env, e *sim.TraceEvent) { // TrRecv, TrState
	i := x.srv
	a := &x.t.attempts[i]
	switch {
	case e.Kind == sim.TrState && e.State == protocol.LEADING && e.Zab == protocol.DISCOVERY:
		j.quitDue[i] = "" // a new attempt
	case e.Kind == sim.TrRecv && e.Msg.Type == protocol.NOTIFICATION:
		// maxTimeToWaitForEpoch (ZOOKEEPER-3109): a leader still in its own epoch wait longer
		// than that must quit on a voter's LOOKING notification.
		if max := x.cfg.MaxTimeToWaitForEpoch; max > 0 && a.active && a.waitStart >= 0 && e.Msg.Vote.State == protocol.LOOKING &&
			x.cfg.IsParticipant(e.Peer) && e.Peer != e.Server && time.Duration(e.At-a.waitStart) > max {
			j.quitDue[i] = fmt.Sprintf("leader %d kept waiting for its epoch quorum after voter %d sent LOOKING, %v into the wait (maxTimeToWaitForEpoch %v)",
				e.Server, e.Peer, time.Duration(e.At-a.waitStart), max)
		}
	}
}

func (j *falseLeaderAbdicates) afterStep(x *env) {
	now := x.Now()
	activation := 3*x.cfg.InitLimitTime() + x.cfg.LeaderSelfRegisterDelay + x.cfg.LeaderSelfRegisterJitter + time.Millisecond
	abdicate := time.Duration(x.cfg.InitLimit+x.cfg.SyncLimit+1)*x.cfg.TickTime + 10*time.Millisecond
	for i := range x.t.attempts {
		a := &x.t.attempts[i]
		switch {
		case a.active && j.quitDue[i] != "":
			x.fail(FalseLeaderAbdicates, now, j.quitDue[i], x.ServerAt(i))
			j.quitDue[i] = ""
		case !a.active || x.t.pausedAt[i] >= 0:
		case !a.broadcast && time.Duration(now-a.startedAt) > activation:
			x.fail(FalseLeaderAbdicates, now, fmt.Sprintf("leader %d has been activating for %v", x.ServerAt(i), time.Duration(now-a.startedAt)), x.ServerAt(i))
		case a.broadcast && a.lostSince >= 0 && time.Duration(now-a.lostSince) > abdicate:
			x.fail(FalseLeaderAbdicates, now, fmt.Sprintf("leader %d kept BROADCAST for %v without a voter quorum", x.ServerAt(i), time.Duration(now-a.lostSince)), x.ServerAt(i))
		}
	}
}
