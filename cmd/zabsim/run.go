package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"zabsim/checker"
	"zabsim/harness"
	"zabsim/protocol"
	"zabsim/runfile"
	"zabsim/sim"
	"zabsim/viz"
)

func cmdRun(args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	name := fs.String("scenario", "", "scenario name (see `zabsim list`)")
	seed := fs.Uint64("seed", 1, "the run's seed")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	timeline := fs.Bool("timeline", false, "print the text timeline")
	all := fs.Bool("all", false, "timeline: include timers and pings")
	save := fs.String("save", "", "save the run as a run file at this path")
	html := fs.String("html", "", "write the run's page (a space-time diagram) at this path")
	var knobs knobList
	fs.Var(&knobs, "knob", "turn a bug knob on (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 0, badInput("run: %v", err)
	}
	if *name == "" {
		return 0, badInput("run: -scenario is required (see `zabsim list`)")
	}
	if fs.NArg() > 0 {
		return 0, badInput("run: unexpected argument %q", fs.Arg(0))
	}
	if *html != "" {
		if err := viz.CheckPath(*html); err != nil {
			return 0, badInput("run: -html: %v", err)
		}
	}
	spec, s, err := harness.SpecFor(*name, *seed, knobs)
	if err != nil {
		return 0, badInput("%v", err)
	}
	rep, err := runChecked(spec, *timeline || *html != "", *save != "")
	if err != nil {
		return 0, err
	}
	var expectErr error
	if len(knobs) == 0 {
		expectErr = s.Expect(rep)
	}
	if *save != "" {
		saved := *spec
		saved.Decisions = rep.Decisions
		f := runfile.File{Spec: saved, Expect: runfile.Expectation{Violations: rep.ViolationNames(), TraceHash: rep.TraceHash}}
		if err := runfile.Save(*save, f); err != nil {
			return 0, err
		}
	}
	if *html != "" {
		if err := viz.WriteFile(*html, spec, rep); err != nil {
			return 0, badInput("run: -html: %v", err)
		}
	}
	if *asJSON {
		if err := writeJSON(stdout, rep); err != nil {
			return 0, err
		}
	} else {
		if *timeline {
			if err := harness.WriteTimeline(stdout, serverIDs(spec), rep.Trace, harness.TimelineOptions{All: *all}); err != nil {
				return 0, err
			}
			fmt.Fprintln(stdout)
		}
		harness.WriteReport(stdout, rep)
		if expectErr != nil {
			fmt.Fprintf(stdout, "\nEXPECTATION MISSED (%s):\n%v\n", s.Name, expectErr)
		} else if len(knobs) == 0 {
			fmt.Fprintf(stdout, "\nexpected outcome: met\n")
		}
	}
	return exitCode(rep, expectErr), nil
}

// runChecked runs spec; an invalid spec is bad input, a recovered panic is a finding.
func runChecked(spec *sim.RunSpec, keepTrace, record bool) (*checker.Report, error) {
	rep, err := checker.Run(spec, checker.Options{KeepTrace: keepTrace, RecordDecisions: record})
	var pe *checker.PanicError
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("%w", err)
	}
	if err != nil {
		return nil, badInput("invalid run: %v", err)
	}
	return rep, nil
}

func exitCode(rep *checker.Report, expectErr error) int {
	if len(rep.Violations) > 0 || expectErr != nil {
		return exitViolation
	}
	return exitOK
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func serverIDs(spec *sim.RunSpec) []protocol.ServerID {
	var ids []protocol.ServerID
	for _, s := range spec.Config.Servers {
		ids = append(ids, s.ID)
	}
	return ids
}
