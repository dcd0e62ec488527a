package harness

import (
	"slices"
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/sim"
)

// Shrink makes a failing run smaller while it still breaks invariant inv: it drops faults one
// at a time, then gives servers fresh disks, drops client writes (all at once, then one at a
// time) and the network's jitter, keeping each change that keeps the failure (greedy delta
// debugging), and at last ends the run just after the violation. The result is a copy; spec is
// not changed.
func Shrink(spec *sim.RunSpec, inv string) *sim.RunSpec {
	best := spec.Clone()
	var at protocol.Time // when inv broke in best
	fails := func(s *sim.RunSpec) bool {
		rep, err := checker.Run(s, checker.Options{})
		if err != nil || !rep.HasViolation(inv) {
			return false
		}
		for _, v := range rep.ViolationsRaw {
			if v.Invariant == inv {
				at = v.At
				break
			}
		}
		return true
	}
	if !fails(best) {
		return best
	}
	if len(best.Writes) > 0 {
		try := best.Clone()
		try.Writes = nil
		if fails(try) {
			best = try
		}
	}
	for changed := true; changed; {
		changed = false
		for i := len(best.Writes) - 1; i >= 0; i-- {
			try := best.Clone()
			try.Writes = slices.Delete(try.Writes, i, i+1)
			if fails(try) {
				best, changed = try, true
			}
		}
		for i := len(best.Faults) - 1; i >= 0; i-- {
			try := best.Clone()
			try.Faults = slices.Delete(try.Faults, i, i+1)
			if fails(try) {
				best, changed = try, true
			}
		}
		for i := len(best.Disks) - 1; i >= 0; i-- {
			try := best.Clone()
			try.Disks = slices.Delete(try.Disks, i, i+1)
			if fails(try) {
				best, changed = try, true
			}
		}
		if best.Options.OneWayDelayJitter > 0 {
			try := best.Clone()
			try.Options.OneWayDelayJitter = 0
			if fails(try) {
				best, changed = try, true
			}
		}
	}
	// The run up to the violation is the same whatever comes after it; an invariant judged at
	// the end (liveness) keeps the full length, since the shorter run no longer fails.
	fails(best)
	if end := at + protocol.Time(time.Millisecond); end < best.Until {
		try := best.Clone()
		try.Until, try.StopWhenStable = end, false
		if fails(try) {
			best = try
		}
	}
	return best
}
