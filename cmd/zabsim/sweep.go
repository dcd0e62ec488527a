package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"zabsim/harness"
	"zabsim/protocol"
	"zabsim/scenarios"
)

func cmdSweep(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	seeds := fs.Int("seeds", 50, "seeds per scenario (0 with -duration or -until-failures: fresh seeds until they stop it)")
	var names knobList
	fs.Var(&names, "scenario", "only this scenario (repeatable; default: all)")
	workers := fs.Int("workers", 0, "parallel runs (default: GOMAXPROCS)")
	master := fs.Uint64("master-seed", 0, "chooses the seeds (default: from the clock, printed)")
	asJSON := fs.Bool("json", false, "print the summary as JSON, no progress")
	out := fs.String("out", "", "folder for failure run files, relative to the current folder (default testdata/sweep-failures, "+
		"or testdata/hunts/KNOB with -knob; \"-\" to not save)")
	stopAtFirst := fs.Bool("stop-at-first", false, "stop at the first failure, then shrink and save it")
	untilFailures := fs.Int("until-failures", 0, "stop once this many runs failed")
	duration := fs.Duration("duration", 0, "run fresh seeds until this much wall time is up (e.g. 30m)")
	checkDet := fs.Int("check-determinism", 0, "re-run this many (scenario, seed) pairs twice and compare their traces")
	shardFlag := fs.String("shard", "", "run only shard i of n (\"i/n\", 0 <= i < n) of the (scenario, seed) space")
	shardsFlag := fs.Int("shards", 0, "the number of shards, the index taken from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID")
	resultFile := fs.String("result", "", "write this shard's result as JSON to FILE, for zabsim merge")
	var knobs knobList
	fs.Var(&knobs, "knob", "turn a bug knob on in every run (repeatable); any violation is then a finding")
	pos, err := parseFlags(fs, args, stdout, "sweep [flags]")
	if err != nil {
		return 0, err
	}
	// Every flag is checked before anything is printed or run: a mistake costs nothing.
	if len(pos) > 0 {
		return 0, badInput("sweep: unexpected argument %q", pos[0])
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	open := *duration > 0 || *untilFailures > 0
	switch {
	case *seeds < 0 || (*seeds == 0 && !open):
		return 0, badInput("sweep: -seeds must be at least 1, got %d", *seeds)
	case *workers < 0:
		return 0, badInput("sweep: -workers must be 0 (all cores) or more, got %d", *workers)
	case *checkDet < 0:
		return 0, badInput("sweep: -check-determinism must be 0 or more, got %d", *checkDet)
	case *untilFailures < 0:
		return 0, badInput("sweep: -until-failures must be 0 or more, got %d", *untilFailures)
	case *duration < 0:
		return 0, badInput("sweep: -duration must be positive, got %v", *duration)
	}
	if open && !set["seeds"] {
		*seeds = 0 // open-ended unless a seed count was asked for too
	}
	var pk protocol.Knobs
	for _, k := range knobs {
		if err := pk.Set(k); err != nil {
			return 0, badInput("sweep: %v", err)
		}
	}
	shard, shards, shardFrom, err := parseShard(*shardFlag, *shardsFlag, set["shards"])
	if err != nil {
		return 0, err
	}
	if *checkDet > 0 && shards > 1 {
		return 0, badInput("sweep: -check-determinism runs on one shard only: drop it or -shard")
	}
	if !set["master-seed"] {
		if shards > 1 {
			return 0, badInput("sweep: shards need the same -master-seed, or they sweep different seeds")
		}
		*master = uint64(time.Now().UnixNano()) // the one place a clock chooses anything; printed below
	}
	list := scenarios.All()
	if len(names) > 0 {
		list = nil
		for _, n := range names {
			s, err := scenarios.Lookup(n)
			if err != nil {
				return 0, badInput("sweep: %v", err)
			}
			list = append(list, s)
		}
	}
	outDir := *out
	if !set["out"] {
		outDir = filepath.Join("testdata", "sweep-failures")
		if len(knobs) > 0 {
			// A hunt's findings are not regressions of the faithful model: go test replays
			// them only with ZABSIM_REPLAY_HUNTS=1.
			outDir = filepath.Join("testdata", "hunts", strings.Join(knobs, "+"))
		}
	}
	if outDir == "-" || outDir == "" {
		outDir = ""
	} else if err := checkWritableDir(outDir, true); err != nil {
		return 0, badInput("sweep: -out: %v", err)
	}
	if *resultFile != "" {
		if err := checkSavePath(*resultFile, true); err != nil {
			return 0, badInput("sweep: -result: %v", err)
		}
	}
	cfg := harness.SweepConfig{Scenarios: list, SeedsPerScenario: *seeds, MasterSeed: *master, Workers: *workers,
		Knobs: knobs, OutDir: outDir, StopAtFirst: *stopAtFirst, Shrink: *stopAtFirst, UntilFailures: *untilFailures,
		Duration: *duration, Shard: shard, Shards: shards, Pages: true}
	total := cfg.Total()
	nWorkers := *workers
	if nWorkers <= 0 {
		nWorkers = runtime.GOMAXPROCS(0)
	}
	if !*asJSON {
		what := fmt.Sprintf("%d scenarios x %d seeds = %d runs", len(list), *seeds, len(list)**seeds)
		if open && *seeds == 0 {
			what = fmt.Sprintf("%d scenarios x fresh seeds", len(list))
		}
		fmt.Fprintf(stdout, "zabsim sweep: %s on %d workers, master seed %d\n", what, nWorkers, *master)
		if shards > 1 {
			fmt.Fprintf(stdout, "shard %d/%d (%s): every %dth run from run %d", shard, shards, shardFrom, shards, shard)
			if total > 0 {
				fmt.Fprintf(stdout, ", %d runs", total)
			}
			fmt.Fprintln(stdout)
		}
		if *duration > 0 {
			fmt.Fprintf(stdout, "until %v of wall time is up\n", *duration)
		}
		if *untilFailures > 0 {
			fmt.Fprintf(stdout, "until %d failures\n", *untilFailures)
		}
		if len(knobs) > 0 {
			fmt.Fprintf(stdout, "bug knobs on: %v (any violation is a finding)\n", knobs)
		}
		if outDir != "" {
			abs, _ := filepath.Abs(outDir)
			fmt.Fprintf(stdout, "failures go to %s\n", abs)
		}
	}
	// Ctrl-C stops the runs, not the program: what ran is summarised and its failures saved.
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	start := time.Now()
	stopProgress := startProgress(stderr, !*asJSON && isTerminal(stderr), total, start, &cfg)
	res, err := harness.Sweep(ctx, cfg)
	interrupted := ctx.Err() != nil // before stopSignals, which cancels ctx too
	stopProgress()
	stopSignals()
	elapsed := time.Since(start)
	if err != nil && !interrupted {
		return 0, err
	}
	var mismatches []harness.Mismatch
	if *checkDet > 0 && !interrupted {
		mismatches = harness.CheckDeterminism(list, *master, *checkDet)
	}
	code := sweepExit(res)
	if len(mismatches) > 0 {
		code = exitViolation
	}
	if interrupted {
		code = exitInterrupted
	}
	if *resultFile != "" {
		sr := harness.ShardResult{Sweep: harness.IdentityOf(cfg), Shard: shard, Shards: max(shards, 1), Interrupted: interrupted, Result: res}
		if err := saveJSONAtomic(*resultFile, sr); err != nil {
			return 0, err
		}
	}
	res.RunHashes = nil // in -result files only: they can be long
	if *asJSON {
		if mismatches == nil {
			mismatches = []harness.Mismatch{}
		}
		return code, writeJSON(stdout, sweepJSON{SweepResult: res, MasterSeed: harness.Seed(*master),
			SeedsPerScenario: *seeds, Scenarios: len(list), WallSeconds: elapsed.Seconds(), Shard: shard, Shards: max(shards, 1),
			Interrupted: interrupted, DeterminismChecked: *checkDet, DeterminismMismatches: mismatches})
	}
	if interrupted {
		fmt.Fprintf(stdout, "INTERRUPTED after %d runs: the summary covers the runs that finished\n", res.Runs)
	}
	writeSweepSummary(stdout, res, elapsed)
	if *stopAtFirst && res.FirstFailureRun > 0 {
		fmt.Fprintf(stdout, "first failure after %d runs, %.2fs of wall time\n", res.FirstFailureRun, elapsed.Seconds())
	}
	if *checkDet > 0 && !interrupted {
		if len(mismatches) == 0 {
			fmt.Fprintf(stdout, "determinism: %d runs repeated byte for byte\n", *checkDet)
		}
		for _, m := range mismatches {
			fmt.Fprintf(stdout, "NOT DETERMINISTIC: %s seed %d parts at event %d:\n  first:  %s\n  second: %s\n", m.Scenario, m.Seed, m.Event, m.First, m.Second)
		}
	}
	if *resultFile != "" {
		abs, _ := filepath.Abs(*resultFile)
		fmt.Fprintf(stdout, "shard result written to %s\n", abs)
	}
	return code, nil
}

// parseShard reads -shard i/n, or -shards n with the index from a batch engine's environment.
// It returns the shard, the count (1 when not sharded) and where the index came from.
func parseShard(spec string, n int, nSet bool) (int, int, string, error) {
	if spec != "" && nSet {
		return 0, 0, "", badInput("sweep: give -shard i/n or -shards n, not both")
	}
	if spec != "" {
		a, b, ok := strings.Cut(spec, "/")
		i, err1 := strconv.Atoi(a)
		n, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
			return 0, 0, "", badInput("sweep: -shard %q: want i/n with 0 <= i < n, e.g. 0/3", spec)
		}
		return i, n, "-shard", nil
	}
	if !nSet {
		return 0, 1, "", nil
	}
	if n < 1 {
		return 0, 0, "", badInput("sweep: -shards must be at least 1, got %d", n)
	}
	for _, env := range []string{"JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"} {
		v, ok := os.LookupEnv(env)
		if !ok {
			continue
		}
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i < 0 || i >= n {
			return 0, 0, "", badInput("sweep: %s=%q is not a shard index in 0..%d", env, v, n-1)
		}
		return i, n, env, nil
	}
	return 0, 0, "", badInput("sweep: -shards %d needs the shard index in JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID (or use -shard i/n)", n)
}

type sweepJSON struct {
	harness.SweepResult
	MasterSeed       harness.Seed `json:"masterSeed"`
	Shard            int          `json:"shard"`
	Shards           int          `json:"shards"`
	Interrupted      bool         `json:"interrupted"`
	SeedsPerScenario int          `json:"seedsPerScenario"`
	Scenarios        int          `json:"scenarios"`
	WallSeconds      float64      `json:"wallSeconds"`
	// DeterminismChecked is how many runs -check-determinism repeated.
	DeterminismChecked    int                `json:"determinismChecked,omitempty"`
	DeterminismMismatches []harness.Mismatch `json:"determinismMismatches"`
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
	fmt.Fprintf(w, "passed %d of %d runs, %d failed\n", res.Passed, res.Runs, len(res.Failures))
	if len(res.ExpectedViolations) > 0 {
		fmt.Fprintf(w, "expected violations (the scenario's own bug knob or Expect asks for them; not failures):\n")
		for _, k := range sortedKeys(res.ExpectedViolations) {
			fmt.Fprintf(w, "  %-28s %d runs\n", k, res.ExpectedViolations[k])
		}
	}
	if len(res.UnexpectedViolations) > 0 {
		fmt.Fprintf(w, "UNEXPECTED violations (in failed runs):\n")
		for _, k := range sortedKeys(res.UnexpectedViolations) {
			fmt.Fprintf(w, "  %-28s %d runs\n", k, res.UnexpectedViolations[k])
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
		if f.SameAs != "" {
			fmt.Fprintf(w, "    not saved: same finding as %s\n", f.SameAs)
		}
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
	done, failures := 0, 0
	cfg.Progress = func(n, _, f int) {
		mu.Lock()
		done, failures = max(done, n), max(failures, f)
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
				n, f := done, failures
				mu.Unlock()
				el := time.Since(start).Seconds()
				rate := float64(n) / max(el, 1e-9)
				if total > 0 {
					eta := "?"
					if rate > 0 {
						eta = (time.Duration(float64(total-n)/rate) * time.Second).Round(time.Second).String()
					}
					fmt.Fprintf(w, "\r  %d/%d runs (%.0f%%)  %d failures  %.0f runs/s  ETA %s   ", n, total, 100*float64(n)/float64(total), f, rate, eta)
				} else {
					fmt.Fprintf(w, "\r  %d runs (fresh seeds)  %d failures  %.0f runs/s  %s elapsed   ", n, f, rate, time.Duration(el*float64(time.Second)).Round(time.Second))
				}
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
