package explore

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"zabsim/scenarios"
	"zabsim/sim"
)

// TestKnobTable prints, for every bug knob, the least cost at which explore finds it from its
// trigger scenario and from a plain 3-server cold start (ZABSIM_KNOB_TABLE=1; a few minutes),
// the README's table, and fails unless every knob is found from its trigger scenario within
// cost 2.
func TestKnobTable(t *testing.T) {
	if os.Getenv("ZABSIM_KNOB_TABLE") != "1" {
		t.Skip("set ZABSIM_KNOB_TABLE=1")
	}
	maxCost := 2
	find := func(spec *sim.RunSpec) string {
		t0 := time.Now()
		runs, states := 0, 0
		for cost := 0; cost <= maxCost; cost++ {
			b := all(cost)
			b.Workers, b.MaxRuns = 2, 400_000
			res, err := Check(spec, b)
			if err != nil {
				return "refused: " + err.Error()
			}
			runs += res.Runs
			if res.Violation != nil {
				return fmt.Sprintf("%d | %s | %d | %d | %.1f s", cost, res.Violation.Invariant, res.Runs, res.States, time.Since(t0).Seconds())
			}
			states = res.States
			if !res.Complete {
				return fmt.Sprintf("not within %d runs at cost %d | | %d | %d | %.1f s", b.MaxRuns, cost, runs, states, time.Since(t0).Seconds())
			}
		}
		return fmt.Sprintf("> %d | | %d | %d | %.1f s", maxCost, runs, states, time.Since(t0).Seconds())
	}
	var knobs []string
	trigger := map[string]string{}
	for _, sc := range scenarios.All() {
		for _, k := range sc.Knobs {
			if _, ok := trigger[k]; !ok {
				trigger[k] = sc.Name
				knobs = append(knobs, k)
			}
		}
	}
	slices.Sort(knobs)
	cold, _ := scenarios.Lookup("cold-start-3")
	for _, k := range knobs {
		sc, _ := scenarios.Lookup(trigger[k])
		spec := sc.Build(1)
		fromTrigger := find(spec)
		if strings.HasPrefix(fromTrigger, ">") || strings.HasPrefix(fromTrigger, "not") || strings.HasPrefix(fromTrigger, "refused") {
			t.Errorf("%s: not found from its trigger scenario %s: %s", k, trigger[k], fromTrigger)
		}
		cs := cold.Build(1)
		if err := cs.Config.Knobs.Set(k); err != nil {
			t.Fatal(err)
		}
		line := fmt.Sprintf("| %s | %s | %s | %s |\n", k, trigger[k], fromTrigger, find(cs))
		if f, err := os.OpenFile(os.Getenv("ZABSIM_KNOB_TABLE_OUT"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			f.WriteString(line)
			f.Close()
		}
		t.Log(line)
	}
}
