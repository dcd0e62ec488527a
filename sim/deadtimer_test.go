package sim_test

import (
	"strings"
	"testing"

	"zabsim/scenarios"
	"zabsim/sim"
)

// traceLines collects a run's trace as text; with skipDead it leaves out the timer lines whose
// peer, just before the step, called the timer dead (TimerLive false).
type traceLines struct {
	skipDead bool
	lines    []string
	dead     int
}

func (t *traceLines) OnTrace(w *sim.World, e *sim.TraceEvent) {
	if t.skipDead && e.Kind == sim.TrTimer {
		if p := w.Peer(w.Index(e.Server)); p != nil && !p.TimerLive(e.Timer) {
			t.dead++
			return
		}
	}
	t.lines = append(t.lines, e.String())
}

func (t *traceLines) AfterStep(*sim.World) {}

// TestDroppingDeadTimersChangesNothingElse runs catalogue scenarios and generated runs twice:
// as the world runs them, dropping the timers a peer would ignore, and firing those timers as
// it did before. The traces must be line for line the same once the fired dead timers are left
// out (a timer TimerLive calls dead changes nothing when it fires, so TimerLive mirrors every
// test the step functions make), and the hashes and event counts equal. Runs with processing
// time fire them either way.
func TestDroppingDeadTimersChangesNothingElse(t *testing.T) {
	var specs []*sim.RunSpec
	for _, sc := range scenarios.All() {
		for seed := uint64(1); seed <= 2; seed++ {
			specs = append(specs, sc.Build(seed))
		}
	}
	random, err := scenarios.Lookup("random")
	if err != nil {
		t.Fatal(err)
	}
	for seed := uint64(0); seed < 150; seed++ {
		specs = append(specs, random.Build(seed))
	}
	compared, dead, dropped := 0, 0, uint64(0)
	for _, spec := range specs {
		if !spec.Options.Processing.IsZero() || spec.Decisions != nil {
			continue
		}
		drop := &traceLines{}
		res := sim.NewWorld(spec, drop).Run()
		keep := &traceLines{skipDead: true}
		w := sim.NewWorld(spec, keep)
		w.KeepDeadTimers()
		kres := w.Run()
		if kres.DeadTimers != 0 {
			t.Fatalf("%s seed %d: a world that keeps dead timers dropped %d", spec.Scenario, spec.Seed, kres.DeadTimers)
		}
		compared++
		dead += keep.dead
		dropped += res.DeadTimers
		if got, want := strings.Join(drop.lines, "\n"), strings.Join(keep.lines, "\n"); got != want {
			for i := range min(len(drop.lines), len(keep.lines)) {
				if drop.lines[i] != keep.lines[i] {
					t.Fatalf("%s seed %d: the traces part at line %d:\n  dropping: %s\n  firing:   %s", spec.Scenario, spec.Seed, i, drop.lines[i], keep.lines[i])
				}
			}
			t.Fatalf("%s seed %d: %d lines dropping dead timers, %d firing them", spec.Scenario, spec.Seed, len(drop.lines), len(keep.lines))
		}
		if res.TraceHash != kres.TraceHash || res.Events != kres.Events {
			t.Fatalf("%s seed %d: hash %016x, %d events dropping dead timers; %016x, %d firing them", spec.Scenario, spec.Seed,
				res.TraceHash, res.Events, kres.TraceHash, kres.Events)
		}
		if keep.dead != int(res.DeadTimers) {
			t.Fatalf("%s seed %d: %d dead timers fired, %d dropped", spec.Scenario, spec.Seed, keep.dead, res.DeadTimers)
		}
	}
	if compared < 200 || dead == 0 {
		t.Fatalf("compared %d runs with %d dead timers: the test saw too little", compared, dead)
	}
	t.Logf("%d runs compared, %d dead timers dropped", compared, dropped)
}
