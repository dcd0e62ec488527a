package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// EpochMonotone (2): the durable acceptedEpoch and currentEpoch never decrease, across crashes
// too (the tracker keeps their maxima, restarting them from a disk the run put in place):
// ZAB's epochs only grow. Source: ZOOKEEPER-1270 (a leader's acceptedEpoch going back).
const EpochMonotone = "EpochMonotone"

type epochMonotone struct{ stateless }

func (epochMonotone) event(x *env, e *sim.TraceEvent) { // TrPersist
	i := x.srv
	d := x.Disk(i)
	g := &x.t.learners[i]
	switch e.Write.Kind {
	case protocol.WriteAcceptedEpoch:
		if d.AcceptedEpoch < g.maxAcc {
			x.fail(EpochMonotone, e.At, fmt.Sprintf("server %d acceptedEpoch went from %d to %d", e.Server, g.maxAcc, d.AcceptedEpoch), e.Server)
		}
	case protocol.WriteCurrentEpoch:
		if d.CurrentEpoch < g.maxCur {
			x.fail(EpochMonotone, e.At, fmt.Sprintf("server %d currentEpoch went from %d to %d", e.Server, g.maxCur, d.CurrentEpoch), e.Server)
		}
	}
}
