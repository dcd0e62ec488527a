package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"zabsim/conform"
	"zabsim/harness"
	"zabsim/protocol"
	"zabsim/runfile"
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
	pos, err := parseFlags(fs, args, stdout, "conform -scenario NAME | -file RUN [flags]")
	if err != nil {
		return 0, err
	}
	if len(pos) > 0 {
		return 0, badInput("conform: unexpected argument %q", pos[0])
	}
	if (*name == "") == (*file == "") {
		return 0, badInput("conform: give one of -scenario NAME or -file RUN")
	}
	if *seeds < 1 || *seeds > 100000 || *runs < 1 || *runs > 100 {
		return 0, badInput("conform: -seeds must be 1..100000 and -runs 1..100")
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
	if *faithful {
		spec.Config.Knobs = protocol.Knobs{}
	}
	for _, k := range knobs {
		if err := spec.Config.Knobs.Set(k); err != nil {
			return 0, badInput("%v", err)
		}
	}
	switch *proc {
	case "jvm":
		spec.Options.Processing = conform.JVM
	case "none":
		spec.Options.Processing = sim.Processing{}
	case "run":
	default:
		return 0, badInput("conform: -processing must be jvm, none or run, got %q", *proc)
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

	simulated, err := conform.Simulate(spec, *seeds)
	if err != nil {
		return 0, fmt.Errorf("conform: simulator: %w", err)
	}
	out := conformJSON{Scenario: label, Processing: *proc, Simulated: simulated, Agree: true}
	var reals []conform.Outcome
	for i := 0; i < *runs; i++ {
		if !*asJSON {
			fmt.Fprintf(stderr, "conform: %s: real run %d of %d ...\n", label, i+1, *runs)
		}
		rr, err := conform.RunReal(ctx, spec, conform.RealOptions{Dir: *dir, Keep: *keep, Timeout: *timeout})
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return exitInterrupted, nil
			}
			return 0, fmt.Errorf("conform: real ensemble: %w", err)
		}
		v := conform.Judge(&rr.Outcome, simulated)
		out.Agree = out.Agree && v.Agree
		reals = append(reals, rr.Outcome)
		out.Real = append(out.Real, conformRealJSON{Outcome: rr.Outcome, Key: rr.Outcome.Key(), Verdict: v, Steps: conform.Validate(&rr.Outcome, simulated), Dir: rr.Dir})
	}
	for _, sn := range conform.SpanNames {
		r, m := conform.StatOf(conform.Pool(reals, sn.Get)), conform.StatOf(conform.Pool(simulated.Runs, sn.Get))
		if r.N > 0 || m.N > 0 {
			out.Spans = append(out.Spans, conformSpanJSON{Name: sn.Name, Real: r, Simulated: m})
		}
	}
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
