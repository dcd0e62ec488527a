package checker

import (
	"time"

	"zabsim/protocol"
)

// ElectionTerminates (25, liveness): once every fault has healed, some leader is in BROADCAST
// with a synced voter quorum within LivenessBound. The tracker notes when that first holds after
// the last heal (tracker.afterStep, with established below); Finish judges it at the end of the
// run. Broken on purpose by TestElectionTerminatesFires (NEWLEADER ACKs never read).
const ElectionTerminates = "ElectionTerminates"

// LivenessBound is how long after the last fault heals a leader must have a synced voter
// quorum. Justification from the timers: an activation attempt that is under way when the
// faults heal can run each of its three waits (epoch, epoch ack, NEWLEADER ack) to its
// initLimit*tickTime deadline; the next attempt can lose one more initLimit*tickTime to a
// learner that joined the doomed one late and waits out its read timeout; a leader in
// BROADCAST that lost its quorum notices within syncLimit ticks plus one tick; each server
// then takes the election's decision delay (plus an observer's random pause) twice, and a
// learner may spend five 100 ms connect retries. One second covers network delays.
//
// With Fast Leader Election, each of the two elections can take longer than the assigned
// decision delay: a server may sit in a notification poll of up to maxNotificationInterval (its
// back-off grew while the faults lasted) before it sends again, and then waits finalizeWait.
func LivenessBound(cfg *protocol.Config) time.Duration {
	election := cfg.Election.Delay
	if !cfg.Election.Assigned {
		election = cfg.Election.MaxNotificationInterval + 2*cfg.Election.FinalizeWait
	}
	return 4*cfg.InitLimitTime() + time.Duration(cfg.SyncLimit+1)*cfg.TickTime +
		2*(election+cfg.ObserverElectionDelay) + 5*cfg.LeaderConnectDelayDuringRetry + time.Second
}

// established: some leader is in BROADCAST and a voter quorum (with it) is synced to it.
func established(x *env) bool {
	for i := 0; i < x.ServerCount(); i++ {
		lv, up := x.Role(i)
		if !up || lv.State != protocol.LEADING || lv.Zab != protocol.BROADCAST {
			continue
		}
		n := 1
		for j := 0; j < x.ServerCount(); j++ {
			if v, up := x.Role(j); j != i && up && v.State == protocol.FOLLOWING && v.Synced && v.Leader == lv.Leader && v.Epoch == lv.Epoch {
				n++
			}
		}
		if 2*n > x.cfg.Voters() {
			return true
		}
	}
	return false
}
