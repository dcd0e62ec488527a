package sim

import (
	"strings"
	"testing"
	"time"

	"zabsim/protocol"
)

// TestThreeServerActivationTrace runs a 3-server activation with assigned roles in the bare
// world (no checker) and checks the milestones of the trace a Recorder keeps: every server
// boots, the leader decides epoch 1 from a quorum that includes itself, both learners are
// DIFF-synced and reach BROADCAST, and the run stops once stable.
// Reference: spec §5.1-§5.8.
func TestThreeServerActivationTrace(t *testing.T) {
	cfg := protocol.DefaultConfig([]protocol.ServerID{1, 2, 3}, nil)
	cfg.Election.Assigned = true
	spec := &RunSpec{Seed: 1, Config: cfg, Options: DefaultOptions(), Until: protocol.Time(60 * time.Second), StopWhenStable: true}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	rec := &Recorder{}
	res := NewWorld(spec, rec).Run()
	var text strings.Builder
	for i := range rec.Events {
		text.WriteString(rec.Events[i].String())
		text.WriteByte('\n')
	}
	for _, want := range []string{"s1 start boot", "s3 state LEADING/DISCOVERY", "s3 note epoch-decided epoch=1 sids=[3,",
		"s3 note sync peer=1 DIFF", "s3 note sync peer=2 DIFF", "s1 state FOLLOWING/BROADCAST", "s2 state FOLLOWING/BROADCAST",
		"s3 state LEADING/BROADCAST"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("trace lacks %q:\n%s", want, text.String())
		}
	}
	if res.End > protocol.Time(300*time.Millisecond) || res.Events == 0 || res.TraceHash == 0 {
		t.Errorf("run ended at %v after %d events (hash %x); want a stable stop within 300 ms", res.End, res.Events, res.TraceHash)
	}
}

// TestLinksTieEveryDeliveryToItsSend checks the cross-reference viewers draw arrows from: every
// delivered message carries the Link of exactly one earlier send of the same message, and no
// two sends share a Link. An FLE cold start exercises both ports.
// Reference: the trace contract (trace.go, TraceEvent.Link).
func TestLinksTieEveryDeliveryToItsSend(t *testing.T) {
	cfg := protocol.DefaultConfig([]protocol.ServerID{1, 2, 3}, nil)
	spec := &RunSpec{Seed: 7, Config: cfg, Options: DefaultOptions(), Until: protocol.Time(60 * time.Second), StopWhenStable: true}
	rec := &Recorder{}
	NewWorld(spec, rec).Run()
	sent := map[uint64]TraceEvent{}
	recvs := 0
	for _, e := range rec.Events {
		switch e.Kind {
		case TrSend:
			if _, dup := sent[e.Link]; dup || e.Link == 0 {
				t.Fatalf("send with link %d twice or zero: %s", e.Link, e.String())
			}
			sent[e.Link] = e
		case TrRecv:
			recvs++
			s, ok := sent[e.Link]
			if !ok || s.Msg.Type != e.Msg.Type || s.Server != e.Peer || s.Peer != e.Server || s.At > e.At {
				t.Fatalf("delivery %s has no matching send (link %d)", e.String(), e.Link)
			}
		}
	}
	if recvs < 10 {
		t.Fatalf("only %d deliveries", recvs)
	}
}
