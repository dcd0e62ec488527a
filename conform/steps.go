package conform

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"zabsim/protocol"
	"zabsim/realzk"
	"zabsim/sim"
)

// Trace validation: beyond the outcome, does the model admit the steps the real ensemble took?
// Both runs are reduced to each server's protocol steps in the order that server took them
// (its process starts, FLE decisions, the activation packets a learner read, a leader's quorum
// of NEWLEADER acks, the role ends of EndKinds), and the simulated seeds are searched for one
// that takes the same steps on every server. The order across servers is left out: it is
// timing, which a real run does not repeat. The search is over the simulator's own random
// schedules (one per seed: its delays, thread orders and processing times), so "no seed
// produces it" says that none of those schedules did, not that the model cannot.

// Steps are a run's protocol steps per server (by id), each in the order that server took them.
type Steps map[int][]string

// Step names. A learner's are the packets it read from its leader; a leader's own are its
// decision and its quorum; the epochs are the packets' (zxid>>32). A role end is its EndKind.
const (
	stepStart        = "start"
	stepRefusedStart = "refused to start"
	stepUptodate     = "UPTODATE"
)

func stepDecided(state string, l int) string { return fmt.Sprintf("decided %s %d", state, l) }
func stepLeaderInfo(e int64) string          { return fmt.Sprintf("LEADERINFO %d", e) }
func stepNewLeader(e int64) string           { return fmt.Sprintf("NEWLEADER %d", e) }
func stepQuorum(e int64) string              { return fmt.Sprintf("quorum of NEWLEADER acks %d", e) }

// realSyncs are the learner's sync packets by realzk step kind.
var realSyncs = map[string]string{realzk.KindSyncDiff: "DIFF", realzk.KindSyncTrunc: "TRUNC", realzk.KindSyncSnap: "SNAP"}

// realActions are the steps realzk logs for what it did to a process, not what the process did.
var realActions = map[string]bool{realzk.KindLaunch: true, realzk.KindKill: true, realzk.KindCut: true,
	realzk.KindHealed: true, realzk.KindPause: true, realzk.KindResume: true, realzk.KindExit: true}

// RealSteps are a real run's steps, from its servers' logs.
func RealSteps(res *realzk.Result) Steps {
	out := Steps{}
	for i := range res.Servers {
		s := &res.Servers[i]
		var steps []string
		life := 0
		decided := -1 // index of the last decision, for one end per role
		ended := map[string]bool{}
		for _, st := range s.Steps {
			if st.Life != life && !realActions[st.Kind] {
				// A process's first own line starts its life (a JVM killed while it started logs none).
				life = st.Life
				if st.Kind == realzk.KindLoadFailed {
					steps = append(steps, stepRefusedStart)
					continue
				}
				steps = append(steps, stepStart)
			}
			switch st.Kind {
			case realzk.KindDecided:
				steps = append(steps, stepDecided(st.Detail, st.Peer))
				decided = len(steps)
			case realzk.KindLeaderInfo:
				if st.Side == "learner" {
					steps = append(steps, stepLeaderInfo(st.Epoch))
				}
			case realzk.KindSyncDiff, realzk.KindSyncTrunc, realzk.KindSyncSnap:
				if st.Side == "learner" {
					steps = append(steps, realSyncs[st.Kind])
				}
			case realzk.KindNewLeader:
				if st.Side == "learner" {
					steps = append(steps, stepNewLeader(st.Epoch))
				}
			case realzk.KindUptodate:
				if st.Side == "learner" {
					steps = append(steps, stepUptodate)
				}
			case realzk.KindHaveQuorum:
				steps = append(steps, stepQuorum(st.Epoch))
			default:
				// One end can log more than one line (the leader's thread and each handler's).
				if k, ok := realEnds[st.Kind]; ok {
					if key := fmt.Sprintf("%s@%d", k, decided); !ended[key] {
						ended[key] = true
						steps = append(steps, k)
					}
				}
			}
		}
		out[s.ID] = steps
	}
	return out
}

// SimSteps are a simulated run's steps, from its trace, and when each was taken.
func SimSteps(spec *sim.RunSpec, trace []sim.TraceEvent) (Steps, map[int][]time.Duration) {
	out := Steps{}
	at := map[int][]time.Duration{}
	for _, sc := range spec.Config.Servers {
		out[int(sc.ID)] = nil
	}
	decided := map[int]int{}
	ended := map[string]bool{}
	for i := range trace {
		e := &trace[i]
		id := int(e.Server)
		if _, ok := out[id]; !ok {
			continue
		}
		add := func(s string) {
			out[id] = append(out[id], s)
			at[id] = append(at[id], time.Duration(e.At))
		}
		switch e.Kind {
		case sim.TrStart:
			add(stepStart)
		case sim.TrRefused:
			add(stepRefusedStart)
		case sim.TrRecv:
			switch e.Msg.Type {
			case protocol.LEADERINFO:
				add(stepLeaderInfo(int64(e.Msg.Zxid.Epoch())))
			case protocol.DIFFPKT, protocol.TRUNCPKT, protocol.SNAPPKT:
				add(e.Msg.Type.String()) // DIFF, TRUNC, SNAP
			case protocol.NEWLEADER:
				add(stepNewLeader(int64(e.Msg.Zxid.Epoch())))
			}
		case sim.TrNote:
			n := &e.Note
			switch n.Kind {
			case protocol.NoteElected:
				add(stepDecided(n.State.String(), int(n.Peer)))
				decided[id] = len(out[id])
			case protocol.NoteSynced:
				add(stepUptodate)
			case protocol.NoteNewLeaderQuorum:
				add(stepQuorum(int64(n.Epoch)))
			case protocol.NoteLeaderShutdown, protocol.NoteLearnerLeft:
				if k := EndKind(n.Reason); k != "" {
					if key := fmt.Sprintf("%d:%s@%d", id, k, decided[id]); !ended[key] {
						ended[key] = true
						add(k)
					}
				}
			}
		}
	}
	return out, at
}

// Until is s without the steps taken after end (end <= 0: all of them).
func (s Steps) Until(at map[int][]time.Duration, end time.Duration) Steps {
	if end <= 0 {
		return s
	}
	out := Steps{}
	for id, st := range s {
		n := len(st)
		for n > 0 && n <= len(at[id]) && at[id][n-1] > end {
			n--
		}
		out[id] = st[:n]
	}
	return out
}

// Validation is trace validation's verdict on one real run.
type Validation struct {
	// Steps is how many steps the real run took, over all servers.
	Steps int `json:"steps"`
	// Exact is how many seeds take exactly the real steps; Seeds how many were searched.
	Exact int `json:"exact"`
	Seeds int `json:"seeds"`
	// Best is the seed that matched the most real steps (the first such), Matched how many.
	Best    uint64 `json:"bestSeed"`
	Matched int    `json:"matched"`
	// Where no seed is exact, the first real step the best seed does not take: on Server, its
	// Index-th step (from 0), Real, against Simulated there ("" when the seed took no more).
	Server    int    `json:"server,omitempty"`
	Index     int    `json:"index,omitempty"`
	Real      string `json:"real,omitempty"`
	Simulated string `json:"simulated,omitempty"`
	Text      string `json:"text"`
}

// repeated marks a block of steps that came two or more times in a row.
const repeated = "(repeated)"

// Collapsed is s with every run of two or more repetitions of a block (up to 4 steps) written
// once and marked repeated: a retry loop (a refused learner deciding again and again, a leader
// whose epoch wait times out each round) turns as often as the time it is given allows, which
// no run repeats, so a loop is compared as a loop, not by its count.
func (s Steps) Collapsed() Steps {
	out := Steps{}
	for id, st := range s {
		out[id] = collapse(st)
	}
	return out
}

func collapse(st []string) []string {
	var out []string
	for i := 0; i < len(st); {
		done := false
		for k := 1; k <= 4 && i+2*k <= len(st); k++ {
			r := 1
			for i+(r+1)*k <= len(st) && slices.Equal(st[i:i+k], st[i+r*k:i+(r+1)*k]) {
				r++
			}
			if r >= 2 {
				out = append(append(out, st[i:i+k]...), repeated)
				i += r * k
				done = true
				break
			}
		}
		if !done {
			out = append(out, st[i])
			i++
		}
	}
	return out
}

// Validate searches the simulated runs for the steps of real run o, loops collapsed (Collapsed)
// on both sides, and each seed's steps cut where the real run ended (o.End: a real run ends
// once stable or settled, and what a seed does later the real one had no time for). A seed
// matches a server's steps as far as their common prefix; the best seed has the most matched
// steps over all servers.
func Validate(o *Outcome, sim *Simulated) Validation {
	real := o.Steps.Collapsed()
	v := Validation{Seeds: len(sim.Runs), Matched: -1}
	if len(sim.Runs) == 0 {
		v.Text = "steps: no simulated seeds to search"
		return v
	}
	ids := make([]int, 0, len(real))
	for id, st := range real {
		ids = append(ids, id)
		v.Steps += len(st)
	}
	slices.Sort(ids)
	for i := range sim.Runs {
		got := sim.Runs[i].Steps.Until(sim.Runs[i].StepTimes, o.End).Collapsed()
		matched, exact := 0, true
		for _, id := range ids {
			p := commonPrefix(real[id], got[id])
			matched += p
			exact = exact && p == len(real[id]) && len(got[id]) == p
		}
		if exact {
			v.Exact++
		}
		if matched > v.Matched {
			v.Matched, v.Best = matched, uint64(i+1) // Simulate runs seeds 1..n in order
			v.Server, v.Index, v.Real, v.Simulated = 0, 0, "", ""
			for _, id := range ids {
				p := commonPrefix(real[id], got[id])
				if p < len(real[id]) || p < len(got[id]) {
					v.Server, v.Index = id, p
					if p < len(real[id]) {
						v.Real = real[id][p]
					}
					if p < len(got[id]) {
						v.Simulated = got[id][p]
					}
					break
				}
			}
		}
	}
	switch {
	case v.Exact > 0:
		v.Server, v.Index, v.Real, v.Simulated = 0, 0, "", ""
		v.Text = fmt.Sprintf("steps: the real run's %d protocol steps are taken exactly by %d of %d seeds", v.Steps, v.Exact, v.Seeds)
	case v.Real == "":
		v.Text = fmt.Sprintf("steps: no seed of %d takes exactly the real %d steps; the best (seed %d) matches them all but takes more on s%d: %q", v.Seeds, v.Steps, v.Best, v.Server, v.Simulated)
	default:
		sim := v.Simulated
		if sim == "" {
			sim = "nothing more"
		}
		v.Text = fmt.Sprintf("steps: no seed of %d takes the real %d steps; the first real step the best (seed %d, %d matched) does not take is s%d's step %d %q (it takes %s)", v.Seeds, v.Steps, v.Best, v.Matched, v.Server, v.Index+1, v.Real, quoteOr(sim))
	}
	return v
}

func quoteOr(s string) string {
	if s == "nothing more" {
		return s
	}
	return fmt.Sprintf("%q", s)
}

func commonPrefix(a, b []string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// String is the steps, one server a line.
func (s Steps) String() string {
	ids := make([]int, 0, len(s))
	for id := range s {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "s%d: %s\n", id, strings.Join(s[id], ", "))
	}
	return b.String()
}
