package checker

import (
	"fmt"
	"sync"

	"zabsim/sim"
)

// Options tune one checked run.
type Options struct {
	// KeepTrace keeps every trace event in Report.Trace (for timelines and tests).
	KeepTrace bool
	// StopAtFirstViolation ends the run at the first broken invariant.
	StopAtFirstViolation bool
	// Mutator breaks the protocol on purpose (tests that prove an invariant fires).
	Mutator *sim.Mutator
	// RecordDecisions keeps every random choice of the run in Report.Decisions, for a run file
	// that replays the choices rather than the seed.
	RecordDecisions bool
}

// PanicError is a broken assumption inside the simulator or the protocol, recovered with the
// seed and the event it happened at. It is a bug in zabsim, not in the input.
type PanicError struct{ Msg string }

func (e *PanicError) Error() string { return e.Msg }

// Run validates spec, runs it with every invariant checked after every event, judges liveness
// and returns the report. An invalid spec is an error listing every problem; a broken
// assumption inside the simulator (a panic) is an error naming the seed and the event.
func Run(spec *sim.RunSpec, opts Options) (rep *Report, err error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	r := runners.Get().(*runner)
	defer runners.Put(r)
	c, w := &r.c, &r.w
	c.Reset(spec)
	c.report.keepTrace = opts.KeepTrace
	r.stop.c = c
	if opts.StopAtFirstViolation {
		w.Reset(spec, c, &r.stop)
	} else {
		w.Reset(spec, c)
	}
	w.SetMutator(opts.Mutator)
	if opts.RecordDecisions {
		w.RecordDecisions()
	}
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Msg: fmt.Sprintf("scenario %q seed %d: broken assumption at %s after %d events: %v",
				spec.Scenario, spec.Seed, w.Now(), w.Events(), r)}
		}
	}()
	res := w.Run()
	liveness := c.Finish(w, res.End, res.Truncated)
	rep = c.build(w, res, liveness)
	if opts.RecordDecisions {
		rep.Decisions = append([]sim.Decision(nil), w.Decisions()...)
	}
	return rep, nil
}

// runner is the storage of one run, pooled: a sweep reuses worlds, peers and checkers instead
// of allocating them for every run. Nothing of it escapes into the report.
type runner struct {
	c    Checker
	w    sim.World
	stop stopper
}

var runners = sync.Pool{New: func() any { return new(runner) }}

type stopper struct{ c *Checker }

func (s *stopper) OnTrace(*sim.World, *sim.TraceEvent) {}

func (s *stopper) AfterStep(w *sim.World) {
	if len(s.c.violations) > 0 {
		w.Stop()
	}
}
