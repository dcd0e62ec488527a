package checker_test

import (
	"runtime"
	"testing"
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/sim"
)

func activationSpec(participants int, assigned bool) *sim.RunSpec {
	var ids []protocol.ServerID
	for i := 1; i <= participants; i++ {
		ids = append(ids, protocol.ServerID(i))
	}
	cfg := protocol.DefaultConfig(ids, nil)
	cfg.Election.Assigned = assigned
	return &sim.RunSpec{Scenario: "bench", Config: cfg, Options: sim.DefaultOptions(),
		Until: protocol.Time(time.Minute), StopWhenStable: true}
}

// benchActivation measures whole runs from boot to every learner UPTODATE, with every
// invariant checked after every event: with assigned roles (leader activation alone) or with
// Fast Leader Election first (a full cold start).
func benchActivation(b *testing.B, participants int, assigned bool) {
	benchRuns(b, activationSpec(participants, assigned), 0)
}

// benchRuns runs spec for seeds 0..b.N-1 and reports runs/s, events/s, events per run and
// allocations per event. Each run must be clean, establish one ensemble and answer ok writes.
func benchRuns(b *testing.B, spec *sim.RunSpec, ok int) {
	var events uint64
	var before, after runtime.MemStats
	b.ReportAllocs()
	b.ResetTimer()
	runtime.ReadMemStats(&before)
	for i := 0; i < b.N; i++ {
		spec.Seed = uint64(i)
		rep, err := checker.Run(spec, checker.Options{})
		if err != nil || len(rep.Violations) > 0 || len(rep.Established) != 1 || rep.Probes[protocol.ProbeClientWriteCommitted] != ok {
			b.Fatalf("seed %d: %v %+v", i, err, rep)
		}
		events += rep.Events
	}
	runtime.ReadMemStats(&after)
	b.StopTimer()
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/secs, "runs/s")
	b.ReportMetric(float64(events)/secs, "events/s")
	b.ReportMetric(float64(events)/float64(b.N), "events/run")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(events), "allocs/event")
}

// BenchmarkActivation3 is a 3-server activation with assigned roles.
// Reference: spec §5.1-§5.8.
func BenchmarkActivation3(b *testing.B) { benchActivation(b, 3, true) }

// BenchmarkActivation5 is a 5-server activation with assigned roles.
// Reference: spec §5.1-§5.8.
func BenchmarkActivation5(b *testing.B) { benchActivation(b, 5, true) }

// BenchmarkColdStart3 is a 3-server cold start: Fast Leader Election, then activation.
// Reference: spec §4, §5.
func BenchmarkColdStart3(b *testing.B) { benchActivation(b, 3, false) }

// BenchmarkColdStart5 is a 5-server cold start.
// Reference: spec §4, §5.
func BenchmarkColdStart5(b *testing.B) { benchActivation(b, 5, false) }

// BenchmarkColdStart3Writes100 is a 3-server cold start followed by 100 client writes, asked
// of the three servers in turn 2 ms apart from 1 s on: forwarding, proposals, the logging
// step, commits and applies, with every history invariant judged.
// Reference: issue 9 ("Benchmarks").
func BenchmarkColdStart3Writes100(b *testing.B) {
	spec := activationSpec(3, false)
	for i := range 100 {
		spec.Writes = append(spec.Writes, sim.ClientWrite{At: protocol.Time(time.Second + time.Duration(i)*2*time.Millisecond),
			Server: protocol.ServerID(i%3 + 1)})
	}
	benchRuns(b, spec, 100)
}
