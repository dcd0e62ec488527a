package sim

import (
	"testing"
	"time"

	"zabsim/protocol"
)

func processingSpec(seed uint64, p Processing) *RunSpec {
	cfg := protocol.DefaultConfig([]protocol.ServerID{1, 2, 3}, nil)
	opts := DefaultOptions()
	opts.Processing = p
	return &RunSpec{Seed: seed, Config: cfg, Options: opts, Until: protocol.Time(60 * time.Second), StopWhenStable: true}
}

func runRecorded(t *testing.T, spec *RunSpec) (Result, []TraceEvent, []Decision) {
	t.Helper()
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	rec := &Recorder{}
	w := NewWorld(spec, rec)
	w.RecordDecisions()
	res := w.Run()
	return res, rec.Events, append([]Decision(nil), w.Decisions()...)
}

// TestLeadTimeHoldsLearnerHandlers: with Processing.Lead, a new leader's learner port takes
// connects (they complete in the kernel) but no LearnerHandler reads one before the drawn
// lead time has passed since it started leading. Leader.lead() runs zk.loadData() before
// cnxAcceptor.start() (Leader.java); the sockets were bound in Leader's constructor.
func TestLeadTimeHoldsLearnerHandlers(t *testing.T) {
	lead := Span{Min: 40 * time.Millisecond, Max: 60 * time.Millisecond}
	for seed := uint64(1); seed <= 20; seed++ {
		res, events, decisions := runRecorded(t, processingSpec(seed, Processing{Lead: lead}))
		if res.Stop != StopStable {
			t.Fatalf("seed %d: stopped %s", seed, res.Stop)
		}
		var leadingAt protocol.Time = -1
		var drawn time.Duration = -1
		for _, d := range decisions {
			if d.Kind == DecideLeadTime {
				drawn = time.Duration(d.Value)
			}
		}
		if drawn < lead.Min || drawn > lead.Max {
			t.Fatalf("seed %d: lead time %v drawn outside %v..%v", seed, drawn, lead.Min, lead.Max)
		}
		accepted := 0
		for _, e := range events {
			if e.Kind == TrState && e.State == protocol.LEADING && leadingAt < 0 {
				leadingAt = e.At
			}
			if e.Kind == TrAccepted {
				accepted++
				if leadingAt < 0 || time.Duration(e.At-leadingAt) < drawn {
					t.Fatalf("seed %d: a handler accepted at %v, %v after LEADING at %v; lead time %v", seed, e.At, time.Duration(e.At-leadingAt), leadingAt, drawn)
				}
			}
		}
		if accepted < 2 {
			t.Fatalf("seed %d: %d accepts", seed, accepted)
		}
	}
}

// TestStepTimeSerialisesAServer: with Processing.Step, a server handles one input at a time:
// two inputs it takes are at least the smaller drawn step time apart, and nothing it takes is
// lost (the run still establishes, with the same milestones).
func TestStepTimeSerialisesAServer(t *testing.T) {
	step := Span{Min: 2 * time.Millisecond, Max: 3 * time.Millisecond}
	res, events, decisions := runRecorded(t, processingSpec(3, Processing{Step: step}))
	if res.Stop != StopStable {
		t.Fatalf("stopped %s", res.Stop)
	}
	steps := 0
	for _, d := range decisions {
		if d.Kind == DecideStepTime {
			steps++
		}
	}
	if steps < 10 {
		t.Fatalf("only %d step times drawn", steps)
	}
	last := map[protocol.ServerID]protocol.Time{}
	for _, e := range events {
		switch e.Kind {
		case TrRecv, TrTimer, TrConnected, TrClosed, TrAccepted:
		default:
			continue
		}
		if at, ok := last[e.Server]; ok && e.At != at && time.Duration(e.At-at) < step.Min {
			t.Fatalf("s%d took inputs at %v and %v, less than %v apart", e.Server, at, e.At, step.Min)
		}
		last[e.Server] = e.At
	}
}

// TestProcessingIsDeterministicAndReplays: the same seed gives the same run, and the recorded
// decisions (step, lead and sync times among them) replay it without the seed.
func TestProcessingIsDeterministicAndReplays(t *testing.T) {
	p := Processing{Step: Span{Max: time.Millisecond}, Lead: Span{Min: 10 * time.Millisecond, Max: 90 * time.Millisecond},
		Sync: Span{Min: 5 * time.Millisecond, Max: 30 * time.Millisecond}}
	a, _, decisions := runRecorded(t, processingSpec(11, p))
	b, _, _ := runRecorded(t, processingSpec(11, p))
	if a.TraceHash != b.TraceHash || a.Events != b.Events {
		t.Fatalf("two runs of one seed differ: %x/%d vs %x/%d", a.TraceHash, a.Events, b.TraceHash, b.Events)
	}
	kinds := map[DecisionKind]int{}
	for _, d := range decisions {
		kinds[d.Kind]++
	}
	if kinds[DecideStepTime] == 0 || kinds[DecideLeadTime] != 1 || kinds[DecideSyncTime] != 2 {
		t.Fatalf("decisions per kind: %v; want step times, one lead time, two sync times", kinds)
	}
	replay := processingSpec(999, p)
	replay.Decisions = decisions
	c, _, _ := runRecorded(t, replay)
	if c.Divergence != "" || c.TraceHash != a.TraceHash {
		t.Fatalf("replay: %q, hash %x, want %x", c.Divergence, c.TraceHash, a.TraceHash)
	}
	plain, _, _ := runRecorded(t, processingSpec(11, Processing{}))
	if plain.TraceHash == a.TraceHash || plain.End >= a.End {
		t.Fatalf("processing time changed nothing: %x ended %v, without %x ended %v", a.TraceHash, a.End, plain.TraceHash, plain.End)
	}
}

// TestProcessingValidated: spans must be ordered, non-negative and at most an hour.
func TestProcessingValidated(t *testing.T) {
	for _, p := range []Processing{{Step: Span{Min: 2, Max: 1}}, {Lead: Span{Min: -1, Max: 1}}, {Sync: Span{Max: 2 * time.Hour}}} {
		if err := processingSpec(1, p).Validate(); err == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}
