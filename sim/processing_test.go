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

// TestLeadAndSnapshotTimes: with Processing.Lead a new leader's learner port is bound only
// that long after it decides (a learner that connects sooner is refused), and with
// Processing.Snapshot no LearnerHandler reads a connection before loadData is done as well.
// Leader's constructor binds the port; Leader.lead() runs zk.loadData() before
// cnxAcceptor.start() (Leader.java).
func TestLeadAndSnapshotTimes(t *testing.T) {
	p := Processing{Lead: Span{Min: 40 * time.Millisecond, Max: 60 * time.Millisecond}, Snapshot: Span{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond}}
	refusedSeen := false
	for seed := uint64(1); seed <= 20; seed++ {
		res, events, decisions := runRecorded(t, processingSpec(seed, p))
		if res.Stop != StopStable {
			t.Fatalf("seed %d: stopped %s", seed, res.Stop)
		}
		var leadingAt protocol.Time = -1
		var leader protocol.ServerID
		for _, e := range events {
			if e.Kind == TrState && e.State == protocol.LEADING {
				leader = e.Server
				break
			}
		}
		drawn := map[DecisionKind]time.Duration{} // the leader's
		for _, d := range decisions {
			if d.A == leader {
				drawn[d.Kind] = time.Duration(d.Value)
			}
		}
		if l := drawn[DecideLeadTime]; l < p.Lead.Min || l > p.Lead.Max {
			t.Fatalf("seed %d: lead time %v drawn outside %v", seed, l, p.Lead)
		}
		accepted := 0
		for _, e := range events {
			if e.Kind == TrState && e.State == protocol.LEADING && leadingAt < 0 {
				leadingAt = e.At
			}
			if leadingAt < 0 {
				continue
			}
			since := time.Duration(e.At - leadingAt)
			switch {
			case e.Kind == TrConnectFailed && since < drawn[DecideLeadTime]+10*time.Millisecond: // the SYN and the reset each take a network delay
				refusedSeen = true
			case e.Kind == TrConnectFailed:
				t.Fatalf("seed %d: a connect refused %v after LEADING, once the port was bound (%v)", seed, since, drawn[DecideLeadTime])
			case e.Kind == TrAccepted:
				accepted++
				if since < drawn[DecideLeadTime]+drawn[DecideSnapshotTime] {
					t.Fatalf("seed %d: a handler accepted %v after LEADING; lead %v, snapshot %v", seed, since, drawn[DecideLeadTime], drawn[DecideSnapshotTime])
				}
			}
		}
		if accepted < 2 {
			t.Fatalf("seed %d: %d accepts", seed, accepted)
		}
	}
	if !refusedSeen {
		t.Fatal("no learner connected before the bind in 20 seeds: the refusal window is untested")
	}
}

// TestBootTime: with Processing.Boot a server is down until its start-up is over, so its
// "New election" (its LOOKING) comes the drawn boot time after its start, and the run does not
// count as stable while a server still boots.
func TestBootTime(t *testing.T) {
	p := Processing{Boot: Span{Min: 100 * time.Millisecond, Max: 900 * time.Millisecond}}
	for seed := uint64(1); seed <= 10; seed++ {
		res, events, decisions := runRecorded(t, processingSpec(seed, p))
		boots := map[protocol.ServerID]time.Duration{}
		for _, d := range decisions {
			if d.Kind == DecideBootTime {
				boots[d.A] = time.Duration(d.Value)
			}
		}
		if len(boots) != 3 || res.Stop != StopStable {
			t.Fatalf("seed %d: boots %v, stop %s", seed, boots, res.Stop)
		}
		started := map[protocol.ServerID]bool{}
		for _, e := range events {
			if e.Kind == TrStart {
				started[e.Server] = true
				if time.Duration(e.At) != boots[e.Server] {
					t.Fatalf("seed %d: s%d started at %v, boot time %v", seed, e.Server, e.At, boots[e.Server])
				}
			}
		}
		if len(started) != 3 {
			t.Fatalf("seed %d: only %d servers started before the run stopped", seed, len(started))
		}
	}
}

// TestPauseWhileBooting: a process stopped while it starts (SIGSTOP during a JVM's boot) takes
// the rest of its start-up after the heal, as a real one does: its QuorumPeer starts the drawn
// boot time, plus the pause, after its restart.
func TestPauseWhileBooting(t *testing.T) {
	p := Processing{Boot: Span{Min: 500 * time.Millisecond, Max: 800 * time.Millisecond}}
	spec := processingSpec(4, p)
	spec.StopWhenStable = false
	spec.Until = protocol.Time(20 * time.Second)
	spec.Faults = []Fault{
		{Kind: FaultCrash, At: protocol.Time(3 * time.Second), Server: 2},
		{Kind: FaultRestart, At: protocol.Time(4 * time.Second), Server: 2},
		{Kind: FaultPause, At: protocol.Time(4*time.Second + 100*time.Millisecond), Heal: protocol.Time(9 * time.Second), Server: 2},
	}
	res, events, decisions := runRecorded(t, spec)
	var boots []time.Duration
	for _, d := range decisions {
		if d.Kind == DecideBootTime && d.A == 2 {
			boots = append(boots, time.Duration(d.Value))
		}
	}
	if len(boots) != 2 {
		t.Fatalf("s2 drew %d boot times, want 2 (start and restart)", len(boots))
	}
	var starts []protocol.Time
	var pauseDetail, resumeDetail string
	for _, e := range events {
		if e.Server != 2 {
			continue
		}
		switch e.Kind {
		case TrStart:
			starts = append(starts, e.At)
		case TrPause:
			pauseDetail = e.Detail
		case TrResume:
			resumeDetail = e.Detail
		}
	}
	want := 4*time.Second + boots[1] + 4900*time.Millisecond
	if len(starts) != 2 || time.Duration(starts[1]) != want {
		t.Fatalf("s2 started at %v; want the restart's start at %v (restart + boot %v + the 4.9s pause)", starts, want, boots[1])
	}
	if pauseDetail != "until 9s, while starting" || resumeDetail == "" {
		t.Fatalf("pause traced as %q, resume as %q", pauseDetail, resumeDetail)
	}
	if !res.Faults[2].Happened {
		t.Fatalf("the pause did not happen: %+v", res.Faults[2])
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
	p := Processing{Boot: Span{Max: 200 * time.Millisecond}, Step: Span{Max: time.Millisecond}, Lead: Span{Min: 10 * time.Millisecond, Max: 90 * time.Millisecond},
		Snapshot: Span{Min: 5 * time.Millisecond, Max: 10 * time.Millisecond}, Sync: Span{Min: 5 * time.Millisecond, Max: 30 * time.Millisecond}}
	a, _, decisions := runRecorded(t, processingSpec(11, p))
	b, _, _ := runRecorded(t, processingSpec(11, p))
	if a.TraceHash != b.TraceHash || a.Events != b.Events {
		t.Fatalf("two runs of one seed differ: %x/%d vs %x/%d", a.TraceHash, a.Events, b.TraceHash, b.Events)
	}
	kinds := map[DecisionKind]int{}
	for _, d := range decisions {
		kinds[d.Kind]++
	}
	if kinds[DecideStepTime] == 0 || kinds[DecideBootTime] != 3 || kinds[DecideLeadTime] != 3 || kinds[DecideSnapshotTime] != 1 || kinds[DecideSyncTime] != 2 {
		t.Fatalf("decisions per kind: %v; want step times, three boots, three role set-ups, one snapshot, two syncs", kinds)
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
	for _, p := range []Processing{{Step: Span{Min: 2, Max: 1}}, {Lead: Span{Min: -1, Max: 1}}, {Sync: Span{Max: 2 * time.Hour}}, {Boot: Span{Min: 5, Max: 4}}, {Snapshot: Span{Min: -5}}} {
		if err := processingSpec(1, p).Validate(); err == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}
