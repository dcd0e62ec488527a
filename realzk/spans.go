package realzk

import (
	"fmt"
	"slices"
	"time"

	"zabsim/sim"
)

// Spans are durations between protocol steps of one real run, measured from the servers' own
// log lines (so a JVM's start-up is outside them, except in Rejoin). They follow the
// simulator's spans in zabsim/conform.
type Spans struct {
	// Decision: every FLE round that decided, from "New election" to "About to leave FLE
	// instance".
	Decision []time.Duration
	// ToQuorum: a leader's decision to its "Have quorum of supporters".
	ToQuorum []time.Duration
	// Joiner: a server with a late start (sim.FaultStart), its first round's decision span.
	Joiner []time.Duration
	// RefusedRetry: a learner whose connect was refused, from its decision to its successful
	// connect (to the same leader, in the same life).
	RefusedRetry []time.Duration
	// Rejoin: a restarted server (life 2 on), from the launch of its process to its UPTODATE.
	// It includes the JVM's start.
	Rejoin []time.Duration
}

// Spans measures r. spec says which servers start late.
func (r *Result) Spans(spec *sim.RunSpec) Spans {
	late := map[int]bool{}
	if spec != nil {
		for _, f := range spec.Faults {
			if f.Kind == sim.FaultStart {
				late[int(f.Server)] = true
			}
		}
	}
	var sp Spans
	for _, s := range r.Servers {
		var (
			looking, decided, launched time.Duration
			lookingSeen, decidedSeen   bool
			leading, refusedOpen       bool
			rejoinOpen, firstDone      bool
			life                       int
		)
		for _, st := range s.Steps {
			if st.Life != life && st.Kind != KindLaunch {
				continue // a step of a life whose launch was not seen (cannot happen)
			}
			switch st.Kind {
			case KindLaunch:
				if st.Life != life {
					life = st.Life
					lookingSeen, decidedSeen, leading, refusedOpen = false, false, false, false
					launched, rejoinOpen = st.At, life > 1
				}
			case KindNewElection:
				looking, lookingSeen = st.At, true
				decidedSeen, leading, refusedOpen = false, false, false
			case KindDecided:
				if lookingSeen {
					d := st.At - looking
					sp.Decision = append(sp.Decision, d)
					if late[s.ID] && !firstDone {
						sp.Joiner = append(sp.Joiner, d)
					}
					lookingSeen = false
				}
				firstDone = true
				decided, decidedSeen = st.At, true
				leading = st.Detail == "LEADING"
			case KindHaveQuorum:
				if decidedSeen && leading {
					sp.ToQuorum = append(sp.ToQuorum, st.At-decided)
					leading = false
				}
			case KindConnectRefused:
				if decidedSeen {
					refusedOpen = true
				}
			case KindConnectOK:
				if refusedOpen {
					sp.RefusedRetry = append(sp.RefusedRetry, st.At-decided)
					refusedOpen = false
				}
			case KindUptodate:
				if st.Side == "learner" && rejoinOpen {
					sp.Rejoin = append(sp.Rejoin, st.At-launched)
					rejoinOpen = false
				}
			}
		}
	}
	return sp
}

// RefusedConnects counts, per server, its learner's refused connect tries.
func (r *Result) RefusedConnects() map[int]int {
	out := map[int]int{}
	for _, s := range r.Servers {
		if n := len(s.StepsOf(KindConnectRefused)); n > 0 {
			out[s.ID] = n
		}
	}
	return out
}

// Stat summarises one span over runs.
type Stat struct {
	N                int
	Min, Median, Max time.Duration
}

// StatOf summarises ds (the median of an even count is the lower middle one).
func StatOf(ds []time.Duration) Stat {
	if len(ds) == 0 {
		return Stat{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return Stat{N: len(s), Min: s[0], Median: s[(len(s)-1)/2], Max: s[len(s)-1]}
}

func (s Stat) String() string {
	if s.N == 0 {
		return "-"
	}
	return fmt.Sprintf("min %s / median %s / max %s (n=%d)", ms(s.Min), ms(s.Median), ms(s.Max), s.N)
}
