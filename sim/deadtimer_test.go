package sim_test

import (
	"fmt"
	"strings"
	"testing"

	"zabsim/protocol"
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
	compared, dropped, parted := compareDeadTimers(t, deadTimerSpecs(t), nil)
	if parted != "" {
		t.Fatal(parted)
	}
	if compared < 200 || dropped == 0 {
		t.Fatalf("compared %d runs with %d dead timers: the test saw too little", compared, dropped)
	}
	t.Logf("%d runs compared, %d dead timers dropped", compared, dropped)
}

// TestWrongTimerLiveIsCaught: a world that calls a live timer dead (here a learner's read
// timeout once the learner is in BROADCAST, so a leader that went silent is never left) makes
// the comparison above fail.
func TestWrongTimerLiveIsCaught(t *testing.T) {
	wrong := func(p *protocol.QuorumPeer, timer protocol.TimerID) bool {
		if timer.Kind == protocol.TimerLearnerRead && p.Role().Synced {
			return false
		}
		return p.TimerLive(timer)
	}
	if _, _, parted := compareDeadTimers(t, deadTimerSpecs(t), wrong); parted == "" {
		t.Fatal("a TimerLive that drops live read timeouts went unnoticed")
	} else {
		t.Log(parted)
	}
}

func deadTimerSpecs(t *testing.T) []*sim.RunSpec {
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
	return specs
}

// compareDeadTimers runs each spec dropping dead timers (asking live, if set, instead of
// TimerLive) and firing them, and returns how many runs it compared, how many timers were
// dropped, and the first difference ("" if none).
func compareDeadTimers(t *testing.T, specs []*sim.RunSpec, live func(*protocol.QuorumPeer, protocol.TimerID) bool) (int, uint64, string) {
	compared, dropped := 0, uint64(0)
	for _, spec := range specs {
		if !spec.Options.Processing.IsZero() || spec.Decisions != nil {
			continue
		}
		drop := &traceLines{}
		dw := sim.NewWorld(spec, drop)
		if live != nil {
			dw.OverrideTimerLive(live)
		}
		res := dw.Run()
		keep := &traceLines{skipDead: true}
		w := sim.NewWorld(spec, keep)
		w.KeepDeadTimers()
		kres := w.Run()
		if kres.DeadTimers != 0 {
			t.Fatalf("%s seed %d: a world that keeps dead timers dropped %d", spec.Scenario, spec.Seed, kres.DeadTimers)
		}
		compared++
		dropped += res.DeadTimers
		if got, want := strings.Join(drop.lines, "\n"), strings.Join(keep.lines, "\n"); got != want {
			for i := range min(len(drop.lines), len(keep.lines)) {
				if drop.lines[i] != keep.lines[i] {
					return compared, dropped, fmt.Sprintf("%s seed %d: the traces part at line %d:\n  dropping: %s\n  firing:   %s", spec.Scenario, spec.Seed, i, drop.lines[i], keep.lines[i])
				}
			}
			return compared, dropped, fmt.Sprintf("%s seed %d: %d lines dropping dead timers, %d firing them", spec.Scenario, spec.Seed, len(drop.lines), len(keep.lines))
		}
		if res.TraceHash != kres.TraceHash || res.Events != kres.Events {
			return compared, dropped, fmt.Sprintf("%s seed %d: hash %016x, %d events dropping dead timers; %016x, %d firing them", spec.Scenario, spec.Seed,
				res.TraceHash, res.Events, kres.TraceHash, kres.Events)
		}
		if live == nil && keep.dead != int(res.DeadTimers) {
			return compared, dropped, fmt.Sprintf("%s seed %d: %d dead timers fired, %d dropped", spec.Scenario, spec.Seed, keep.dead, res.DeadTimers)
		}
	}
	return compared, dropped, ""
}
