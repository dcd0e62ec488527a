package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"zabsim/explore"
	"zabsim/harness"
	"zabsim/runfile"
	"zabsim/sim"
)

// exploreJSON is explore's -json output.
type exploreJSON struct {
	Scenario string         `json:"scenario"`
	Knobs    []string       `json:"knobs"`
	Result   explore.Result `json:"result"`
	Verdict  string         `json:"verdict"`
	RunFile  string         `json:"runFile,omitempty"`
}

func cmdExplore(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("explore", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	name := fs.String("scenario", "", "explore the runs of scenario `NAME` (see zabsim list)")
	file := fs.String("file", "", "explore the runs of the world of run file `RUN` (its faults and disks; its decisions are not followed)")
	seed := fs.Uint64("seed", 1, "the seed the scenario is built with (a windowed run draws nothing from it)")
	cost := fs.Int("cost", 2, "the most perturbations in one run (a deviation from the earliest event, a fault, a write outcome, a thread order)")
	dev := fs.Int("deviations", -1, "cap on event-order deviations and thread orders (-1: up to -cost)")
	crashes := fs.Int("crashes", -1, "cap on crashes at step boundaries (-1: up to -cost)")
	restarts := fs.Int("restarts", -1, "cap on restarts at step boundaries (-1: up to -cost)")
	writeFaults := fs.Int("write-faults", -1, "cap on write outcomes other than success (-1: up to -cost)")
	faultsUntil := fs.Duration("faults-until", time.Second, "no crash or restart after this virtual time")
	maxEvents := fs.Uint64("max-events", 5000, "cut a run after this many events (counted as truncated)")
	maxRuns := fs.Int("max-runs", 0, "stop after this many runs (0: no limit); the result is then INCOMPLETE")
	workers := fs.Int("workers", 0, "parallel workers (0: one per CPU); run and state counts then vary, the runs covered do not")
	search := fs.String("search", "cost", "cost: every run within -cost; bfs: every run, deviations unbounded (faults as capped, 0 unless given)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	out := fs.String("out", filepath.Join("testdata", "explore-failures"), "folder for the counterexample's run file (\"-\": do not save)")
	var knobs knobList
	fs.Var(&knobs, "knob", "turn a bug knob on (repeatable)")
	pos, err := parseFlags(fs, args, stdout, "explore -scenario NAME | -file RUN [flags]")
	if err != nil {
		return 0, err
	}
	if len(pos) > 0 {
		return 0, badInput("explore: unexpected argument %q", pos[0])
	}
	if (*name == "") == (*file == "") {
		return 0, badInput("explore: give exactly one of -scenario NAME and -file RUN")
	}
	if *cost < 0 {
		return 0, badInput("explore: -cost must be at least 0, got %d", *cost)
	}
	for _, c := range []struct {
		name string
		v    int
	}{{"deviations", *dev}, {"crashes", *crashes}, {"restarts", *restarts}, {"write-faults", *writeFaults}} {
		if c.v < -1 {
			return 0, badInput("explore: -%s must be -1 or more, got %d", c.name, c.v)
		}
	}
	if *faultsUntil < 0 {
		return 0, badInput("explore: -faults-until must not be negative")
	}
	if *maxRuns < 0 || *workers < 0 {
		return 0, badInput("explore: -max-runs and -workers must not be negative")
	}
	b := explore.Bound{Cost: *cost, Deviations: *dev, Crashes: *crashes, Restarts: *restarts, WriteFaults: *writeFaults,
		FaultsUntil: *faultsUntil, MaxEvents: *maxEvents, MaxRuns: *maxRuns, Workers: *workers}
	switch *search {
	case "cost":
	case "bfs":
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		b.Cost, b.Deviations = explore.Unlimited, -1
		for flagName, p := range map[string]*int{"crashes": &b.Crashes, "restarts": &b.Restarts, "write-faults": &b.WriteFaults} {
			if !set[flagName] {
				*p = 0
			}
		}
	default:
		return 0, badInput("explore: -search must be cost or bfs, got %q", *search)
	}
	var spec *sim.RunSpec
	label := *name
	if *file != "" {
		f, err := runfile.Load(*file)
		if err != nil {
			return 0, badInput("explore: %v", err)
		}
		spec = &f.Spec
		spec.Decisions, spec.DecisionsThenSeed = nil, false
		for _, k := range knobs {
			if err := spec.Config.Knobs.Set(k); err != nil {
				return 0, badInput("explore: %v", err)
			}
		}
		label = strings.TrimSuffix(filepath.Base(*file), ".json")
	} else {
		spec, _, err = harness.SpecFor(*name, *seed, knobs)
		if err != nil {
			return 0, badInput("%v", err)
		}
	}
	if *out != "-" {
		if err := checkWritableDir(*out, true); err != nil {
			return 0, badInput("explore: -out %s: %v", *out, err)
		}
	}
	terminal := !*asJSON && isTerminal(stderr)
	start := time.Now()
	if !*asJSON {
		fmt.Fprintf(stdout, "explore %s (%d servers)%s\nbound: %s\n", label, len(spec.Config.Servers), knobText(knobs), b)
	}
	b.Progress = func(l explore.Level) {
		if *asJSON {
			return
		}
		eps := 0.0
		if l.Seconds > 0 {
			eps = float64(l.Events) / l.Seconds
		}
		line := fmt.Sprintf("  cost %d: %d runs, %d states, %d pruned, %d truncated, %.0f events/s, %.1fs elapsed",
			l.Cost, l.Runs, l.States, l.Pruned, l.Truncated, eps, time.Since(start).Seconds())
		if b.Cost >= explore.Unlimited {
			line = fmt.Sprintf("  depth %d: %d runs, %d states, %d pruned, %.1fs elapsed", l.Cost, l.Runs, l.States, l.Pruned, time.Since(start).Seconds())
			if !terminal {
				return // a BFS has dozens of levels: show them on a terminal only
			}
		}
		fmt.Fprintln(stdout, line)
	}
	res, err := explore.Check(spec, b)
	if err != nil {
		if !strings.Contains(err.Error(), "explorer bug") {
			return 0, badInput("explore: %v", err)
		}
		// Keep the run that shows it, for a report.
		if cx := res.Violation; cx != nil && *out != "-" {
			f := runfile.File{Spec: cx.Spec, Expect: runfile.Expectation{Violations: cx.ReplayViolations, TraceHash: cx.ReplayHash}}
			path := filepath.Join(*out, fmt.Sprintf("explorer-bug-%s-%s-c%d.json", label, cx.Invariant, cx.Cost))
			if os.MkdirAll(*out, 0o755) == nil && runfile.Save(path, f) == nil {
				fmt.Fprintf(stderr, "zabsim: the run that shows it: %s\n", path)
			}
		}
		return exitInternal, err
	}
	verdict := verdictText(res)
	code := exitOK
	var saved string
	if cx := res.Violation; cx != nil {
		code = exitViolation
		if *out != "-" {
			f := runfile.File{Spec: cx.Spec, Expect: runfile.Expectation{Violations: cx.ReplayViolations, TraceHash: cx.ReplayHash}}
			f.Spec.Scenario = label
			saved = filepath.Join(*out, fmt.Sprintf("%s-%s-c%d-%s.json", label, cx.Invariant, cx.Cost, cx.ReplayHash[:8]))
			if err := os.MkdirAll(*out, 0o755); err != nil {
				return 0, fmt.Errorf("explore: %v", err)
			}
			if err := runfile.Save(saved, f); err != nil {
				return 0, err
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(exploreJSON{Scenario: label, Knobs: append([]string{}, knobs...), Result: res, Verdict: verdict, RunFile: saved}); err != nil {
			return 0, err
		}
		return code, nil
	}
	fmt.Fprintln(stdout, verdict)
	if cx := res.Violation; cx != nil {
		fmt.Fprintf(stdout, "  at %s: %s\n  %d events; what the run did differently:\n", cx.At, cx.Detail, cx.Events)
		for i, p := range cx.Perturbations {
			fmt.Fprintf(stdout, "    %d. %s\n", i+1, p)
		}
		if len(cx.Perturbations) == 0 {
			fmt.Fprintln(stdout, "    nothing: the default run (every event at its earliest) breaks it")
		}
		fmt.Fprintf(stdout, "  replayed in the plain world: trace %s, violations %s\n", cx.ReplayHash, strings.Join(cx.ReplayViolations, ", "))
		if saved != "" {
			fmt.Fprintf(stdout, "  saved %s\n  zabsim replay %s -timeline\n", saved, saved)
		}
	}
	return code, nil
}

func knobText(knobs []string) string {
	if len(knobs) == 0 {
		return ""
	}
	return ", knobs: " + strings.Join(knobs, ", ")
}

// verdictText is the one line that says what the exploration showed.
func verdictText(res explore.Result) string {
	took := fmt.Sprintf("%.1fs", res.Seconds)
	switch {
	case res.Violation != nil:
		return fmt.Sprintf("VIOLATION %s at cost %d (%d runs, %d states, %s)", res.Violation.Invariant, res.Violation.Cost, res.Runs, res.States, took)
	case !res.Complete:
		return fmt.Sprintf("INCOMPLETE: %s; no violation in the %d runs explored (%d states, %s)", res.Incomplete, res.Runs, res.States, took)
	}
	return fmt.Sprintf("clean within %s: %d runs, %d states, complete (%s)", res.Bound, res.Runs, res.States, took)
}
