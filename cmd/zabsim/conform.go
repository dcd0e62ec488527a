package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"zabsim/conform"
	"zabsim/harness"
	"zabsim/protocol"
	"zabsim/runfile"
	"zabsim/scenarios"
	"zabsim/sim"
)

// conformJSON is what `conform -json` prints.
type conformJSON struct {
	Scenario   string             `json:"scenario"`
	Processing string             `json:"processing"`
	Real       []conformRealJSON  `json:"real"`
	Simulated  *conform.Simulated `json:"simulated"`
	Spans      []conformSpanJSON  `json:"spans"`
	Agree      bool               `json:"agree"`
}

type conformRealJSON struct {
	Outcome conform.Outcome `json:"outcome"`
	Key     string          `json:"key"`
	Verdict conform.Verdict `json:"verdict"`
	// Steps is trace validation: the real protocol steps searched for in the seeds.
	Steps conform.Validation `json:"stepValidation"`
	Dir   string             `json:"dir"`
}

type conformSpanJSON struct {
	Name      string       `json:"name"`
	Short     string       `json:"short"`
	Real      conform.Stat `json:"real"`
	Simulated conform.Stat `json:"simulated"`
}

func cmdConform(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("conform", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	name := fs.String("scenario", "", "the scenario to compare, by `NAME` (see zabsim list)")
	file := fs.String("file", "", "a run `FILE` to compare instead of a scenario")
	seeds := fs.Int("seeds", 200, "simulated seeds to compare the real outcome with")
	runs := fs.Int("runs", 1, "real runs")
	asJSON := fs.Bool("json", false, "print the comparison as JSON")
	dir := fs.String("dir", "", "where the real ensembles' data and logs go (default: a new temp folder)")
	keep := fs.Bool("keep", false, "keep the real ensembles' folder even when they agree")
	proc := fs.String("processing", "jvm", "processing time in the simulator: jvm (calibrated on a real ensemble), none, or the run's own")
	timeout := fs.Duration("timeout", 3*time.Minute, "bound on each real run")
	simOnly := fs.Bool("check", false, "only check that the scenario can run on a real ensemble (exit 2 with the reason if not)")
	var knobs knobList
	fs.Var(&knobs, "knob", "turn a bug knob on in the simulator (repeatable)")
	faithful := fs.Bool("faithful", false, "turn the scenario's own bug knobs off in the simulator (compare 3.8.0 with the faithful model)")
	all := fs.Bool("all", false, "compare every catalogue scenario that can run on a real ensemble, and print the conformance table")
	markdown := fs.Bool("markdown", false, "with -all: print the table as Markdown (the README's)")
	pos, err := parseFlags(fs, args, stdout, "conform -scenario NAME | -file RUN | -all [flags]")
	if err != nil {
		return 0, err
	}
	if len(pos) > 0 {
		return 0, badInput("conform: unexpected argument %q", pos[0])
	}
	if n := btoi(*name != "") + btoi(*file != "") + btoi(*all); n != 1 {
		return 0, badInput("conform: give one of -scenario NAME, -file RUN or -all")
	}
	if *markdown && !*all {
		return 0, badInput("conform: -markdown goes with -all")
	}
	if *seeds < 1 || *seeds > 100000 || *runs < 1 || *runs > 100 {
		return 0, badInput("conform: -seeds must be 1..100000 and -runs 1..100")
	}
	if *proc != "jvm" && *proc != "none" && *proc != "run" {
		return 0, badInput("conform: -processing must be jvm, none or run, got %q", *proc)
	}
	opt := compareOptions{proc: *proc, seeds: *seeds, runs: *runs, real: conform.RealOptions{Dir: *dir, Keep: *keep, Timeout: *timeout}}
	if !*asJSON {
		opt.progress = stderr
	}
	if *all {
		return conformAll(stdout, stderr, opt, knobs, *faithful, *simOnly, *asJSON, *markdown)
	}
	var spec *sim.RunSpec
	label := *name
	if *name != "" {
		if spec, _, err = harness.SpecFor(*name, 1, nil); err != nil {
			return 0, badInput("%v", err)
		}
	} else {
		f, err := runfile.Load(*file)
		if err != nil {
			return 0, badInput("%v", err)
		}
		spec, label = &f.Spec, *file
		spec.Decisions = nil // the real ensemble cannot follow them; the simulator draws per seed
	}
	if err := tune(spec, knobs, *faithful, *proc); err != nil {
		return 0, badInput("%v", err)
	}
	if err := conform.Runnable(spec); err != nil {
		return 0, badInput("conform: %s cannot run on a real ensemble: %v", label, err)
	}
	if *simOnly {
		fmt.Fprintf(stdout, "%s can run on a real ensemble\n", label)
		return exitOK, nil
	}
	if err := conform.Available(); err != nil {
		return 0, badInput("conform: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	out, err := compare(ctx, label, spec, opt)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return exitInterrupted, nil
		}
		return 0, err
	}
	reals := out.reals()
	simulated := out.Simulated
	code := exitOK
	if !out.Agree {
		code = exitViolation
	}
	if *asJSON {
		return code, writeJSON(stdout, out)
	}
	fmt.Fprintf(stdout, "conform %s: real ZooKeeper %s against the simulator (processing %s, %d seeds)\n\n", label, conform.RealVersion, *proc, *seeds)
	for i := range out.Real {
		r := &out.Real[i]
		where := "its folder removed; -keep keeps it"
		if r.Dir != "" {
			where = "kept in " + r.Dir
		}
		fmt.Fprintf(stdout, "real run %d (%s)\n", i+1, where)
		conform.WriteSideBySide(stdout, &r.Outcome, reals, simulated, r.Verdict)
		fmt.Fprintln(stdout)
	}
	return code, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// tune sets what the flags ask of the simulated side: the scenario's own knobs off
// (faithful), the -knob ones on, and the processing time.
func tune(spec *sim.RunSpec, knobs []string, faithful bool, proc string) error {
	if faithful {
		spec.Config.Knobs = protocol.Knobs{}
	}
	for _, k := range knobs {
		if err := spec.Config.Knobs.Set(k); err != nil {
			return err
		}
	}
	switch proc {
	case "jvm":
		spec.Options.Processing = conform.JVM
	case "none":
		spec.Options.Processing = sim.Processing{}
	}
	return nil
}

// compareOptions are the flags a comparison takes.
type compareOptions struct {
	proc        string
	seeds, runs int
	real        conform.RealOptions
	progress    io.Writer // nil: quiet
}

// compare runs spec in the simulator over the seeds and on a real ensemble opt.runs times.
func compare(ctx context.Context, label string, spec *sim.RunSpec, opt compareOptions) (*conformJSON, error) {
	simulated, err := conform.Simulate(spec, opt.seeds)
	if err != nil {
		return nil, fmt.Errorf("conform: simulator: %w", err)
	}
	out := &conformJSON{Scenario: label, Processing: opt.proc, Simulated: simulated, Agree: true}
	var reals []conform.Outcome
	for i := 0; i < opt.runs; i++ {
		if opt.progress != nil {
			fmt.Fprintf(opt.progress, "conform: %s: real run %d of %d ...\n", label, i+1, opt.runs)
		}
		rr, err := conform.RunReal(ctx, spec, opt.real)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil, err
			}
			return nil, fmt.Errorf("conform: %s: real ensemble: %w", label, err)
		}
		v := conform.Judge(&rr.Outcome, simulated)
		out.Agree = out.Agree && v.Agree
		reals = append(reals, rr.Outcome)
		out.Real = append(out.Real, conformRealJSON{Outcome: rr.Outcome, Key: rr.Outcome.Key(), Verdict: v, Steps: conform.Validate(&rr.Outcome, simulated), Dir: rr.Dir})
	}
	for _, sn := range conform.SpanNames {
		r, m := conform.StatOf(conform.Pool(reals, sn.Get)), conform.StatOf(conform.Pool(simulated.Runs, sn.Get))
		if r.N > 0 || m.N > 0 {
			out.Spans = append(out.Spans, conformSpanJSON{Name: sn.Name, Short: sn.Short, Real: r, Simulated: m})
		}
	}
	return out, nil
}

func (c *conformJSON) reals() []conform.Outcome {
	var out []conform.Outcome
	for i := range c.Real {
		out = append(out, c.Real[i].Outcome)
	}
	return out
}

// conformAll compares every runnable catalogue scenario and prints the conformance table.
func conformAll(stdout, stderr io.Writer, opt compareOptions, knobs []string, faithful, check, asJSON, markdown bool) (int, error) {
	type pick struct {
		name string
		spec *sim.RunSpec
	}
	var picks []pick
	refused := 0
	for _, sc := range scenarios.All() {
		spec := sc.Build(1)
		if err := tune(spec, knobs, faithful, opt.proc); err != nil {
			return 0, badInput("%v", err)
		}
		if conform.Runnable(spec) != nil {
			refused++
			continue
		}
		picks = append(picks, pick{sc.Name, spec})
	}
	if check {
		for _, p := range picks {
			fmt.Fprintln(stdout, p.name)
		}
		fmt.Fprintf(stdout, "%d of %d catalogue scenarios can run on a real ensemble\n", len(picks), len(picks)+refused)
		return exitOK, nil
	}
	if err := conform.Available(); err != nil {
		return 0, badInput("conform: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var results []*conformJSON
	agree, exact := 0, 0
	for i, p := range picks {
		if opt.progress != nil {
			fmt.Fprintf(opt.progress, "conform -all: %d of %d: %s\n", i+1, len(picks), p.name)
		}
		out, err := compare(ctx, p.name, p.spec, opt)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return exitInterrupted, nil
			}
			return 0, err
		}
		results = append(results, out)
		if out.Agree {
			agree++
		}
		if stepsExact(out) {
			exact++
		}
	}
	code := exitOK
	if agree < len(results) {
		code = exitViolation
	}
	switch {
	case asJSON:
		return code, writeJSON(stdout, results)
	case markdown:
		fmt.Fprintln(stdout, "| scenario | outcome verdict | steps (trace validation) | real outcome | spans, ms: real / simulated (median [min–max]) |")
		fmt.Fprintln(stdout, "|---|---|---|---|---|")
		for _, r := range results {
			fmt.Fprintln(stdout, markdownRow(r))
		}
	default:
		for _, r := range results {
			fmt.Fprintf(stdout, "%-42s %-26s %s\n", r.Scenario, verdictCell(r), stepsCell(r))
		}
	}
	if !asJSON {
		fmt.Fprintf(stderr, "conform -all: %d scenarios run for real (%d of the catalogue cannot be): outcomes agree on %d, steps exact on %d\n",
			len(results), refused, agree, exact)
	}
	return code, nil
}

func stepsExact(r *conformJSON) bool {
	for _, x := range r.Real {
		if x.Steps.Exact == 0 {
			return false
		}
	}
	return len(r.Real) > 0
}

func verdictCell(r *conformJSON) string {
	var parts []string
	for _, x := range r.Real {
		if !x.Verdict.Agree {
			parts = append(parts, "**MISMATCH**")
			continue
		}
		parts = append(parts, fmt.Sprintf("agree, %d/%d seeds", x.Verdict.Share, x.Verdict.Seeds))
	}
	return strings.Join(parts, "; ")
}

func stepsCell(r *conformJSON) string {
	var parts []string
	for _, x := range r.Real {
		v := x.Steps
		switch {
		case v.Exact > 0:
			parts = append(parts, fmt.Sprintf("exact, %d/%d seeds", v.Exact, v.Seeds))
		case v.Real != "":
			sim := v.Simulated
			if sim == "" {
				sim = "nothing"
			}
			parts = append(parts, fmt.Sprintf("%d/%d matched; s%d step %d: real `%s`, best seed `%s`", v.Matched, v.Steps, v.Server, v.Index+1, v.Real, sim))
		default:
			parts = append(parts, fmt.Sprintf("%d/%d matched; the best seed takes more on s%d: `%s`", v.Matched, v.Steps, v.Server, v.Simulated))
		}
	}
	return strings.Join(parts, "; ")
}

func markdownRow(r *conformJSON) string {
	var spans []string
	for _, sp := range r.Spans {
		spans = append(spans, fmt.Sprintf("%s %s / %s", sp.Short, cellStat(sp.Real), cellStat(sp.Simulated)))
	}
	key := ""
	if len(r.Real) > 0 {
		key = strings.ReplaceAll(r.Real[0].Key, "; ", "<br>")
	}
	return fmt.Sprintf("| `%s` | %s | %s | %s | %s |", r.Scenario, verdictCell(r), stepsCell(r), key, strings.Join(spans, "; "))
}

// cellStat is a span in ms, median [min–max] (one value when they round alike).
func cellStat(s conform.Stat) string {
	if s.N == 0 {
		return "–"
	}
	ms := func(d time.Duration) int64 { return (d + time.Millisecond/2).Milliseconds() }
	if s.N == 1 || ms(s.Min) == ms(s.Max) {
		return fmt.Sprint(ms(s.Median))
	}
	return fmt.Sprintf("%d [%d–%d]", ms(s.Median), ms(s.Min), ms(s.Max))
}
