package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"

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
	pos, err := parseFlags(fs, args, stdout, "replay FILE [flags]")
	if err != nil {
		return 0, err
	}
	if len(pos) != 1 {
		return 0, badInput("replay: want exactly one run file, got %d arguments", len(pos))
	}
	if *html != "" {
		if err := viz.CheckPath(*html); err != nil {
			return 0, badInput("replay: -html: %v", err)
		}
	}
	file := pos[0]
	f, err := runfile.Load(file)
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
		return 0, badInput("%s: invalid run: %v", file, err)
	}
	if *html != "" {
		if err := viz.WriteFile(*html, &f.Spec, res.Report); err != nil {
			return 0, badInput("replay: -html: %v", err)
		}
	}
	outcome, code := replayOutcome(res, f)
	if *asJSON && !*update {
		return code, writeJSON(stdout, replayJSON{Report: res.Report, Outcome: outcome, Divergence: res.Divergence})
	}
	if !*asJSON {
		if err := harness.WriteSeedBlock(stdout, &f.Spec); err != nil {
			return 0, err
		}
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
		if err := runfile.Save(file, f); err != nil {
			return 0, err
		}
		if *asJSON {
			return exitOK, writeJSON(stdout, replayJSON{Report: res.Report, Outcome: "re-recorded", Divergence: res.Divergence})
		}
		fmt.Fprintf(stdout, "re-recorded %s: review the diff before committing it\n", file)
		return exitOK, nil
	}
	if *asJSON {
		return code, writeJSON(stdout, replayJSON{Report: res.Report, Outcome: outcome, Divergence: res.Divergence})
	}
	return code, nil
}

// replayJSON is the report of a replay with what it says about the file.
type replayJSON struct {
	Report *checker.Report
	// Outcome is "reproduces" (exit 0, whatever the file recorded, clean or a violation),
	// "new-violation" (exit 1: an invariant broke that the file did not record), "differs"
	// (exit 4: another outcome, trace or decisions than recorded) or "re-recorded" (-update).
	Outcome    string
	Divergence string
}

// MarshalJSON prints the report's keys with outcome (and divergence) added at the top level,
// so a replay's JSON is a run's JSON plus what the replay says about the file.
func (r replayJSON) MarshalJSON() ([]byte, error) {
	data, err := json.Marshal(r.Report)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	m["outcome"], _ = json.Marshal(r.Outcome)
	m["divergence"], _ = json.Marshal(r.Divergence)
	return json.Marshal(m)
}

// replayOutcome tells the three outcomes of a replay apart, so that "reproduces the recorded
// violation" and "differs" never share an exit code.
func replayOutcome(res harness.ReplayResult, f runfile.File) (string, int) {
	if res.Divergence == "" {
		return "reproduces", exitOK
	}
	for _, v := range res.Report.ViolationNames() {
		if !slices.Contains(f.Expect.Violations, v) {
			return "new-violation", exitViolation
		}
	}
	return "differs", exitDiffers
}
