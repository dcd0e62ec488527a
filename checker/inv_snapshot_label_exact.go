package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// SnapshotLabelExact (16): a snapshot labelled Z holds exactly the txns up to Z: none above it,
// and its last txn is Z unless Z is a new epoch's zxid (e<<32, the label a leader's
// lastProcessedZxid has before its first proposal). A snapshot that claims txns it lacks makes
// a restarted server report them. Sources: ZOOKEEPER-3104, 3642.
const SnapshotLabelExact = "SnapshotLabelExact"

type snapshotLabelExact struct{ stateless }

func (snapshotLabelExact) event(x *env, e *sim.TraceEvent) { // TrPersist
	if e.Write.Kind != protocol.WriteSnapshot {
		return
	}
	z, last := e.Write.Zxid, lastOf(e.Write.Txns)
	if last > z || last != z && z.Counter() != 0 {
		x.fail(SnapshotLabelExact, e.At, fmt.Sprintf("server %d wrote a snapshot labelled %s holding txns through %s", e.Server, z, last), e.Server)
	}
}
