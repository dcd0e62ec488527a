package checker_test

import (
	"testing"
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/sim"
)

func activationSpec(participants int) *sim.RunSpec {
	var ids []protocol.ServerID
	for i := 1; i <= participants; i++ {
		ids = append(ids, protocol.ServerID(i))
	}
	return &sim.RunSpec{Scenario: "bench", Config: protocol.DefaultConfig(ids, nil), Options: sim.DefaultOptions(),
		Until: protocol.Time(time.Minute), StopWhenStable: true}
}

// benchActivation measures whole cold-start activations (LOOKING to every learner UPTODATE)
// with every invariant checked after every event.
func benchActivation(b *testing.B, participants int) {
	spec := activationSpec(participants)
	var events uint64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		spec.Seed = uint64(i)
		rep, err := checker.Run(spec, checker.Options{})
		if err != nil || len(rep.Violations) > 0 || len(rep.Established) != 1 {
			b.Fatalf("seed %d: %v %+v", i, err, rep)
		}
		events += rep.Events
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/secs, "runs/s")
	b.ReportMetric(float64(events)/secs, "events/s")
	b.ReportMetric(float64(events)/float64(b.N), "events/run")
}

// BenchmarkActivation3 is a 3-server activation.
// Reference: spec §5.1-§5.8.
func BenchmarkActivation3(b *testing.B) { benchActivation(b, 3) }

// BenchmarkActivation5 is a 5-server activation.
// Reference: spec §5.1-§5.8.
func BenchmarkActivation5(b *testing.B) { benchActivation(b, 5) }
