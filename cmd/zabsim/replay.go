package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"zabsim/checker"
	"zabsim/harness"
	"zabsim/runfile"
	"zabsim/viz"
)

func cmdReplay(args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	timeline := fs.Bool("timeline", false, "print the text timeline")
	all := fs.Bool("all", false, "timeline: include timers and pings")
	update := fs.Bool("update", false, "re-record the file's expected outcome from this replay (after a deliberate change)")
	bySeed := fs.Bool("by-seed", false, "ignore the recorded decisions and replay from the seed (after a code change)")
	html := fs.String("html", "", "write the replay's page (a space-time diagram) at this path")
	if err := fs.Parse(args); err != nil {
		return 0, badInput("replay: %v", err)
	}
	if fs.NArg() != 1 {
		return 0, badInput("replay: want exactly one run file, got %d arguments", fs.NArg())
	}
	if *html != "" {
		if err := viz.CheckPath(*html); err != nil {
			return 0, badInput("replay: -html: %v", err)
		}
	}
	f, err := runfile.Load(fs.Arg(0))
	if err != nil {
		return 0, badInput("%v", err)
	}
	if *bySeed {
		f.Spec.Decisions = nil
	}
	if *update && f.Spec.Decisions != nil {
		// Keep every choice the file made; where the code now asks more, the seed answers.
		f.Spec.DecisionsThenSeed = true
	}
	res, err := harness.Replay(f, checker.Options{KeepTrace: *timeline || *html != "", RecordDecisions: *update})
	var pe *checker.PanicError
	if errors.As(err, &pe) {
		return 0, err
	}
	if err != nil {
		return 0, badInput("%s: invalid run: %v", fs.Arg(0), err)
	}
	if *html != "" {
		if err := viz.WriteFile(*html, &f.Spec, res.Report); err != nil {
			return 0, badInput("replay: -html: %v", err)
		}
	}
	if *asJSON {
		if err := writeJSON(stdout, res.Report); err != nil {
			return 0, err
		}
	} else {
		if *timeline {
			if err := harness.WriteTimeline(stdout, serverIDs(&f.Spec), res.Report.Trace, harness.TimelineOptions{All: *all}); err != nil {
				return 0, err
			}
			fmt.Fprintln(stdout)
		}
		harness.WriteReport(stdout, res.Report)
		if res.Divergence != "" {
			fmt.Fprintf(stdout, "\nREPLAY DIFFERS from the recorded outcome: %s\n", res.Divergence)
		} else {
			fmt.Fprintf(stdout, "\nreplay reproduces the recorded outcome\n")
		}
	}
	// A file with decisions may reproduce its outcome with a new trace (the hash is then only
	// informative) or with answers the seed had to add: -update records those too.
	stale := res.Divergence != "" || res.Report.TraceHash != f.Expect.TraceHash ||
		(f.Spec.Decisions != nil && len(res.Report.Decisions) != len(f.Spec.Decisions))
	if *update && stale {
		f.Expect = runfile.Expectation{Violations: res.Report.ViolationNames(), TraceHash: res.Report.TraceHash}
		if f.Spec.Decisions != nil || *bySeed {
			f.Spec.Decisions = res.Report.Decisions
		}
		f.Spec.DecisionsThenSeed = false
		if err := runfile.Save(fs.Arg(0), f); err != nil {
			return 0, err
		}
		fmt.Fprintf(stdout, "re-recorded %s: review the diff before committing it\n", fs.Arg(0))
		return exitCode(res.Report, nil), nil
	}
	if res.Divergence != "" {
		return exitViolation, nil
	}
	return exitCode(res.Report, nil), nil
}
