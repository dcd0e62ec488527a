package realzk

import (
	"fmt"
	"slices"

	"zabsim/sim"
)

// The ports every server uses when the run has its own network (each server has its own
// address there): ZooKeeper's usual ones, below the ephemeral range, so that a cut of one port
// never matches a connecting side's port. nsWrongPort is a learner port nobody listens on, for
// a refused connect.
const (
	nsClientPort   = 2181
	nsQuorumPort   = 2888
	nsElectionPort = 3888
	nsWrongPort    = 2889
)

func hasPartitions(spec *sim.RunSpec) bool {
	return slices.ContainsFunc(spec.Faults, func(f sim.Fault) bool { return f.Kind == sim.FaultPartition })
}

// cutPort is the port a cut of partition f's traffic matches: 0 for all of it.
func cutPort(f *sim.Fault) int {
	switch f.Port {
	case sim.PortLearner:
		return nsQuorumPort
	case sim.PortElection:
		return nsElectionPort
	}
	return 0
}

// cutPairs are the (from, to) pairs whose packets partition f drops: every pair across two of
// its groups, only from the first group to the second when it is one-way (the simulator's
// rule, sim.blocks).
func cutPairs(f *sim.Fault) [][2]int {
	var out [][2]int
	for gi, g := range f.Groups {
		for gj, h := range f.Groups {
			if gi == gj || (f.OneWay && (gi != 0 || gj != 1)) {
				continue
			}
			for _, a := range g {
				for _, b := range h {
					out = append(out, [2]int{int(a), int(b)})
				}
			}
		}
	}
	return out
}

// partition starts (KindCut) or ends (KindHealed) partition a.fault in the run's network.
func (r *runner) partition(a action) error {
	f := &r.spec.Faults[a.fault]
	port := cutPort(f)
	what := "all traffic"
	if port != 0 {
		what = fmt.Sprintf("%s port %d", f.Port, port)
	}
	for _, p := range cutPairs(f) {
		var err error
		if a.kind == KindCut {
			err = r.net.cut(p[0], p[1], port)
		} else {
			err = r.net.heal(p[0], p[1], port)
		}
		if err != nil {
			return fmt.Errorf("fault %d (%s): %w", a.fault, a.why, err)
		}
		if s := r.server(p[0]); s != nil {
			done := "dropped"
			if a.kind == KindHealed {
				done = "flow again"
			}
			st := r.actionStep(s, a.kind, fmt.Sprintf("%s: packets to %d %s (%s)", a.why, p[1], done, what))
			st.Peer = p[1]
			s.actions = append(s.actions, st)
		}
	}
	r.progress("fault %d: %s %v (%s)", a.fault, a.why, f.Groups, what)
	return nil
}
