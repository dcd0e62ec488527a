package scenarios

import (
	"time"

	"zabsim/checker"
	"zabsim/protocol"
)

// Expect gathers the expectation helpers for scenarios written outside this package. Each
// method returns nil or one error naming what differs; Expect.All joins them, so a
// Scenario.Expect reads as one list of claims:
//
//	Expect: func(r *checker.Report) error {
//		return scenarios.Expect.All(scenarios.Expect.NoViolations(r), scenarios.Expect.Live(r))
//	}
//
// They are the helpers the catalogue itself uses (all, violations, live, ...), so a user's
// scenario and a catalogue scenario claim outcomes the same way.
var Expect Expectations

// Expectations is the type of Expect; it has no state, it only groups the helpers under one
// exported name.
type Expectations struct{}

// All joins the errors of several expectations (nil ones are dropped).
func (Expectations) All(errs ...error) error { return all(errs...) }

// NoViolations expects no invariant to be broken.
func (Expectations) NoViolations(r *checker.Report) error { return violations(r) }

// Violations expects exactly these invariants to be broken.
func (Expectations) Violations(r *checker.Report, invariants ...string) error {
	return violations(r, invariants...)
}

// ViolationsInclude expects at least these invariants to be broken.
func (Expectations) ViolationsInclude(r *checker.Report, invariants ...string) error {
	return violationsInclude(r, invariants...)
}

// Live expects the liveness judgement (a leader established with a quorum once the faults
// have healed) to have passed.
func (Expectations) Live(r *checker.Report) error { return live(r) }

// Role expects server id to end in role ("LEADING", "FOLLOWING", "OBSERVING", "LOOKING")
// following leader; a negative leader skips the leader check.
func (Expectations) Role(r *checker.Report, id protocol.ServerID, role string, leader protocol.ServerID) error {
	return roleOf(r, id, role, leader)
}

// Established expects leader to establish epoch with a NEWLEADER quorum at a time in
// [from, to]; to 0 means any time after from.
func (Expectations) Established(r *checker.Report, leader protocol.ServerID, epoch protocol.Epoch, from, to time.Duration) error {
	return established(r, leader, epoch, from, to)
}

// EstablishedCount expects exactly n establishments in the run.
func (Expectations) EstablishedCount(r *checker.Report, n int) error { return establishedCount(r, n) }

// Epochs expects server id's durable acceptedEpoch and currentEpoch at the end.
func (Expectations) Epochs(r *checker.Report, id protocol.ServerID, accepted, current protocol.Epoch) error {
	return epochs(r, id, accepted, current)
}

// AllEpochs expects every listed server to end with acceptedEpoch = currentEpoch = e.
func (Expectations) AllEpochs(r *checker.Report, e protocol.Epoch, ids ...protocol.ServerID) error {
	return allEpochs(r, e, ids...)
}

// LastZxid expects server id's durable last zxid.
func (Expectations) LastZxid(r *checker.Report, id protocol.ServerID, want protocol.Zxid) error {
	return lastZxid(r, id, want)
}

// Synced expects the first sync of learner by leader in epoch to use mode ("DIFF", "TRUNC",
// "SNAP").
func (Expectations) Synced(r *checker.Report, leader, learner protocol.ServerID, epoch protocol.Epoch, mode string) error {
	return synced(r, leader, learner, epoch, mode)
}

// RoleEnd expects server's role (or, for role "LearnerHandler", its handler for peer) to end
// with a reason containing reason, at a time in [from, to] (to 0: any time after from).
func (Expectations) RoleEnd(r *checker.Report, server protocol.ServerID, role string, peer protocol.ServerID, reason string, from, to time.Duration) error {
	return roleEnd(r, server, role, peer, reason, from, to)
}

// NoRoleEnds expects that no leader shut down and no learner left.
func (Expectations) NoRoleEnds(r *checker.Report) error { return noRoleEnds(r) }

// Probe expects the named coverage probe to have been reached at least once.
func (Expectations) Probe(r *checker.Report, p protocol.Probe) error { return probe(r, p) }

// DecidedAs expects server id to decide for leader as as ("LEADING", "FOLLOWING", ...) in an
// election that ends within [from, to].
func (Expectations) DecidedAs(r *checker.Report, id, leader protocol.ServerID, as string, from, to time.Duration) error {
	return decidedAs(r, id, leader, as, from, to)
}

// Outsider expects server id to be reported outside the ensemble with this kind and a
// reason containing reason.
func (Expectations) Outsider(r *checker.Report, id protocol.ServerID, kind, reason string) error {
	return outsiderKind(r, id, kind, reason)
}

// Holds expects server id's durable history to hold a txn of zxid z at the end; Lacks, none.
func (Expectations) Holds(r *checker.Report, id protocol.ServerID, z protocol.Zxid) error {
	return holds(r, id, z)
}

// Lacks expects server id's durable history to hold no txn of zxid z at the end.
func (Expectations) Lacks(r *checker.Report, id protocol.ServerID, z protocol.Zxid) error {
	return lacks(r, id, z)
}

// AnsweredOK expects n client writes to have been answered ok.
func (Expectations) AnsweredOK(r *checker.Report, n int) error { return answeredOK(r, n) }

// SameHistory expects each of ids to end with the same durable history of n txns whose values
// are exactly those of the writes answered ok.
func (Expectations) SameHistory(r *checker.Report, n int, ids ...protocol.ServerID) error {
	return sameHistory(r, n, ids...)
}

// FaultHappened expects the i-th scheduled fault (0-based, in builder order) to have happened.
func (Expectations) FaultHappened(r *checker.Report, i int) error { return faultHappened(r, i) }

// roleOf wraps role so the method above can keep the parameter name "role".
func roleOf(r *checker.Report, id protocol.ServerID, name string, leader protocol.ServerID) error {
	return role(r, id, name, leader)
}

// TB is the part of testing.TB that Check uses, so this package does not import testing.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// DefaultSeeds are the seeds Check uses when none are given.
var DefaultSeeds = []uint64{1, 2, 3, 4, 5}

// Check runs s with each seed (DefaultSeeds when none are given) with every invariant on, and
// reports through t each seed whose outcome differs from s.Expect. It is how a scenario
// written in another package is tested with `go test`; the outcome must hold for every seed,
// as the catalogue's does.
func Check(t TB, s Scenario, seeds ...uint64) {
	t.Helper()
	if s.Name == "" || s.Build == nil || s.Expect == nil {
		t.Fatalf("scenario %q needs a Name, a Build and an Expect", s.Name)
		return
	}
	if len(seeds) == 0 {
		seeds = DefaultSeeds
	}
	for _, seed := range seeds {
		rep, err := s.Run(seed, checker.Options{})
		if err != nil && rep == nil {
			t.Fatalf("%s seed %d: %v", s.Name, seed, err)
			return
		}
		if err != nil {
			t.Errorf("%s seed %d: %v", s.Name, seed, err)
		}
	}
}
