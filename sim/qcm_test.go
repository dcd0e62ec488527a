package sim

import (
	"testing"
	"time"

	"zabsim/protocol"
)

// firstNotification is when server `to` first read an election notification from `from`.
func firstNotification(events []TraceEvent, from, to protocol.ServerID) protocol.Time {
	for _, e := range events {
		if e.Kind == TrRecv && e.Server == to && e.Peer == from && e.Msg.Type == protocol.NOTIFICATION {
			return e.At
		}
	}
	return -1
}

// TestElectionDialRetransmitsItsSYN: QuorumCnxManager's connect is sock.connect(addr, cnxTO), so a
// SYN that a partition cuts is retransmitted by the kernel after 1 s and 3 s, and the dial
// connects at the first that gets through instead of failing the whole 5 s.
func TestElectionDialRetransmitsItsSYN(t *testing.T) {
	spec := processingSpec(1, Processing{})
	spec.StopWhenStable = false
	spec.Until = protocol.Time(8 * time.Second)
	spec.Faults = []Fault{{Kind: FaultPartition, At: 0, Heal: protocol.Time(1500 * time.Millisecond),
		Groups: [][]protocol.ServerID{{3}, {1, 2}}, Port: PortElection}}
	_, events, _ := runRecorded(t, spec)
	got := time.Duration(firstNotification(events, 3, 1))
	if got < 3*time.Second || got > 3*time.Second+100*time.Millisecond {
		t.Fatalf("s1 first heard s3 at %v; want just after the SYN retransmitted 3 s after the first dial (the first two cut, healed at 1.5 s)", got)
	}
}

// TestOneWayPartitionStopsHandshakes: a TCP handshake needs both directions, so while 1→3 is cut
// neither 1 nor 3 can open an election connection to the other (3's SYN-ACKs to 1 and 1's SYNs
// to 3 are lost); the first one opens with the first SYN after the heal.
func TestOneWayPartitionStopsHandshakes(t *testing.T) {
	spec := processingSpec(1, Processing{})
	spec.StopWhenStable = false
	spec.Until = protocol.Time(8 * time.Second)
	spec.Faults = []Fault{{Kind: FaultPartition, At: 0, Heal: protocol.Time(2500 * time.Millisecond),
		Groups: [][]protocol.ServerID{{1}, {3}}, OneWay: true, Port: PortElection}}
	_, events, _ := runRecorded(t, spec)
	for _, pair := range [][2]protocol.ServerID{{3, 1}, {1, 3}} {
		got := time.Duration(firstNotification(events, pair[0], pair[1]))
		if got < 2500*time.Millisecond || got > 3*time.Second+100*time.Millisecond {
			t.Errorf("s%d first heard s%d at %v; want after the heal at 2.5 s, by the 3 s retransmission", pair[1], pair[0], got)
		}
	}
	// 2 and 3 are not cut: they talk at once.
	if got := time.Duration(firstNotification(events, 3, 2)); got > 100*time.Millisecond {
		t.Errorf("s2 first heard s3 at %v", got)
	}
}

// TestLearnerConnectNeedsTheSYNACK: with the leader's packets to a learner cut (one way, for
// good), the learner's connect to the learner port never completes: the leader's kernel never
// accepts it, and the learner's connect times out (before, the leader accepted at the SYN and
// the learner waited forever).
func TestLearnerConnectNeedsTheSYNACK(t *testing.T) {
	spec := processingSpec(1, Processing{})
	spec.StopWhenStable = false
	spec.Until = protocol.Time(30 * time.Second)
	spec.Faults = []Fault{{Kind: FaultPartition, At: 0, Groups: [][]protocol.ServerID{{3}, {1}}, OneWay: true, Port: PortLearner}}
	_, events, _ := runRecorded(t, spec)
	timedOut := 0
	for _, e := range events {
		if e.Kind == TrAccepted && e.Server == 3 && e.Peer == 1 {
			t.Fatalf("leader 3 accepted a connection from 1 at %v, whose SYN-ACK cannot get back", e.At)
		}
		if e.Kind == TrConnectFailed && e.Server == 1 && e.Peer == 3 && e.Detail == "timed out" {
			timedOut++
		}
	}
	if timedOut == 0 {
		t.Fatal("learner 1's connects to 3 never timed out")
	}
}

// TestRefusedConnectsCountedOnce: every connect a refuse-connect fault resets is counted once:
// no more than the learners saw refused, and at least those refused well after 3 bound its
// port (earlier ones may have found it unbound).
func TestRefusedConnectsCountedOnce(t *testing.T) {
	spec := processingSpec(1, Processing{})
	spec.StopWhenStable = false
	spec.Until = protocol.Time(10 * time.Second)
	spec.Faults = []Fault{{Kind: FaultRefuseConnect, At: 0, Server: 3}}
	res, events, _ := runRecorded(t, spec)
	leading := protocol.Time(-1)
	seen, late := 0, 0
	for _, e := range events {
		if e.Kind == TrState && e.Server == 3 && e.State == protocol.LEADING && leading < 0 {
			leading = e.At
		}
		if e.Kind == TrConnectFailed && e.Peer == 3 && e.Detail == "refused" {
			seen++
			if leading >= 0 && time.Duration(e.At-leading) > 100*time.Millisecond {
				late++
			}
		}
	}
	if got := res.Probes[protocol.ProbeRefusedByFault]; late == 0 || got < late || got > seen {
		t.Fatalf("probe counts %d refused connects; the learners saw %d refused, %d of them well after the bind", got, seen, late)
	}
}
