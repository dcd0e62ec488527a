package explore

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/scenarios"
	"zabsim/sim"
)

// plainOrders takes the default of every choice but the thread orders, which it takes from a
// plain run's decisions (the plain world draws them even with no jitter anywhere).
type plainOrders struct{ ranks []int64 }

func (c *plainOrders) Choose(_ *sim.World, opts []sim.Choice) int {
	if opts[0].Kind != sim.ChoiceOrder || len(c.ranks) == 0 {
		return 0
	}
	r := c.ranks[0]
	c.ranks = c.ranks[1:]
	return int(r)
}

// lines records every trace line without its event number.
type lines struct{ got []string }

func (l *lines) OnTrace(_ *sim.World, e *sim.TraceEvent) {
	c := *e
	c.Step = 0
	l.got = append(l.got, c.String())
}
func (l *lines) AfterStep(*sim.World) {}

// windowable reports whether windowed mode takes the spec as it is.
func windowable(s *sim.RunSpec) bool {
	return s.Options.Processing.IsZero() && s.Options.MessageLossProbability.Num == 0 && s.Decisions == nil
}

// With no jitter anywhere every window is one instant, so the default choice at every point is
// the plain world's next event: same trace, same hash, same event count.
func TestWindowedDefaultIsThePlainWorld(t *testing.T) {
	n := 0
	for _, sc := range scenarios.All() {
		spec := sc.Build(1)
		if !windowable(spec) {
			continue
		}
		spec.Options.OneWayDelayJitter = 0
		spec.MaxEvents = 50_000 // the election storms of some knobs run to the default million
		spec.Config.LeaderSelfRegisterJitter = 0
		spec.Config.SyncDelay, spec.Config.SyncJitter = time.Millisecond, 0
		spec.Config.ObserverElectionDelay = 0
		pw := sim.NewWorld(spec.Clone())
		pw.RecordDecisions()
		plain := pw.Run()
		orders := &plainOrders{}
		for _, d := range pw.Decisions() {
			if d.Kind == sim.DecideOrder {
				orders.ranks = append(orders.ranks, d.Value)
			}
		}
		w := sim.NewWorld(spec.Clone())
		require.NoError(t, w.SetChooser(orders, sim.ChooserOptions{}))
		t0 := time.Now()
		got := w.Run()
		if d := time.Since(t0); d > time.Second {
			t.Logf("%s: %d events in %s", sc.Name, got.Events, d)
		}
		require.Equal(t, plain.Events, got.Events, sc.Name)
		require.Equal(t, plain.Stop, got.Stop, sc.Name)
		require.Equal(t, fmt.Sprintf("%016x", plain.TraceHash), fmt.Sprintf("%016x", got.TraceHash), sc.Name)
		n++
	}
	require.Greater(t, n, 30)
}

// randomChooser takes a random option, a non-default one with probability 1/k.
type randomChooser struct {
	r      *rand.Rand
	k      int
	writes bool // it chose a write fault
}

func (c *randomChooser) Choose(_ *sim.World, opts []sim.Choice) int {
	if c.r.IntN(c.k) != 0 {
		return 0
	}
	i := c.r.IntN(len(opts))
	if k := opts[i].Kind; k == sim.ChoiceWriteCrash || k == sim.ChoiceWriteFails {
		c.writes = true
	}
	return i
}

// Every windowed run, whatever it chose, is a run of the plain world: the faults it injected
// and the decisions it wrote back make the plain world replay it line for line.
func TestWindowedRunsReplayInThePlainWorld(t *testing.T) {
	runs, withFaults, withWrites := 0, 0, 0
	for _, sc := range scenarios.All() {
		base := sc.Build(1)
		if !windowable(base) {
			continue
		}
		for seed := uint64(1); seed <= 6; seed++ {
			spec := base.Clone()
			spec.MaxEvents = 20_000
			var got lines
			ch := &randomChooser{r: rand.New(rand.NewPCG(seed, 7)), k: 3 + int(seed)}
			ck := checker.New(spec)
			w := sim.NewWorld(spec, &got, ck)
			require.NoError(t, w.SetChooser(ch, sim.ChooserOptions{FaultsUntil: protocol.Time(2 * time.Second), WriteFaults: seed%2 == 0}))
			res := w.Run()
			live := ck.Finish(w, res.End, res.Truncated)
			if res.Truncated {
				continue
			}
			replay := w.Spec().Clone()
			replay.Decisions = slices.Clone(w.Decisions())
			if replay.Decisions == nil {
				replay.Decisions = []sim.Decision{}
			}
			require.NoError(t, replay.Validate(), sc.Name)
			var want lines
			pres := sim.NewWorld(replay, &want).Run()
			require.Empty(t, pres.Divergence, "%s seed %d", sc.Name, seed)
			requireSameLines(t, want.got, got.got, fmt.Sprintf("%s seed %d", sc.Name, seed))
			// The checker judges the windowed run as it judges its replay: the same violations
			// and the same liveness verdict.
			rep, err := checker.Run(replay.Clone(), checker.Options{})
			require.NoError(t, err)
			var names []string
			for _, v := range ck.Violations() {
				names = append(names, v.Invariant)
			}
			slices.Sort(names)
			names = slices.Compact(names)
			require.Equal(t, nonNil(rep.ViolationNames()), nonNil(names), "%s seed %d", sc.Name, seed)
			require.Equal(t, rep.Liveness, live, "%s seed %d", sc.Name, seed)
			if !ch.writes {
				require.Equal(t, pres.TraceHash, res.TraceHash, "%s seed %d", sc.Name, seed)
				require.Equal(t, pres.Events, res.Events, "%s seed %d", sc.Name, seed)
			} else {
				withWrites++
			}
			if len(replay.Faults) > len(base.Faults) {
				withFaults++
			}
			runs++
		}
	}
	t.Logf("%d runs replayed, %d with injected faults, %d with write faults", runs, withFaults, withWrites)
	require.Greater(t, withFaults, 20)
	require.Greater(t, withWrites, 5)
}

func requireSameLines(t *testing.T, want, got []string, what string) {
	t.Helper()
	for i := range max(len(want), len(got)) {
		if i >= len(want) || i >= len(got) || want[i] != got[i] {
			var w, g []string
			if i < len(want) {
				w = want[max(0, i-2):min(len(want), i+3)]
			}
			if i < len(got) {
				g = got[max(0, i-2):min(len(got), i+3)]
			}
			t.Fatalf("%s: line %d differs (of %d plain, %d windowed)\nplain:\n  %s\nwindowed:\n  %s", what, i, len(want), len(got),
				strings.Join(w, "\n  "), strings.Join(g, "\n  "))
		}
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
