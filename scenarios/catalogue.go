package scenarios

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/sim"
)

// Scenario is one named run and the outcome it expects.
type Scenario struct {
	Name        string
	Family      string
	Description string
	// Reference names the spec section, JIRA or Zab1_0Test method the scenario stands for.
	Reference string
	// Build returns the run for a seed. The outcome must not depend on the seed beyond what
	// Expect allows: a sweep runs every scenario with many seeds.
	Build func(seed uint64) *sim.RunSpec
	// Expect checks the report and returns every way it differs from the expected outcome.
	Expect func(r *checker.Report) error
	// Knobs lists the bug knobs the scenario turns on (it expects violations).
	Knobs []string
}

// Run builds the scenario for seed, runs it with every invariant on, and checks its expected
// outcome. The report is returned even when the expectation fails.
func (s Scenario) Run(seed uint64, opts checker.Options) (*checker.Report, error) {
	rep, err := checker.Run(s.Build(seed), opts)
	if err != nil {
		return nil, err
	}
	return rep, s.Expect(rep)
}

var catalogue []Scenario

func register(s ...Scenario) { catalogue = append(catalogue, s...) }

// All returns every scenario, sorted by name.
func All() []Scenario {
	out := slices.Clone(catalogue)
	slices.SortFunc(out, func(a, b Scenario) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Lookup finds a scenario by name; an unknown name is an error that suggests close names.
func Lookup(name string) (Scenario, error) {
	for _, s := range catalogue {
		if s.Name == name {
			return s, nil
		}
	}
	var near []string
	for _, s := range All() {
		if strings.Contains(s.Name, name) || strings.Contains(name, s.Name) || strings.HasPrefix(s.Name, firstWord(name)) {
			near = append(near, s.Name)
		}
	}
	msg := fmt.Sprintf("unknown scenario %q", name)
	if len(near) > 0 {
		msg += " (did you mean: " + strings.Join(near, ", ") + "?)"
	}
	return Scenario{}, errors.New(msg + "; `zabsim list` shows them all")
}

func firstWord(s string) string {
	if i := strings.IndexByte(s, '-'); i > 0 {
		return s[:i+1]
	}
	return s
}

// The expectation helpers below each return nil or one error; all combines them.

func all(errs ...error) error { return errors.Join(errs...) }

// violations expects exactly these invariants to be broken (none when empty).
func violations(r *checker.Report, names ...string) error {
	got := r.ViolationNames()
	want := slices.Clone(names)
	slices.Sort(want)
	if slices.Equal(got, want) {
		return nil
	}
	var details []string
	for _, v := range r.Violations {
		details = append(details, v.Invariant+" at "+v.At.String()+": "+v.Detail)
	}
	return fmt.Errorf("violations: got %v, want %v\n  %s", got, want, strings.Join(details, "\n  "))
}

// violationsInclude expects at least these invariants to be broken.
func violationsInclude(r *checker.Report, names ...string) error {
	var errs []error
	for _, n := range names {
		if !r.HasViolation(n) {
			errs = append(errs, fmt.Errorf("expected a %s violation; got %v", n, r.ViolationNames()))
		}
	}
	return errors.Join(errs...)
}

// established expects leader to have established epoch with a NEWLEADER quorum, at a time in
// [from, to] (to 0: any time after from).
func established(r *checker.Report, leader protocol.ServerID, epoch protocol.Epoch, from, to time.Duration) error {
	for _, e := range r.Established {
		if e.Leader == leader && e.Epoch == epoch {
			if e.At < at(from) || (to > 0 && e.At > at(to)) {
				return fmt.Errorf("leader %d established epoch %d at %s, want within [%v, %v]", leader, epoch, e.At, from, to)
			}
			return nil
		}
	}
	return fmt.Errorf("leader %d never established epoch %d (established: %+v)", leader, epoch, r.Established)
}

// establishedOnce expects exactly n establishments in the run.
func establishedCount(r *checker.Report, n int) error {
	if len(r.Established) != n {
		return fmt.Errorf("%d establishments, want %d: %+v", len(r.Established), n, r.Established)
	}
	return nil
}

// epochs expects server id's durable acceptedEpoch and currentEpoch at the end.
func epochs(r *checker.Report, id protocol.ServerID, acc, cur protocol.Epoch) error {
	s, ok := r.Server(id)
	if !ok {
		return fmt.Errorf("no server %d in the report", id)
	}
	if s.AcceptedEpoch != acc || s.CurrentEpoch != cur {
		return fmt.Errorf("server %d: acceptedEpoch %d currentEpoch %d, want %d and %d", id, s.AcceptedEpoch, s.CurrentEpoch, acc, cur)
	}
	return nil
}

// allEpochs expects every listed server to end with acceptedEpoch = currentEpoch = e.
func allEpochs(r *checker.Report, e protocol.Epoch, ids ...protocol.ServerID) error {
	var errs []error
	for _, id := range ids {
		errs = append(errs, epochs(r, id, e, e))
	}
	return errors.Join(errs...)
}

// role expects server id's final role (and leader, unless leader < 0).
func role(r *checker.Report, id protocol.ServerID, role string, leader protocol.ServerID) error {
	s, ok := r.Server(id)
	if !ok {
		return fmt.Errorf("no server %d in the report", id)
	}
	if s.Role != role {
		return fmt.Errorf("server %d ends %s, want %s", id, s.Role, role)
	}
	if leader >= 0 && (s.Leader == nil || *s.Leader != leader) {
		got := "none"
		if s.Leader != nil {
			got = fmt.Sprint(*s.Leader)
		}
		return fmt.Errorf("server %d ends with leader %s, want %d", id, got, leader)
	}
	return nil
}

// lastZxid expects server id's durable last zxid.
func lastZxid(r *checker.Report, id protocol.ServerID, want protocol.Zxid) error {
	s, _ := r.Server(id)
	if s.LastZxid != want {
		return fmt.Errorf("server %d last zxid %s, want %s", id, s.LastZxid, want)
	}
	return nil
}

// holds expects server id's durable history to hold a txn of zxid z at the end.
func holds(r *checker.Report, id protocol.ServerID, z protocol.Zxid) error {
	s, _ := r.Server(id)
	if protocol.IndexOfTxn(s.History, z) < 0 {
		return fmt.Errorf("server %d ends without %s on disk (history %v)", id, z, s.History)
	}
	return nil
}

// lacks expects server id's durable history to hold no txn of zxid z at the end.
func lacks(r *checker.Report, id protocol.ServerID, z protocol.Zxid) error {
	if s, _ := r.Server(id); protocol.IndexOfTxn(s.History, z) >= 0 {
		return fmt.Errorf("server %d ends with %s on disk (history %v)", id, z, s.History)
	}
	return nil
}

// synced expects the first sync of learner to use mode, from leader in epoch.
func synced(r *checker.Report, leader, learner protocol.ServerID, epoch protocol.Epoch, mode string) error {
	for _, s := range r.Syncs {
		if s.Leader == leader && s.Learner == learner && s.Epoch == epoch {
			if s.Mode != mode {
				return fmt.Errorf("leader %d synced learner %d with %s, want %s", leader, learner, s.Mode, mode)
			}
			return nil
		}
	}
	return fmt.Errorf("leader %d never synced learner %d in epoch %d (syncs: %+v)", leader, learner, epoch, r.Syncs)
}

// syncedByArrival expects a learner synced in epoch with DIFF if it arrived while the leader
// was still activating, and with SNAP if it arrived after the leader reached BROADCAST: the
// leader's lastProcessedZxid is then e<<32, which an empty txn log cannot DIFF from (spec §5.6
// rule 5, §5.8). Network delays decide which, per seed.
func syncedByArrival(r *checker.Report, leader, learner protocol.ServerID, epoch protocol.Epoch) error {
	var est protocol.Time = -1
	for _, e := range r.Established {
		if e.Leader == leader && e.Epoch == epoch {
			est = e.At
		}
	}
	for _, s := range r.Syncs {
		if s.Leader != leader || s.Learner != learner || s.Epoch != epoch {
			continue
		}
		want := "DIFF"
		if est >= 0 && s.At > est {
			want = "SNAP"
		}
		if s.Mode != want {
			return fmt.Errorf("learner %d synced at %s with %s, want %s (established at %s)", learner, s.At, s.Mode, want, est)
		}
		return nil
	}
	return fmt.Errorf("leader %d never synced learner %d in epoch %d", leader, learner, epoch)
}

// roleEnd expects a role end of server (or of its handler for peer, when role is
// "LearnerHandler") whose reason contains reason, at a time in [from, to] (to 0: any).
func roleEnd(r *checker.Report, server protocol.ServerID, roleName string, peer protocol.ServerID, reason string, from, to time.Duration) error {
	for _, e := range r.RoleEnds {
		if e.Server != server || e.Role != roleName || (roleName == "LearnerHandler" && e.Peer != peer) || !strings.Contains(e.Reason, reason) {
			continue
		}
		if e.At < at(from) || (to > 0 && e.At > at(to)) {
			continue
		}
		return nil
	}
	var got []string
	for _, e := range r.RoleEnds {
		got = append(got, fmt.Sprintf("%s %d/%s peer %d: %s", e.At, e.Server, e.Role, e.Peer, e.Reason))
	}
	return fmt.Errorf("no %s end of %d with %q within [%v, %v]; role ends:\n  %s", roleName, server, reason, from, to, strings.Join(got, "\n  "))
}

// noRoleEnds expects that no leader shut down and no learner left.
func noRoleEnds(r *checker.Report) error {
	if len(r.RoleEnds) > 0 {
		return fmt.Errorf("unexpected role ends: %+v", r.RoleEnds)
	}
	return nil
}

// probe expects the named coverage probe to have been reached.
func probe(r *checker.Report, p protocol.Probe) error {
	if r.Probes[p] == 0 {
		return fmt.Errorf("probe %s never reached", p)
	}
	return nil
}

// liveness expects the liveness judgement to have passed.
func live(r *checker.Report) error {
	if !r.Liveness.OK {
		return fmt.Errorf("liveness: %s", r.Liveness)
	}
	return nil
}
