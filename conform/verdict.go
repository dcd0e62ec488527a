package conform

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"zabsim/checker"
	"zabsim/sim"
)

// Simulated is the simulator's side of a comparison: the outcomes of one scenario over many
// seeds.
type Simulated struct {
	Seeds int `json:"seeds"`
	// Outcomes are the distinct outcome keys, the most frequent first.
	Outcomes []Share `json:"outcomes"`
	// Runs holds each seed's outcome, in seed order.
	Runs []Outcome `json:"-"`
}

// Share is one distinct outcome and how many seeds produced it.
type Share struct {
	Key   string `json:"key"`
	Seeds int    `json:"seeds"`
	// First is the first seed that produced it (to replay with `zabsim run -seed`).
	First uint64 `json:"firstSeed"`
}

// Simulate runs spec with seeds 1..n, every invariant on, and collects the outcomes. A run
// that breaks an invariant is an error: a comparison of a broken model says nothing.
func Simulate(spec *sim.RunSpec, n int) (*Simulated, error) {
	out := &Simulated{Seeds: n}
	idx := map[string]int{}
	for seed := uint64(1); seed <= uint64(n); seed++ {
		s := *spec
		s.Seed = seed
		rep, err := checker.Run(&s, checker.Options{KeepTrace: true})
		if err != nil {
			return nil, err
		}
		if len(rep.Violations) > 0 && len(spec.Config.Knobs.Enabled()) == 0 {
			return nil, fmt.Errorf("seed %d breaks %s in the simulator", seed, rep.Violations[0].Invariant)
		}
		o := FromReport(&s, rep)
		out.Runs = append(out.Runs, o)
		k := o.Key()
		if i, ok := idx[k]; ok {
			out.Outcomes[i].Seeds++
			continue
		}
		idx[k] = len(out.Outcomes)
		out.Outcomes = append(out.Outcomes, Share{Key: k, Seeds: 1, First: seed})
	}
	slices.SortStableFunc(out.Outcomes, func(a, b Share) int { return b.Seeds - a.Seeds })
	return out, nil
}

// Verdict is the judgement of one real run against the simulator.
type Verdict struct {
	// Agree: the real outcome is one the simulator produces.
	Agree bool `json:"agree"`
	// Share is how many of the simulator's seeds produced the real outcome.
	Share int `json:"share"`
	Seeds int `json:"seeds"`
	// Text says it in a sentence.
	Text string `json:"text"`
}

// Judge compares the real outcome with the simulator's.
func Judge(real *Outcome, s *Simulated) Verdict {
	k := real.Key()
	v := Verdict{Seeds: s.Seeds}
	for _, sh := range s.Outcomes {
		if sh.Key == k {
			v.Agree, v.Share = true, sh.Seeds
		}
	}
	switch {
	case v.Agree && len(s.Outcomes) == 1:
		v.Text = fmt.Sprintf("AGREE: the real outcome is the simulator's on all %d seeds", s.Seeds)
	case v.Agree:
		v.Text = fmt.Sprintf("AGREE: the real outcome is one the simulator produces (%d of %d seeds; %d distinct simulated outcomes)", v.Share, s.Seeds, len(s.Outcomes))
	default:
		v.Text = fmt.Sprintf("MISMATCH: no seed of %d produces the real outcome (%d distinct simulated outcomes)", s.Seeds, len(s.Outcomes))
	}
	return v
}

// Nearest is the simulated run to show beside the real one: one with the real outcome if there
// is one, else one of the most frequent outcome.
func (s *Simulated) Nearest(real *Outcome) *Outcome {
	k := real.Key()
	for i := range s.Runs {
		if s.Runs[i].Key() == k {
			return &s.Runs[i]
		}
	}
	if len(s.Outcomes) == 0 {
		return &Outcome{}
	}
	for i := range s.Runs {
		if s.Runs[i].Key() == s.Outcomes[0].Key {
			return &s.Runs[i]
		}
	}
	return &s.Runs[0]
}

// Stat summarises one span over runs.
type Stat struct {
	N                int
	Min, Median, Max time.Duration
}

func (s Stat) String() string {
	if s.N == 0 {
		return "-"
	}
	if s.N == 1 {
		return ms(s.Min)
	}
	return fmt.Sprintf("%s [%s..%s] n=%d", ms(s.Median), ms(s.Min), ms(s.Max), s.N)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond)) }

// StatOf summarises ds.
func StatOf(ds []time.Duration) Stat {
	if len(ds) == 0 {
		return Stat{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return Stat{N: len(s), Min: s[0], Median: s[len(s)/2], Max: s[len(s)-1]}
}

// SpanNames are the spans a report shows, in order, with their accessors.
var SpanNames = []struct {
	Name, Short string
	Get         func(*Spans) []time.Duration
}{
	{"FLE decision (New election to decided)", "decision", func(s *Spans) []time.Duration { return s.Decision }},
	{"leader's decision to NEWLEADER quorum", "to quorum", func(s *Spans) []time.Duration { return s.ToQuorum }},
	{"late joiner's decision", "joiner", func(s *Spans) []time.Duration { return s.Joiner }},
	{"refused learner: decision to connected", "refused retry", func(s *Spans) []time.Duration { return s.RefusedRetry }},
	{"restart to UPTODATE", "rejoin", func(s *Spans) []time.Duration { return s.Rejoin }},
}

// Pool gathers one span over several outcomes.
func Pool(os []Outcome, get func(*Spans) []time.Duration) []time.Duration {
	var out []time.Duration
	for i := range os {
		out = append(out, get(&os[i].Spans)...)
	}
	return out
}

// WriteSideBySide prints the real outcome and the nearest simulated one field by field, the
// simulator's outcome distribution, the spans, and the verdict.
func WriteSideBySide(w io.Writer, real *Outcome, reals []Outcome, s *Simulated, v Verdict) {
	near := s.Nearest(real)
	row := func(field, a, b string) {
		mark := " "
		if a != b {
			mark = "≠"
		}
		fmt.Fprintf(w, "  %s %-34s %-30s %s\n", mark, field, a, b)
	}
	fmt.Fprintf(w, "  %s %-34s %-30s %s\n", " ", "field", "real", "simulated")
	row("established (leader@epoch)", ensembles(real.Established), ensembles(near.Established))
	ids := map[int]bool{}
	for _, x := range append(slices.Clone(real.Servers), near.Servers...) {
		ids[x.ID] = true
	}
	for _, id := range sortedKeys(ids) {
		row(fmt.Sprintf("s%d role", id), server(real.Servers, id, "role"), server(near.Servers, id, "role"))
		row(fmt.Sprintf("s%d acceptedEpoch/currentEpoch", id), server(real.Servers, id, "epochs"), server(near.Servers, id, "epochs"))
	}
	row("syncs (learner<-leader@epoch)", syncs(real.Syncs), syncs(near.Syncs))
	row("timeouts and refusals", endsText(real.Ends), endsText(near.Ends))
	row("refused connects", counts(real.Refused), counts(near.Refused))
	if len(s.Outcomes) > 1 {
		fmt.Fprintf(w, "\n  simulated outcomes over %d seeds:\n", s.Seeds)
		for _, sh := range s.Outcomes {
			mark := " "
			if sh.Key == real.Key() {
				mark = "*"
			}
			fmt.Fprintf(w, "   %s %3d seeds (first %d): %s\n", mark, sh.Seeds, sh.First, sh.Key)
		}
	}
	fmt.Fprintf(w, "\n  %-40s %-34s %s\n", "span", "real", "simulated (all seeds)")
	for _, sn := range SpanNames {
		r, m := StatOf(Pool(reals, sn.Get)), StatOf(Pool(s.Runs, sn.Get))
		if r.N == 0 && m.N == 0 {
			continue
		}
		fmt.Fprintf(w, "  %-40s %-34s %s\n", sn.Name, r, m)
	}
	fmt.Fprintf(w, "\n  %s\n", v.Text)
	if len(real.Steps) > 0 {
		// Trace validation: the real protocol steps, server by server, searched for in the seeds.
		fmt.Fprintf(w, "\n  real protocol steps, per server (a loop written once, marked %s):\n", repeated)
		for _, line := range strings.Split(strings.TrimRight(real.Steps.Collapsed().String(), "\n"), "\n") {
			fmt.Fprintf(w, "    %s\n", line)
		}
		fmt.Fprintf(w, "  %s\n", Validate(real, s).Text)
	}
}

func ensembles(es []Ensemble) string {
	var p []string
	for _, e := range es {
		p = append(p, fmt.Sprintf("%d@%d", e.Leader, e.Epoch))
	}
	return orNone(p)
}

func server(ss []Server, id int, what string) string {
	for _, s := range ss {
		if s.ID == id {
			if what == "role" {
				return s.Role
			}
			return fmt.Sprintf("%d/%d", s.AcceptedEpoch, s.CurrentEpoch)
		}
	}
	return "?"
}

func syncs(ss []Sync) string {
	var p []string
	for _, s := range ss {
		p = append(p, fmt.Sprintf("%d<-%d@%d %s", s.Learner, s.Leader, s.Epoch, s.Mode))
	}
	slices.Sort(p)
	return orNone(slices.Compact(p))
}

func endsText(es []End) string {
	var p []string
	for _, e := range es {
		p = append(p, fmt.Sprintf("s%d %s", e.Server, e.Kind))
	}
	slices.Sort(p)
	return orNone(slices.Compact(p))
}

func counts(cs []Count) string {
	var p []string
	for _, c := range cs {
		p = append(p, fmt.Sprintf("s%d:%d", c.Server, c.N))
	}
	return orNone(p)
}

func orNone(p []string) string {
	if len(p) == 0 {
		return "none"
	}
	return strings.Join(p, ", ")
}

func sortedKeys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
