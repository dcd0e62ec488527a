package protocol

import "time"

// The election seam. A LOOKING peer asks its election component for a decision
// (QuorumPeer.run: currentVote = makeLEStrategy().lookForLeader()). Today the only component is
// the assigned-roles election: the run names the leader, and every server decides for it after
// Config.Election.Delay, which stands for Fast Leader Election's 200 ms finalize wait. Fast
// Leader Election plugs in here: lookForLeader starts a round, stepLooking feeds it
// notifications and timers, and decide is how any election ends.

// lookForLeader starts an election round. An observer that just left its leader first sleeps
// a random time below ObserverElectionDelay (Observer.waitForObserverElectionDelay), which the
// world resolves as timer jitter.
func (p *QuorumPeer) lookForLeader(now Time, afterObserving bool, out []Effect) []Effect {
	var jitter time.Duration
	if afterObserving {
		jitter = p.cfg.ObserverElectionDelay
	}
	p.electionGen, out = p.newTimer(TimerElection, 0, p.cfg.Election.Delay, jitter, out)
	return out
}

// stepLooking handles inputs while LOOKING: only the election's timers matter; anything left
// over from a previous role (a late message, a connection the leader no longer wants) is
// dropped, and a stray accepted connection is closed.
func (p *QuorumPeer) stepLooking(in Input, out []Effect) []Effect {
	switch in.Kind {
	case InputTimer:
		if in.Timer.Kind == TimerElection && in.Timer.Gen == p.electionGen {
			return p.decide(in.Now, p.cfg.Election.LeaderAt(in.Now), out)
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
