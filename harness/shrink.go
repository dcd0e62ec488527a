package harness

import (
	"slices"

	"zabsim/checker"
	"zabsim/sim"
)

// Shrink makes a failing run smaller while it still breaks invariant inv: it drops faults one
// at a time, then gives servers fresh disks, keeping each change that keeps the failure
// (greedy delta debugging). The result is a copy; spec is not changed.
func Shrink(spec *sim.RunSpec, inv string) *sim.RunSpec {
	best := cloneSpec(spec)
	fails := func(s *sim.RunSpec) bool {
		rep, err := checker.Run(s, checker.Options{})
		return err == nil && rep.HasViolation(inv)
	}
	if !fails(best) {
		return best
	}
	for changed := true; changed; {
		changed = false
		for i := len(best.Faults) - 1; i >= 0; i-- {
			try := cloneSpec(best)
			try.Faults = slices.Delete(try.Faults, i, i+1)
			if fails(try) {
				best, changed = try, true
			}
		}
		for i := len(best.Disks) - 1; i >= 0; i-- {
			try := cloneSpec(best)
			try.Disks = slices.Delete(try.Disks, i, i+1)
			if fails(try) {
				best, changed = try, true
			}
		}
		if best.Options.OneWayDelayJitter > 0 {
			try := cloneSpec(best)
			try.Options.OneWayDelayJitter = 0
			if fails(try) {
				best, changed = try, true
			}
		}
	}
	return best
}

func cloneSpec(s *sim.RunSpec) *sim.RunSpec {
	c := *s
	c.Config.Servers = slices.Clone(s.Config.Servers)
	c.Config.Election.Changes = slices.Clone(s.Config.Election.Changes)
	c.Disks = slices.Clone(s.Disks)
	c.Faults = slices.Clone(s.Faults)
	return &c
}
