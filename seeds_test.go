package zabsim_test

import (
	"flag"
	"os"
	"strconv"
	"testing"
	"time"

	"zabsim/checker"
	"zabsim/harness"
	"zabsim/protocol"
	"zabsim/scenarios"
)

var seedFlag = flag.Uint64("zabsim.seed", 0, "master seed for the randomly seeded tests (default: $ZABSIM_SEED, else the clock)")

// masterSeed is drawn fresh for every run of the tests, printed, and pinned by -zabsim.seed or
// ZABSIM_SEED. The clock is read here, in a test, never in protocol/ or sim/.
func masterSeed(t *testing.T) uint64 {
	if *seedFlag != 0 {
		return *seedFlag
	}
	if s := os.Getenv("ZABSIM_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ZABSIM_SEED=%q is not a number", s)
		}
		return v
	}
	return uint64(time.Now().UnixNano())
}

// TestFreshSeeds runs every scenario and a batch of generated runs with seeds drawn from a
// master seed that is new on every `go test`, so each test run explores new schedules. A
// failure names the master seed and the one command that replays the failing run.
// Reference: issue 4 ("Seeds in go test ./...").
func TestFreshSeeds(t *testing.T) {
	m := masterSeed(t)
	t.Logf("master seed %d (pin it with ZABSIM_SEED=%d go test -run TestFreshSeeds .)", m, m)
	for i, s := range scenarios.All() {
		runs := 1
		if s.Name == "random" {
			runs = 60
		}
		for k := 0; k < runs; k++ {
			seed := harness.SeedAt(m, i*1000+k)
			rep, err := s.Run(seed, checker.Options{})
			if err != nil {
				t.Errorf("master seed %d: %s seed %d: %v\nreplay: go run ./cmd/zabsim run -scenario %s -seed %d -timeline",
					m, s.Name, seed, firstLines(err.Error(), 6), s.Name, seed)
				continue
			}
			_ = rep
		}
	}
}

// TestProbesReached runs a sweep of fixed size (every scenario with 2 seeds and 300 generated
// runs) and fails when a coverage probe on a rare branch is never reached: a change that makes
// a branch unreachable, or a generator that stops producing it, shows up here.
// Reference: issue 4 ("Coverage probes"), FoundationDB's must-be-hit probes.
func TestProbesReached(t *testing.T) {
	res, err := harness.Sweep(t.Context(), harness.SweepConfig{Scenarios: scenarios.All(), SeedsPerScenario: 2, MasterSeed: 5})
	if err != nil {
		t.Fatal(err)
	}
	random, _ := scenarios.Lookup("random")
	more, err := harness.Sweep(t.Context(), harness.SweepConfig{Scenarios: []scenarios.Scenario{random}, SeedsPerScenario: 300, MasterSeed: 6})
	if err != nil {
		t.Fatal(err)
	}
	for p := protocol.Probe(1); p < protocol.ProbeCount; p++ {
		if n := res.Probes[p.String()] + more.Probes[p.String()]; n == 0 {
			t.Errorf("probe %s never reached", p)
		}
	}
}

func firstLines(s string, n int) string {
	out, lines := "", 0
	for _, r := range s {
		if r == '\n' {
			lines++
			if lines == n {
				return out + "\n..."
			}
		}
		out += string(r)
	}
	return out
}
