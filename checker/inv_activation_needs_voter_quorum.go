package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// ActivationNeedsVoterQuorum (6): the leader writes currentEpoch = e only after ACKEPOCHs from a
// voter quorum including itself (waitForEpochAck), and sends UPTODATE only after NEWLEADER ACKs
// from a voter quorum (waitForNewLeaderAck). Sources: ZOOKEEPER-1192, 1270, 1294, 2959, 769.
const ActivationNeedsVoterQuorum = "ActivationNeedsVoterQuorum"

// activationNeedsVoterQuorum keeps a scratch set, reused across events.
type activationNeedsVoterQuorum struct {
	scratch []protocol.ServerID
}

func (j *activationNeedsVoterQuorum) event(x *env, e *sim.TraceEvent) { // TrPersist, TrSend
	a := &x.t.attempts[x.srv]
	switch {
	case e.Kind == sim.TrPersist && e.Write.Kind == protocol.WriteCurrentEpoch:
		if !a.active || a.epoch != e.Write.Epoch {
			return
		}
		acked := append(j.scratch[:0], e.Server)
		for _, s := range a.ackEpoch {
			if s.ss.CurrentEpoch != -1 {
				acked = append(acked, s.sid)
			}
		}
		j.scratch = acked
		if !x.voterQuorum(acked) {
			x.fail(ActivationNeedsVoterQuorum, e.At, fmt.Sprintf("leader %d wrote currentEpoch %d with epoch acks only from %v", e.Server, e.Write.Epoch, voters(x.cfg, acked)), e.Server)
		}
	case e.Kind == sim.TrSend && e.Msg.Type == protocol.UPTODATE:
		acks := append(append(j.scratch[:0], e.Server), a.newLeaderAcks...)
		j.scratch = acks
		if !a.active || !x.voterQuorum(acks) {
			x.fail(ActivationNeedsVoterQuorum, e.At, fmt.Sprintf("leader %d sent UPTODATE with NEWLEADER acks only from %v", e.Server, voters(x.cfg, acks)), e.Server, e.Peer)
		}
	}
}
