package sim_test

import (
	"testing"
	"time"

	"zabsim/protocol"
	"zabsim/sim"
)

// benchWorld runs whole runs of the world alone, with no checker: what the simulator and the
// protocol cost, against which the checker benchmarks (package checker) show what judging
// every event adds.
func benchWorld(b *testing.B, participants int, assigned bool) {
	var ids []protocol.ServerID
	for i := 1; i <= participants; i++ {
		ids = append(ids, protocol.ServerID(i))
	}
	cfg := protocol.DefaultConfig(ids, nil)
	cfg.Election.Assigned = assigned
	spec := &sim.RunSpec{Scenario: "bench", Config: cfg, Options: sim.DefaultOptions(),
		Until: protocol.Time(time.Minute), StopWhenStable: true}
	var w sim.World
	var events, dead uint64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		spec.Seed = uint64(i)
		w.Reset(spec)
		res := w.Run()
		if res.Stop != sim.StopStable {
			b.Fatalf("seed %d stopped %s", i, res.Stop)
		}
		events += res.Events
		dead += res.DeadTimers
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(events)/secs, "events/s")
	b.ReportMetric(float64(b.N)/secs, "runs/s")
	b.ReportMetric(float64(dead)/float64(b.N), "dead-timers/run")
}

// BenchmarkWorldActivation3 is BenchmarkActivation3 (package checker) without the checker.
func BenchmarkWorldActivation3(b *testing.B) { benchWorld(b, 3, true) }

// BenchmarkWorldColdStart3 is BenchmarkColdStart3 (package checker) without the checker.
func BenchmarkWorldColdStart3(b *testing.B) { benchWorld(b, 3, false) }

// BenchmarkWorldColdStart5 is BenchmarkColdStart5 (package checker) without the checker.
func BenchmarkWorldColdStart5(b *testing.B) { benchWorld(b, 5, false) }
