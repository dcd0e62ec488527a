// Package explore enumerates every run of a small cluster within a bound: every order of
// events within their delay windows, every crash and restart at a step boundary, every outcome
// of a durable write and every order of threads woken together, up to a budget of
// perturbations (sim's windowed mode makes each of these a choice). It searches by cost: all
// runs with no perturbation, then all with one, and so on, so the first violation it finds is
// one of the cheapest. A state reached before with at least the same budget left is not
// explored again (a 128-bit digest of the world, its peers and the checker's ghosts: package
// statehash). Each explored run is a real run of the timed model; the counterexample is saved
// as an ordinary run file, replayed in the plain world before it is reported.
package explore

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/sim"
	"zabsim/statehash"
)

// Bound limits an exploration.
type Bound struct {
	// Cost is the most perturbations in one run: every choice other than the default (the
	// earliest event, no fault, the write goes through, threads in the order woken) costs 1.
	Cost int
	// Deviations, Crashes, Restarts, WriteFaults cap each kind (-1: up to Cost). A deviation
	// is an event taken before the earliest, or another thread order.
	Deviations, Crashes, Restarts, WriteFaults int
	// FaultsUntil: no crash or restart after this virtual time (0: the default, 1 s).
	FaultsUntil time.Duration
	// MaxEvents cuts a run after this many events (0: 5,000); a cut run is counted as
	// truncated, judged for safety up to the cut.
	MaxEvents uint64
	// MaxRuns stops the exploration after this many runs (0: no limit); the result is then
	// incomplete.
	MaxRuns int
	// Workers run in parallel (0: the number of CPUs). With more than one the run and state
	// counts vary from one exploration to the next (which run reaches a state first decides
	// what is pruned), the behaviours covered do not.
	Workers int
	// NoPrune turns state matching off (for tests that compare verdicts with and without it).
	NoPrune bool
	// Progress, if set, is called after each cost level.
	Progress func(Level)
	// walker digests states (nil: the rules of rules.go; tests break it on purpose).
	walker *statehash.Walker
}

// Unlimited, as a Cost, makes the search breadth-first over every run: deviations unbounded
// (the faults as capped), until no new state is left. It ends for a model whose runs end.
const Unlimited = 1 << 30

// The kinds of perturbation, for budgets.
const (
	kDeviation = iota
	kCrash
	kRestart
	kWrite
	kinds
)

var kindNames = [kinds]string{"deviations", "crashes", "restarts", "write faults"}

func (b Bound) caps() [kinds]int {
	c := [kinds]int{b.Deviations, b.Crashes, b.Restarts, b.WriteFaults}
	for i := range c {
		if c[i] < 0 || c[i] > b.Cost {
			c[i] = b.Cost
		}
	}
	return c
}

// String says the bound in words.
func (b Bound) String() string {
	c := b.caps()
	s := fmt.Sprintf("cost <= %d (", b.Cost)
	if b.Cost >= Unlimited {
		s = "every run ("
	}
	for i := range c {
		if i > 0 {
			s += ", "
		}
		if c[i] >= Unlimited {
			s += kindNames[i] + " unbounded"
		} else {
			s += fmt.Sprintf("%s <= %d", kindNames[i], c[i])
		}
	}
	return s + fmt.Sprintf("; faults until %s; <= %d events/run)", b.faultsUntil(), b.maxEvents())
}

func (b Bound) faultsUntil() time.Duration {
	if b.FaultsUntil == 0 {
		return time.Second
	}
	return b.FaultsUntil
}

func (b Bound) maxEvents() uint64 {
	if b.MaxEvents == 0 {
		return 5000
	}
	return b.MaxEvents
}

// Level is what one cost level explored.
type Level struct {
	Cost      int     `json:"cost"`
	Runs      int     `json:"runs"`
	States    int     `json:"states"` // distinct states digested so far
	Pruned    int     `json:"pruned"` // runs whose continuation met an explored state
	Truncated int     `json:"truncated"`
	Events    uint64  `json:"events"`
	Seconds   float64 `json:"seconds"`
}

// Result is an exploration's outcome.
type Result struct {
	Bound  string  `json:"bound"`
	Levels []Level `json:"levels"`
	Runs   int     `json:"runs"`
	States int     `json:"states"`
	Events uint64  `json:"events"`
	// Complete: every run within the bound was explored (or stands for one explored).
	Complete bool `json:"complete"`
	// Incomplete says why not.
	Incomplete string          `json:"incomplete,omitempty"`
	Violation  *Counterexample `json:"violation,omitempty"`
	Seconds    float64         `json:"seconds"`
}

// Counterexample is the cheapest violating run found.
type Counterexample struct {
	Invariant string `json:"invariant"`
	Detail    string `json:"detail"`
	At        string `json:"at"`
	Cost      int    `json:"cost"`
	Events    uint64 `json:"events"`
	// Perturbations say in words what the run did differently from the default.
	Perturbations []string `json:"perturbations"`
	// Spec is the run as the plain world replays it: injected faults and every decision.
	Spec sim.RunSpec `json:"-"`
	// Replayed: the plain world replayed Spec and broke the same invariant; ReplayHash is
	// that replay's trace hash and ReplayViolations all it broke.
	ReplayHash       string   `json:"replayHash"`
	ReplayViolations []string `json:"replayViolations"`
}

// perturbation is one non-default choice: at the point-th choice point (counting from 0),
// option opt.
type perturbation struct {
	point int32
	opt   int32
}

// node is one run to make: its parent's perturbations plus one.
type node struct {
	parent *node
	p      perturbation
	cost   int
	used   [kinds]int32
}

func (n *node) perturbations() []perturbation {
	var ps []perturbation
	for ; n != nil && n.cost > 0; n = n.parent {
		ps = append(ps, n.p)
	}
	slices.Reverse(ps)
	return ps
}

// Check explores every run of spec within b. The spec must be valid and windowable (no
// message loss, no processing time, no recorded decisions).
func Check(spec *sim.RunSpec, b Bound) (Result, error) {
	if err := spec.Validate(); err != nil {
		return Result{}, err
	}
	if b.Cost < 0 {
		return Result{}, fmt.Errorf("the cost bound must be at least 0, got %d", b.Cost)
	}
	probe := sim.NewWorld(spec.Clone())
	if err := probe.SetChooser(defaults{}, sim.ChooserOptions{}); err != nil {
		return Result{}, err
	}
	e := &explorer{spec: spec, b: b, caps: b.caps(), visited: map[[2]uint64][][kinds]int32{}}
	start := time.Now()
	res := Result{Bound: b.String(), Complete: true}
	level := []*node{{}}
	var found []*found
	for cost := 0; cost <= b.Cost && len(level) > 0; cost++ {
		t0 := time.Now()
		lv := Level{Cost: cost}
		next, fs, stopped := e.runLevel(level, &lv)
		lv.States = e.states()
		lv.Seconds = time.Since(t0).Seconds()
		res.Levels = append(res.Levels, lv)
		res.Runs += lv.Runs
		res.Events += lv.Events
		if b.Progress != nil {
			b.Progress(lv)
		}
		if len(fs) > 0 {
			found = fs
			break
		}
		if stopped {
			res.Complete = false
			res.Incomplete = fmt.Sprintf("stopped at -max-runs %d during cost level %d", b.MaxRuns, cost)
			break
		}
		level = next
	}
	res.States = e.states()
	if len(found) > 0 {
		// The cheapest level's violating run with the fewest events, the earliest made first.
		best := found[0]
		for _, f := range found[1:] {
			if f.events < best.events || (f.events == best.events && f.order < best.order) {
				best = f
			}
		}
		cx, err := e.counterexample(best)
		res.Violation = cx // with an explorer bug, the run that shows it (nil if there is none)
		if err != nil {
			return res, err
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

type explorer struct {
	spec    *sim.RunSpec
	b       Bound
	caps    [kinds]int
	mu      sync.Mutex
	visited map[[2]uint64][][kinds]int32 // state -> the remaining budgets it was explored with
	runs    int
	order   int
}

type found struct {
	n         *node
	events    uint64
	order     int
	invariant string
	at        protocol.Time
}

func (e *explorer) walker() *statehash.Walker {
	if e.b.walker != nil {
		return e.b.walker
	}
	return defaultWalker
}

func (e *explorer) states() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.visited)
}

// runLevel makes every run of one level and returns the next level's nodes.
func (e *explorer) runLevel(level []*node, lv *Level) (next []*node, fs []*found, stopped bool) {
	workers := e.b.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	workers = min(workers, len(level))
	var mu sync.Mutex
	var wg sync.WaitGroup
	idx := 0
	nexts := make([][]*node, len(level))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRunner(e)
			for {
				mu.Lock()
				if idx >= len(level) || (e.b.MaxRuns > 0 && e.runs >= e.b.MaxRuns) {
					if idx < len(level) {
						stopped = true
					}
					mu.Unlock()
					return
				}
				i := idx
				idx++
				e.runs++
				e.order++
				order := e.order
				mu.Unlock()
				out := r.run(level[i])
				mu.Lock()
				lv.Runs++
				lv.Events += out.events
				if out.truncated {
					lv.Truncated++
				}
				if out.pruned {
					lv.Pruned++
				}
				if out.invariant != "" {
					fs = append(fs, &found{n: level[i], events: out.events, order: order, invariant: out.invariant, at: out.at})
				}
				nexts[i] = out.children
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, n := range nexts {
		next = append(next, n...)
	}
	return next, fs, stopped
}

// defaults takes every default.
type defaults struct{}

func (defaults) Choose(*sim.World, []sim.Choice) int { return 0 }

// runner makes runs: a world and a checker reused between runs.
type runner struct {
	e     *explorer
	w     *sim.World
	c     *checker.Checker
	stop  stopAtViolation
	spec  sim.RunSpec
	canon statehash.Canon
	// the run being made
	n      *node
	ps     []perturbation
	point  int
	last   int32 // the point of the last perturbation (-1: none)
	left   [kinds]int
	total  int
	kids   []*node
	pruned bool
}

type stopAtViolation struct{ c *checker.Checker }

func (s *stopAtViolation) OnTrace(*sim.World, *sim.TraceEvent) {}
func (s *stopAtViolation) AfterStep(w *sim.World) {
	if len(s.c.Violations()) > 0 {
		w.Stop()
	}
}

func newRunner(e *explorer) *runner {
	r := &runner{e: e, w: new(sim.World), c: new(checker.Checker)}
	r.stop.c = r.c
	return r
}

type runOut struct {
	events    uint64
	truncated bool
	pruned    bool
	invariant string
	at        protocol.Time // when it broke
	children  []*node
}

func (r *runner) prepare(n *node, stop bool, ch sim.Chooser) {
	r.spec = *r.e.spec
	r.spec.Faults = slices.Clone(r.e.spec.Faults)
	r.spec.MaxEvents = r.e.b.maxEvents()
	r.n, r.ps, r.point, r.kids, r.pruned = n, n.perturbations(), 0, nil, false
	r.last = -1
	if len(r.ps) > 0 {
		r.last = r.ps[len(r.ps)-1].point
	}
	for k := range r.left {
		r.left[k] = r.e.caps[k] - int(n.used[k])
	}
	r.total = r.e.b.Cost - n.cost
	r.c.Reset(&r.spec)
	if stop {
		r.w.Reset(&r.spec, r.c, &r.stop)
	} else {
		r.w.Reset(&r.spec, r.c)
	}
	if err := r.w.SetChooser(ch, sim.ChooserOptions{FaultsUntil: protocol.Time(r.e.b.faultsUntil()), WriteFaults: true}); err != nil {
		panic(err) // Check made sure the spec is windowable
	}
}

func (r *runner) run(n *node) runOut {
	r.prepare(n, true, r)
	res := r.w.Run()
	r.c.Finish(r.w, res.End, res.Truncated)
	out := runOut{events: res.Events, truncated: res.Truncated, pruned: r.pruned, children: r.kids}
	if v := r.c.Violations(); len(v) > 0 {
		out.invariant, out.at = v[0].Invariant, v[0].At
	}
	return out
}

// kindOf is the budget a non-default option spends.
func kindOf(c sim.Choice) int {
	switch c.Kind {
	case sim.ChoiceCrash:
		return kCrash
	case sim.ChoiceRestart:
		return kRestart
	case sim.ChoiceWriteCrash, sim.ChoiceWriteFails:
		return kWrite
	}
	return kDeviation
}

// Choose follows the run's perturbations, takes the default elsewhere, and, after the last
// perturbation, lists the children: one more perturbation at each later point the budget
// allows, unless the state there was explored with at least this budget.
func (r *runner) Choose(w *sim.World, opts []sim.Choice) int {
	pt := int32(r.point)
	r.point++
	if len(r.ps) > 0 && r.ps[0].point == pt {
		o := r.ps[0].opt
		r.ps = r.ps[1:]
		return int(o)
	}
	if pt <= r.last || r.pruned || r.total == 0 {
		return 0
	}
	any := false
	for _, o := range opts[1:] {
		if r.left[kindOf(o)] > 0 {
			any = true
			break
		}
	}
	if !any {
		return 0
	}
	if !r.e.b.NoPrune {
		h := statehash.New()
		r.canon.Reset()
		sw := stateWalker{r.e.walker()}
		r.w.AppendState(&h, &r.canon, sw)
		sw.w.Walk(&h, &r.canon, r.c)
		h.I64(int64(len(opts))) // the options at this point are the state's, but say so
		var left [kinds]int32
		for k := range left {
			left[k] = int32(r.left[k])
		}
		if r.e.seen(h.Sum(), left) {
			r.pruned = true
			return 0
		}
	}
	for i, o := range opts[1:] {
		k := kindOf(o)
		if r.left[k] == 0 {
			continue
		}
		child := &node{parent: r.n, p: perturbation{point: pt, opt: int32(i + 1)}, cost: r.n.cost + 1, used: r.n.used}
		child.used[k]++
		r.kids = append(r.kids, child)
	}
	return 0
}

// seen records state s as explored with budget left and reports whether it already was with
// at least as much of every kind.
func (e *explorer) seen(s [2]uint64, left [kinds]int32) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	vs := e.visited[s]
	for _, v := range vs {
		if dominates(v, left) {
			return true
		}
	}
	kept := vs[:0]
	for _, v := range vs {
		if !dominates(left, v) {
			kept = append(kept, v)
		}
	}
	e.visited[s] = append(kept, left)
	return false
}

func dominates(a, b [kinds]int32) bool {
	for k := range a {
		if a[k] < b[k] {
			return false
		}
	}
	return true
}

// describer records, in a full re-run of a found node, what each perturbation did.
type describer struct {
	r     *runner
	words []string
}

func (d *describer) Choose(w *sim.World, opts []sim.Choice) int {
	r := d.r
	pt := int32(r.point)
	r.point++
	if len(r.ps) > 0 && r.ps[0].point == pt {
		o := r.ps[0].opt
		r.ps = r.ps[1:]
		d.words = append(d.words, w.Describe(opts[o])+fmt.Sprintf(" (instead of %s)", w.Describe(opts[0])))
		return int(o)
	}
	return 0
}

// counterexample re-runs a found node, without stopping at the violation but ending at its
// time (the run file must answer every question the plain world asks before it ends),
// describes it, and replays the result in the plain world.
func (e *explorer) counterexample(f *found) (*Counterexample, error) {
	r := newRunner(e)
	d := &describer{r: r}
	r.prepare(f.n, false, d)
	// The run file ends where the violation is: a replay asks exactly the questions this run
	// answered, and the file stays small (a knob's election storm after it would not).
	r.spec.Until = min(r.spec.Until, f.at)
	res := r.w.Run()
	r.c.Finish(r.w, res.End, res.Truncated)
	vs := r.c.Violations()
	if len(vs) == 0 {
		return nil, fmt.Errorf("explorer bug: the run that broke %s breaks nothing when run to its end", f.invariant)
	}
	spec := r.w.Spec().Clone()
	spec.Decisions = slices.Clone(r.w.Decisions())
	if spec.Decisions == nil {
		spec.Decisions = []sim.Decision{}
	}
	// The file ends at the violation (Until), within the explored run's events; a write fault
	// is one more event in the plain world (its arming), so the cap is the spec's own.
	spec.MaxEvents = e.spec.MaxEvents
	cx := &Counterexample{Invariant: f.invariant, Cost: f.n.cost, Events: f.events, Perturbations: d.words, Spec: *spec}
	for _, v := range vs {
		if v.Invariant == f.invariant {
			cx.Detail, cx.At = v.Detail, protocol.FormatTime(v.At)
			break
		}
	}
	rep, err := checker.Run(spec.Clone(), checker.Options{})
	if err != nil {
		return nil, fmt.Errorf("explorer bug: the counterexample does not replay: %w", err)
	}
	if rep.Divergence != "" {
		return cx, fmt.Errorf("explorer bug: the counterexample diverges in the plain world: %s", rep.Divergence)
	}
	cx.ReplayHash, cx.ReplayViolations = rep.TraceHash, rep.ViolationNames()
	if !slices.Contains(cx.ReplayViolations, f.invariant) {
		return cx, fmt.Errorf("explorer bug: the plain world replays the counterexample without breaking %s (it broke %v)", f.invariant, cx.ReplayViolations)
	}
	return cx, nil
}
