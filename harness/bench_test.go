package harness_test

import (
	"context"
	"testing"

	"zabsim/harness"
	"zabsim/scenarios"
)

// benchSweep sweeps 400 generated runs (the random scenario: faults, writes, restarts) per
// iteration with the given number of workers, and reports runs/s; SweepWorkers2's runs/s over
// SweepWorkers1's is the scaling figure the README quotes.
func benchSweep(b *testing.B, workers int) {
	sc, err := scenarios.Lookup("random")
	if err != nil {
		b.Fatal(err)
	}
	const seeds = 400
	var events int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := harness.Sweep(context.Background(), harness.SweepConfig{Scenarios: []scenarios.Scenario{sc},
			SeedsPerScenario: seeds, MasterSeed: uint64(i), Workers: workers})
		if err != nil || res.Runs != seeds || len(res.Failures) != 0 {
			b.Fatalf("sweep %d: %v, %d runs, %d failures", i, err, res.Runs, len(res.Failures))
		}
		events += int64(res.Events)
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*seeds)/secs, "runs/s")
	b.ReportMetric(float64(events)/secs, "events/s")
}

// BenchmarkSweepWorkers1 is a generated-run sweep on one worker.
func BenchmarkSweepWorkers1(b *testing.B) { benchSweep(b, 1) }

// BenchmarkSweepWorkers2 is the same sweep on two workers.
func BenchmarkSweepWorkers2(b *testing.B) { benchSweep(b, 2) }
