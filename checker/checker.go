// Package checker judges runs: safety invariants after every event (shared/spec/invariants.md),
// liveness once the faults heal, and the report a run leaves. It watches the world through
// sim.Observer and read-only views and never changes anything.
//
// Layout: one invariant per inv_*.go file, listed in the table of invariants.go; the ghosts
// they share in tracker.go; the value view of the world in view.go; this file is the door
// (sim.Observer) and the dispatcher.
package checker

import (
	"slices"

	"zabsim/protocol"
	"zabsim/sim"
)

// Violation is one broken invariant, with the virtual time and the servers involved.
type Violation struct {
	Invariant string
	At        protocol.Time
	Servers   []protocol.ServerID
	Detail    string
	// TraceIndex is the index in the trace of the last event seen when the invariant broke
	// (-1: before any), where a viewer marks it.
	TraceIndex int
}

// Checker is a sim.Observer that evaluates the invariants.
type Checker struct {
	spec *sim.RunSpec
	cfg  *protocol.Config
	record
	t         tracker
	env       env
	judges    [len(table)]judge
	afters    []afterStepper // the judges of afterSteps, in that order
	outsiders []Outsider
	report    reportBuilder
}

// New returns a checker for spec.
func New(spec *sim.RunSpec) *Checker {
	c := &Checker{}
	c.Reset(spec)
	return c
}

// Reset makes c a fresh checker for spec, reusing its storage.
func (c *Checker) Reset(spec *sim.RunSpec) {
	n := len(spec.Config.Servers)
	c.spec, c.cfg = spec, &spec.Config
	c.record = record{counts: resize(c.counts, len(table))}
	c.t.reset(spec)
	c.env = env{cfg: c.cfg, spec: spec, t: &c.t, rec: &c.record}
	for i := range table {
		if c.judges[i] == nil && table[i].judge != nil {
			c.judges[i] = table[i].judge()
		}
		if r, ok := c.judges[i].(resetter); ok {
			r.reset(n)
		}
	}
	if c.afters == nil {
		for _, i := range afterSteps {
			c.afters = append(c.afters, c.judges[i].(afterStepper))
		}
	}
	c.outsiders = nil
	c.report.reset()
}

// Violations returns what was found so far: the first violation of each invariant.
func (c *Checker) Violations() []Violation { return c.violations }

// Count returns how many times the invariant was violated.
func (c *Checker) Count(invariant string) int {
	if i := slices.Index(Invariants, invariant); i >= 0 {
		return c.counts[i]
	}
	return 0
}

// OnTrace judges the event with the invariants that want its kind, then lets the tracker
// apply it.
func (c *Checker) OnTrace(w *sim.World, e *sim.TraceEvent) {
	c.traced++
	c.report.onTrace(e)
	x := &c.env
	x.view, x.srv = view{w}, w.Index(e.Server)
	for _, i := range judgesOf(e) {
		c.judges[i].event(x, e)
	}
	c.t.event(x, e)
}

// AfterStep lets the tracker bring its time-dependent ghosts up to date, then judges what
// depends on elapsed time.
func (c *Checker) AfterStep(w *sim.World) {
	x := &c.env
	x.view = view{w}
	c.t.afterStep(x)
	for _, j := range c.afters {
		j.afterStep(x)
	}
}

// OnFaultAdded: a windowed run (package explore) added a fault to the spec. Liveness is judged
// from the last fault as if the spec had had it from the start, as its replay has.
//
// The fault is added in the middle of an instant; the replay has it armed before the instant's
// first step, after which it asks whether a leader is established. So when a step of this
// instant came before, its answer then is the one the replay got (tracker.firstAt).
func (c *Checker) OnFaultAdded(w *sim.World) {
	t := &c.t
	t.heals = c.spec.FaultsHeal()
	if h := c.spec.LastHeal(); h > t.healAt {
		t.healAt, t.healSeen, t.livenessMet = h, false, false
		if now := w.Now(); t.firstAt == now && now >= h {
			t.healSeen, t.dirty = true, true
			if t.firstEstablished {
				t.livenessMet, t.livenessAt = true, now
			}
		}
	}
}

// unfiltered, set only by a test, dispatches by trace kind alone (every note and message to
// every judge of its kind), to show the narrower tables change no verdict.
var unfiltered bool

// judgesOf lists the judges that want e: by its kind, and for notes and messages by their
// note kind or packet type.
func judgesOf(e *sim.TraceEvent) []uint8 {
	if unfiltered {
		if int(e.Kind) < len(byKind) {
			return byKind[e.Kind]
		}
		return nil
	}
	switch k := e.Kind; {
	case k == sim.TrNote && int(e.Note.Kind) < len(byNote):
		return byNote[e.Note.Kind]
	case k == sim.TrSend && int(e.Msg.Type) < len(bySend):
		return bySend[e.Msg.Type]
	case k == sim.TrRecv && int(e.Msg.Type) < len(byRecv):
		return byRecv[e.Msg.Type]
	case int(k) < len(byKind):
		return byKind[k]
	}
	return nil
}
