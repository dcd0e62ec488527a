package checker

import (
	"fmt"

	"zabsim/sim"
)

// RestartAlwaysPossible (28): a server that has run can always restart from its own disk,
// whatever point it crashed at. A refusal of a disk the run put in place (a restart with a
// replaced disk, not yet written to) is ZooKeeper's to refuse: reported, not counted. Sources:
// ZOOKEEPER-1653, 2307, 4269.
const RestartAlwaysPossible = "RestartAlwaysPossible"

type restartAlwaysPossible struct{ stateless }

func (restartAlwaysPossible) event(x *env, e *sim.TraceEvent) { // TrRefused
	g := &x.t.learners[x.srv]
	if g.booted && !g.operatorDisk && !replacedDisk(x.spec, e) {
		x.fail(RestartAlwaysPossible, e.At, fmt.Sprintf("server %d cannot restart: %s", e.Server, e.Detail), e.Server)
	}
}
