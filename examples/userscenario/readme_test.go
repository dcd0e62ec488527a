package userscenario_test

import (
	"testing"
	"time"

	"zabsim/checker"
	"zabsim/scenarios"
	"zabsim/sim"
)

// The README's example, kept here so it stays true.
func TestMyScenario(t *testing.T) {
	expect := scenarios.Expect
	scenarios.Check(t, scenarios.Scenario{
		Name: "my-late-voter",
		Build: func(seed uint64) *sim.RunSpec {
			return scenarios.Cluster(3, 0).StartAt(1, 30*time.Second).Spec("my-late-voter", seed)
		},
		Expect: func(r *checker.Report) error {
			return expect.All(expect.NoViolations(r), expect.Live(r), expect.Role(r, 1, "FOLLOWING", -1))
		},
	}) // seeds 1-5; pass more to Check
}
