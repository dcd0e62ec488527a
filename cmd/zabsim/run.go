package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"zabsim/checker"
	"zabsim/conform"
	"zabsim/harness"
	"zabsim/protocol"
	"zabsim/runfile"
	"zabsim/sim"
	"zabsim/viz"
)

func cmdRun(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	name := fs.String("scenario", "", "the scenario to run, by `NAME` (see zabsim list)")
	seed := fs.Uint64("seed", 1, "the run's seed")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	timeline := fs.Bool("timeline", false, "print the text timeline")
	all := fs.Bool("all", false, "timeline: include timers and pings")
	save := fs.String("save", "", "save the run as a run file at this path")
	html := fs.String("html", "", "write the run's page (a space-time diagram) at this path")
	force := fs.Bool("force", false, "with -save: replace an existing file")
	proc := fs.String("processing", "none", "processing time: none (the model's default) or jvm (calibrated on real ZooKeeper; the scenario's timed expectation is then not judged)")
	var knobs knobList
	fs.Var(&knobs, "knob", "turn a bug knob on (repeatable)")
	pos, err := parseFlags(fs, args, stdout, "run -scenario NAME [-seed N] [flags]")
	if err != nil {
		return 0, err
	}
	if *name == "" {
		return 0, badInput("run: -scenario is required (see `zabsim list`)")
	}
	if len(pos) > 0 {
		return 0, badInput("run: unexpected argument %q", pos[0])
	}
	if *save != "" {
		// Refuse before running: a finished run must not be lost to a path that cannot take it.
		if err := checkSavePath(*save, *force); err != nil {
			return 0, err
		}
	}
	if *html != "" {
		if err := viz.CheckPath(*html); err != nil {
			return 0, badInput("run: -html: %v", err)
		}
	}
	if *proc != "none" && *proc != "jvm" {
		return 0, badInput("run: -processing must be none or jvm, got %q", *proc)
	}
	spec, s, err := harness.SpecFor(*name, *seed, knobs)
	if err != nil {
		return 0, badInput("%v", err)
	}
	if *proc == "jvm" {
		spec.Options.Processing = conform.JVM
	}
	rep, err := runChecked(spec, *timeline || *html != "", *save != "")
	if err != nil {
		return 0, err
	}
	var expectErr error
	judged := len(knobs) == 0 && *proc == "none" // expectations are written for the model's own timing
	if judged {
		expectErr = s.Expect(rep)
	}
	if *save != "" {
		saved := *spec
		saved.Decisions = rep.Decisions
		f := runfile.File{Spec: saved, Expect: runfile.Expectation{Violations: rep.ViolationNames(), TraceHash: rep.TraceHash}}
		harness.FitFileLimit(&f)
		if err := runfile.Save(*save, f); err != nil {
			return 0, err
		}
		if abs, err := filepath.Abs(*save); err == nil {
			fmt.Fprintf(stderr, "saved %s\n", abs)
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
		if err := harness.WriteSeedBlock(stdout, spec); err != nil {
			return 0, err
		}
		if *timeline {
			if err := harness.WriteTimeline(stdout, serverIDs(spec), rep.Trace, harness.TimelineOptions{All: *all}); err != nil {
				return 0, err
			}
			fmt.Fprintln(stdout)
		}
		harness.WriteReport(stdout, rep)
		if expectErr != nil {
			fmt.Fprintf(stdout, "\nEXPECTATION MISSED (%s):\n%v\n", s.Name, expectErr)
		} else if judged {
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

// checkSavePath refuses to replace an existing file unless forced, and a folder that does not
// exist or cannot be written, so the run is refused before it starts rather than after.
func checkSavePath(path string, force bool) error {
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return badInput("-save %s: is a folder", path)
	case err == nil && !force:
		return badInput("-save %s: file exists (add -force to replace it)", path)
	case err != nil && !os.IsNotExist(err) && !errors.Is(err, syscall.ENOTDIR):
		return badInput("-save %s: %v", path, err)
	}
	if err := checkWritableDir(filepath.Dir(path), false); err != nil {
		return badInput("-save %s: %v", path, err)
	}
	return nil
}

// checkWritableDir makes sure files can be created in dir by creating and removing a probe
// file: permission bits alone do not tell (root, read-only mounts). With mayCreate a folder
// that does not exist yet is fine if its nearest existing parent is writable: it is made only
// when there is something to save.
func checkWritableDir(dir string, mayCreate bool) error {
	asked := dir
	for mayCreate {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	where := dir
	if where != asked {
		where = fmt.Sprintf("%s (to create %s in it)", dir, asked)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return badInput("folder %s: %v", where, err)
	}
	if !st.IsDir() {
		return badInput("%s is not a folder", where)
	}
	f, err := os.CreateTemp(dir, ".zabsim-probe-*.tmp")
	if err != nil {
		return badInput("folder %s is not writable: %v", where, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}
