package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"zabsim/harness"
	"zabsim/scenarios"
)

func cmdSweep(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	seeds := fs.Int("seeds", 50, "seeds per scenario")
	var names knobList
	fs.Var(&names, "scenario", "only this scenario (repeatable; default: all)")
	workers := fs.Int("workers", 0, "parallel runs (default: GOMAXPROCS)")
	master := fs.Uint64("master-seed", 0, "chooses the seeds (default: from the clock, printed)")
	asJSON := fs.Bool("json", false, "print the summary as JSON, no progress")
	out := fs.String("out", "testdata/sweep-failures", "directory for failure run files (\"\" to not save)")
	stopAtFirst := fs.Bool("stop-at-first", false, "stop at the first failure, then shrink and save it")
	checkDet := fs.Int("check-determinism", 0, "re-run this many (scenario, seed) pairs twice and compare their traces")
	var knobs knobList
	fs.Var(&knobs, "knob", "turn a bug knob on in every run (repeatable); any violation is then a finding")
	if err := fs.Parse(args); err != nil {
		return 0, badInput("sweep: %v", err)
	}
	if fs.NArg() > 0 {
		return 0, badInput("sweep: unexpected argument %q", fs.Arg(0))
	}
	if *seeds < 1 {
		return 0, badInput("sweep: -seeds must be at least 1, got %d", *seeds)
	}
	masterSet := false
	fs.Visit(func(f *flag.Flag) { masterSet = masterSet || f.Name == "master-seed" })
	if !masterSet {
		*master = uint64(time.Now().UnixNano()) // the one place a clock chooses anything; printed below
	}
	list := scenarios.All()
	if len(names) > 0 {
		list = nil
		for _, n := range names {
			s, err := scenarios.Lookup(n)
			if err != nil {
				return 0, badInput("%v", err)
			}
			list = append(list, s)
		}
	}
	cfg := harness.SweepConfig{Scenarios: list, SeedsPerScenario: *seeds, MasterSeed: *master, Workers: *workers,
		Knobs: knobs, OutDir: *out, StopAtFirst: *stopAtFirst, Shrink: *stopAtFirst, Pages: true}
	total := len(list) * *seeds
	nWorkers := *workers
	if nWorkers <= 0 {
		nWorkers = runtime.GOMAXPROCS(0)
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "zabsim sweep: %d scenarios x %d seeds = %d runs on %d workers, master seed %d\n",
			len(list), *seeds, total, nWorkers, *master)
		if len(knobs) > 0 {
			fmt.Fprintf(stdout, "bug knobs on: %v (any violation is a finding)\n", knobs)
		}
	}
	start := time.Now()
	stopProgress := startProgress(stderr, !*asJSON && isTerminal(stderr), total, start, &cfg)
	res, err := harness.Sweep(context.Background(), cfg)
	stopProgress()
	elapsed := time.Since(start)
	if err != nil {
		return 0, err
	}
	var mismatches []harness.Mismatch
	if *checkDet > 0 {
		mismatches = harness.CheckDeterminism(list, *master, *checkDet)
	}
	code := sweepExit(res)
	if len(mismatches) > 0 {
		code = exitViolation
	}
	if *asJSON {
		return code, writeJSON(stdout, sweepJSON{SweepResult: res, MasterSeed: *master,
			SeedsPerScenario: *seeds, Scenarios: len(list), WallSeconds: elapsed.Seconds(),
			DeterminismChecked: *checkDet, DeterminismMismatches: mismatches})
	}
	writeSweepSummary(stdout, res, elapsed)
	if *stopAtFirst && res.FirstFailureRun > 0 {
		fmt.Fprintf(stdout, "first failure after %d runs, %.2fs of wall time\n", res.FirstFailureRun, elapsed.Seconds())
	}
	if *checkDet > 0 {
		if len(mismatches) == 0 {
			fmt.Fprintf(stdout, "determinism: %d runs repeated byte for byte\n", *checkDet)
		}
		for _, m := range mismatches {
			fmt.Fprintf(stdout, "NOT DETERMINISTIC: %s seed %d parts at event %d:\n  first:  %s\n  second: %s\n", m.Scenario, m.Seed, m.Event, m.First, m.Second)
		}
	}
	return code, nil
}

type sweepJSON struct {
	harness.SweepResult
	MasterSeed       uint64  `json:"masterSeed"`
	SeedsPerScenario int     `json:"seedsPerScenario"`
	Scenarios        int     `json:"scenarios"`
	WallSeconds      float64 `json:"wallSeconds"`
	// DeterminismChecked is how many runs -check-determinism repeated.
	DeterminismChecked    int                `json:"determinismChecked,omitempty"`
	DeterminismMismatches []harness.Mismatch `json:"determinismMismatches,omitempty"`
}

func sweepExit(res harness.SweepResult) int {
	if len(res.Failures) > 0 {
		return exitViolation
	}
	return exitOK
}

func writeSweepSummary(w io.Writer, res harness.SweepResult, elapsed time.Duration) {
	secs := max(elapsed.Seconds(), 1e-9)
	fmt.Fprintf(w, "ran %d runs (%d events) in %.2fs: %.0f runs/s, %.0f events/s\n",
		res.Runs, res.Events, elapsed.Seconds(), float64(res.Runs)/secs, float64(res.Events)/secs)
	fmt.Fprintf(w, "sweep hash %s\n", res.SweepHash)
	if len(res.Violations) > 0 {
		fmt.Fprintf(w, "invariant violations seen (knob scenarios expect theirs):\n")
		for _, k := range sortedKeys(res.Violations) {
			fmt.Fprintf(w, "  %-28s %d runs\n", k, res.Violations[k])
		}
	}
	if len(res.Outsiders) > 0 {
		fmt.Fprintf(w, "outsiders (live voters left out of the established ensemble; only stuck-looking is a violation):\n")
		knobs := ""
		for _, k := range res.Knobs {
			knobs += " -knob " + k
		}
		for _, k := range sortedKeys(res.Outsiders) {
			ex := res.OutsiderExamples[k]
			fmt.Fprintf(w, "  %-28s %d runs (first: zabsim run -scenario %s -seed %d%s)\n", k, res.Outsiders[k], ex.Scenario, ex.Seed, knobs)
		}
	}
	fmt.Fprintf(w, "probes reached:\n")
	for _, k := range sortedKeys(res.Probes) {
		fmt.Fprintf(w, "  %-30s %d\n", k, res.Probes[k])
	}
	if len(res.Failures) == 0 {
		fmt.Fprintf(w, "failures: none\n")
		return
	}
	fmt.Fprintf(w, "FAILURES: %d\n", len(res.Failures))
	for i, f := range res.Failures {
		if i == 20 {
			fmt.Fprintf(w, "  ... and %d more\n", len(res.Failures)-20)
			break
		}
		why := f.Expectation
		if f.Error != "" {
			why = f.Error
		} else if why == "" {
			why = fmt.Sprint("violations ", f.Violations)
		}
		if len(why) > 300 {
			why = why[:300] + "..."
		}
		fmt.Fprintf(w, "  %s seed %d: %s\n", f.Scenario, f.Seed, why)
		if f.SavedTo != "" {
			shrunk := ""
			if f.Shrunk {
				shrunk = fmt.Sprintf(", shrunk from %d to %d faults", f.Faults, f.ShrunkFaults)
			}
			fmt.Fprintf(w, "    saved%s: %s  (replay: go run ./cmd/zabsim replay %s)\n", shrunk, f.SavedTo, f.SavedTo)
			fmt.Fprintf(w, "    page: %s\n", strings.TrimSuffix(f.SavedTo, ".json")+".html")
		}
	}
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// startProgress prints a progress line on a terminal twice a second; it returns a stop func.
func startProgress(w io.Writer, on bool, total int, start time.Time, cfg *harness.SweepConfig) func() {
	if !on {
		return func() {}
	}
	var mu sync.Mutex
	done := 0
	cfg.Progress = func(n, _ int) {
		mu.Lock()
		done = max(done, n)
		mu.Unlock()
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				fmt.Fprintf(w, "\r%-70s\r", "")
				return
			case <-t.C:
				mu.Lock()
				n := done
				mu.Unlock()
				el := time.Since(start).Seconds()
				fmt.Fprintf(w, "\r  %d/%d runs (%.0f%%)  %.0f runs/s  ", n, total, 100*float64(n)/float64(total), float64(n)/max(el, 1e-9))
			}
		}
	}()
	return func() { close(stop); <-finished }
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
