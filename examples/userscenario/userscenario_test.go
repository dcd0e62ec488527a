// Package userscenario_test shows scenarios written outside the catalogue, with only the
// exported builder and expectation helpers of package scenarios; `go test ./...` runs them.
package userscenario_test

import (
	"testing"
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/scenarios"
	"zabsim/sim"
)

var expect = scenarios.Expect

// A follower whose log is behind the leader's: the leader, elected for its longer log,
// brings it up to date with a DIFF, and every server ends in the new epoch.
func TestFollowerBehindIsDiffed(t *testing.T) {
	scenarios.Check(t, scenarios.Scenario{
		Name:        "my-follower-behind",
		Family:      "example",
		Description: "voter 3 has two txns of epoch 1, voter 1 one: 3 leads and DIFFs 1",
		Build: func(seed uint64) *sim.RunSpec {
			return scenarios.Cluster(3, 0).
				Disk(1, 1, 1, protocol.MakeZxid(1, 1)).
				Disk(2, 1, 1, protocol.MakeZxid(1, 1), protocol.MakeZxid(1, 2)).
				Disk(3, 1, 1, protocol.MakeZxid(1, 1), protocol.MakeZxid(1, 2)).
				StopWhenStable().
				Spec("my-follower-behind", seed)
		},
		Expect: func(r *checker.Report) error {
			return expect.All(
				expect.NoViolations(r),
				expect.Live(r),
				expect.Role(r, 3, "LEADING", 3),
				expect.Synced(r, 3, 1, 2, "DIFF"),
				expect.AllEpochs(r, 2, 1, 2, 3),
			)
		},
	})
}

// The leader crashes once it leads; the two others elect a new leader among themselves
// and, when it restarts, the old leader follows. Which of 1 and 2 wins the re-election
// depends on the seed's timing, so the claim about the end is only that 3 follows.
func TestLeaderCrashAndRejoin(t *testing.T) {
	scenarios.Check(t, scenarios.Scenario{
		Name:        "my-leader-crash",
		Family:      "example",
		Description: "3 voters; the first leader (3) crashes at 5 s and restarts at 20 s",
		Build: func(seed uint64) *sim.RunSpec {
			return scenarios.Cluster(3, 0).
				Crash(3, 5*time.Second).
				Restart(3, 20*time.Second).
				Until(60*time.Second).
				Spec("my-leader-crash", seed)
		},
		Expect: func(r *checker.Report) error {
			return expect.All(
				expect.NoViolations(r),
				expect.Live(r),
				expect.Established(r, 3, 1, 0, 5*time.Second),
				expect.FaultHappened(r, 0),
				expect.Role(r, 3, "FOLLOWING", -1),
			)
		},
	}, 1, 2, 3, 4, 5, 6, 7, 8)
}

// TestMyWrites: three writes asked of a follower are forwarded, committed and end on every
// disk, in one order.
func TestMyWrites(t *testing.T) {
	expect := scenarios.Expect
	s := scenarios.Scenario{
		Name: "my-writes",
		Build: func(seed uint64) *sim.RunSpec {
			return scenarios.Cluster(3, 0).Writes(1, time.Second, 1001*time.Millisecond, 1002*time.Millisecond).
				StopWhenStable().Spec("my-writes", seed)
		},
		Expect: func(r *checker.Report) error {
			return expect.All(expect.NoViolations(r), expect.AnsweredOK(r, 3), expect.SameHistory(r, 3, 1, 2, 3))
		},
	}
	scenarios.Check(t, s, 1, 2, 3)
}
