package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// EpochFileOrder (1): after every durable write the disk would still load: epoch(last zxid) <=
// currentEpoch <= acceptedEpoch, counting currentEpoch.tmp and the updatingEpoch marker as
// QuorumPeer.loadDataBase does, since it refuses to start otherwise. Sources: ZOOKEEPER-1653,
// 2307, 4269, 1387.
const EpochFileOrder = "EpochFileOrder"

type epochFileOrder struct{ stateless }

func (epochFileOrder) event(x *env, e *sim.TraceEvent) { // TrPersist
	if _, _, err := protocol.LoadDataBase(x.Disk(x.srv)); err != nil {
		x.fail(EpochFileOrder, e.At, fmt.Sprintf("after %s the disk of server %d would not load: %v", e.Write.Kind, e.Server, err), e.Server)
	}
}
