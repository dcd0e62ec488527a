package protocol

import "time"

// The election seam. A LOOKING peer asks its election component for a decision
// (QuorumPeer.run: currentVote = makeLEStrategy().lookForLeader()). The default component is
// Fast Leader Election (fle.go). For focused scenarios, the assigned-roles election decides for
// Config.Election.Leader (or a later LeaderChange) after Config.Election.Delay, which stands for
// FLE's 200 ms finalize wait. Either way decide is how an election ends.

// lookForLeader starts an election. An observer that just left its leader first sleeps a random
// time below ObserverElectionDelay (Observer.waitForObserverElectionDelay), which the world
// resolves as timer jitter.
func (p *QuorumPeer) lookForLeader(now Time, afterObserving bool, out []Effect) []Effect {
	var pause time.Duration
	if afterObserving {
		pause = p.cfg.ObserverElectionDelay
	}
	if p.cfg.Election.Assigned {
		p.electionGen, out = p.newTimer(TimerElection, 0, p.cfg.Election.Delay, pause, out)
		return out
	}
	if pause > 0 {
		p.fle.running = false
		p.electionGen, out = p.newTimer(TimerObserverPause, 0, 0, pause, out)
		return out
	}
	return p.fleLookForLeader(now, out)
}

// stepLooking handles inputs while LOOKING: the election's timers; anything left over from a
// previous role (a late message, a connection the leader no longer wants) is dropped, and a
// stray connection is closed.
func (p *QuorumPeer) stepLooking(in *Input, out []Effect) []Effect {
	switch in.Kind {
	case InputTimer:
		t := in.Timer
		switch {
		case t.Kind == TimerElection && p.cfg.Election.Assigned && t.Gen == p.electionGen:
			return p.decide(in.Now, p.cfg.Election.LeaderAt(in.Now), out)
		case t.Kind == TimerElection && p.fle.running && t.Gen == p.fle.pollGen:
			return p.pollTimerFired(in.Now, in.HaveDelivered, out)
		case t.Kind == TimerFLEFinalize && p.fle.running && t.Gen == p.fle.finalizeGen:
			return p.finalizeTimerFired(in.Now, out)
		case t.Kind == TimerObserverPause && t.Gen == p.electionGen && !p.fle.running:
			return p.fleLookForLeader(in.Now, out)
		}
	case InputAccepted, InputConnected:
		return append(out, Effect{Kind: EffectClose, Conn: in.Conn})
	}
	return out
}

// decide ends an election for leader: LEADING if it is this server, FOLLOWING for another
// participant, OBSERVING for an observer (FastLeaderElection.lookForLeader's last step).
func (p *QuorumPeer) decide(now Time, leader ServerID, out []Effect) []Effect {
	switch {
	case leader == p.id:
		return p.becomeLeading(now, out)
	case p.learnerType == OBSERVER:
		return p.becomeLearner(now, OBSERVING, leader, out)
	default:
		return p.becomeLearner(now, FOLLOWING, leader, out)
	}
}
