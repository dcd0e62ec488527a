// Package harness runs many checked runs: seed sweeps over the scenario catalogue on every core,
// replays of saved run files, and the text timeline. The command line is a thin shell over it,
// so everything it does is reachable from tests.
package harness

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/runfile"
	"zabsim/scenarios"
	"zabsim/sim"
	"zabsim/viz"
)

// SweepConfig says what a sweep runs.
type SweepConfig struct {
	Scenarios []scenarios.Scenario
	// SeedsPerScenario is how many seeds each scenario runs with. With Duration or
	// UntilFailures set it may be 0: fresh seeds then run until one of them stops the sweep.
	SeedsPerScenario int
	// MasterSeed chooses the seeds: seed i is a hash of (MasterSeed, i).
	MasterSeed uint64
	// Workers is how many runs go at once (0: GOMAXPROCS).
	Workers int
	// Knobs are turned on in every run. A run is then judged by its invariants alone: any
	// violation is a finding. Without knobs a run is judged by its scenario's expectation.
	Knobs []string
	// OutDir, if set, receives one run file per failure: at most one per (scenario, invariant)
	// with knobs, one per (scenario, invariant set) without, counting files already there.
	OutDir string
	// StopAtFirst stops the sweep at the first failure (UntilFailures 1).
	StopAtFirst bool
	// UntilFailures, if positive, stops the sweep once this many runs failed.
	UntilFailures int
	// Duration, if positive, stops the sweep after this much wall time.
	Duration time.Duration
	// Shard and Shards split the sweep: run k of the unsharded order belongs to shard
	// k mod Shards, so Shards shards cover exactly the unsharded sweep. Shards 0 or 1: all.
	Shard, Shards int
	// Shrink makes each saved failure smaller first (Shrink) when it broke an invariant.
	Shrink bool
	// Pages writes, next to each saved run file, its page (viz) under the same name with
	// .html, so a failure can be seen without running it again.
	Pages bool
	// Progress, if set, is called after each run with the number done so far, the total
	// (0 when the sweep is open-ended) and the failures so far.
	Progress func(done, total, failures int)
}

// Outcome is one run of a sweep.
type Outcome struct {
	// Index is the run's place in the unsharded sweep's order (seed index x scenarios + scenario).
	Index      int      `json:"index"`
	Scenario   string   `json:"scenario"`
	Seed       Seed     `json:"seed"`
	Violations []string `json:"violations"`
	// Expectation is how the run differed from its scenario's expected outcome ("" if it
	// did not, or in knob mode).
	Expectation string `json:"expectation,omitempty"`
	// Error is an invalid spec or a simulator panic.
	Error     string `json:"error,omitempty"`
	TraceHash string `json:"traceHash"`
	Events    uint64 `json:"events"`
	SavedTo   string `json:"savedTo,omitempty"`
	// SameAs names the saved file of an earlier failure with the same key, when this one was
	// not saved to keep one file per (scenario, invariant).
	SameAs string `json:"sameAs,omitempty"`
	// Faults is the failing run's fault count; ShrunkFaults what Shrink left of it.
	Faults       int  `json:"faults"`
	Shrunk       bool `json:"shrunk,omitempty"`
	ShrunkFaults int  `json:"shrunkFaults"`
	// OutsiderKinds are the kinds of the run's outsiders (checker.Outsider), each once.
	OutsiderKinds []string `json:"outsiderKinds"`
	failed        bool
	hash          uint64
	probes        [protocol.ProbeCount]int
}

// Failed reports whether the run is a finding.
func (o *Outcome) Failed() bool { return o.failed }

// SweepResult summarises a sweep. Everything in it is independent of the number of workers.
type SweepResult struct {
	Runs   int    `json:"runs"`
	Events uint64 `json:"events"`
	// Passed counts the runs that are not findings.
	Passed   int       `json:"passed"`
	Failures []Outcome `json:"failures"`
	// Violations counts every violated invariant; ExpectedViolations those of runs whose
	// scenario expects them (its own bug knob, its Expect), UnexpectedViolations those of
	// the failures. The two add up to Violations.
	Violations           map[string]int `json:"violations"`
	ExpectedViolations   map[string]int `json:"expectedViolations"`
	UnexpectedViolations map[string]int `json:"unexpectedViolations"`
	Probes               map[string]int `json:"probes"`
	// Outsiders counts, per kind, the runs that left a live voter out of the established
	// ensemble the way ZooKeeper would (not violations); OutsiderExamples names the first
	// such run of each kind, for replay.
	Outsiders        map[string]int     `json:"outsiders"`
	OutsiderExamples map[string]Example `json:"outsiderExamples"`
	// SweepHash combines every run's trace hash in (scenario, seed) order: two sweeps with
	// the same configuration have the same SweepHash, whatever the number of workers or shards.
	SweepHash string   `json:"sweepHash"`
	Knobs     []string `json:"knobs"`
	// FirstFailureRun is the 1-based index, in run order, of the first failure (0: none).
	FirstFailureRun int `json:"firstFailureRun,omitempty"`
	// RunHashes are the runs' (index, trace hash) in index order, so that shards merge into
	// the unsharded sweep hash. Only kept when asked (KeepRunHashes), for -result files.
	RunHashes []RunHash `json:"runHashes,omitempty"`
	Outcomes  []Outcome `json:"-"`
}

// RunHash is one run's place and trace hash.
type RunHash struct {
	Index int    `json:"i"`
	Hash  string `json:"h"`
}

// Example names one run of a sweep.
type Example struct {
	Index    int    `json:"index"`
	Scenario string `json:"scenario"`
	Seed     Seed   `json:"seed"`
}

// Seed is a seed that marshals as a JSON string, so that seeds above 2^53 survive jq and
// JavaScript, and unmarshals from a string or (older output) a number.
type Seed uint64

func (s Seed) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatUint(uint64(s), 10) + `"`), nil
}

func (s *Seed) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseUint(strings.Trim(string(b), `"`), 10, 64)
	if err != nil {
		return fmt.Errorf("invalid seed %s: %w", b, err)
	}
	*s = Seed(v)
	return nil
}

// SeedAt returns the i-th seed of a sweep with master seed m (splitmix64).
func SeedAt(m uint64, i int) uint64 {
	z := m + uint64(i+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

type job struct {
	index    int
	scenario scenarios.Scenario
	seed     uint64
}

// jobAt is run k of the unsharded sweep: seeds in the outer loop, so an open-ended sweep
// gives every scenario its turn with each fresh seed.
func jobAt(list []scenarios.Scenario, master uint64, k int) job {
	return job{index: k, scenario: list[k%len(list)], seed: SeedAt(master, k/len(list))}
}

// Total is how many runs the sweep makes (0: open-ended, until Duration or UntilFailures).
func (cfg SweepConfig) Total() int {
	if cfg.SeedsPerScenario <= 0 {
		return 0
	}
	all := cfg.SeedsPerScenario * len(cfg.Scenarios)
	if cfg.Shards <= 1 {
		return all
	}
	n := all / cfg.Shards
	if cfg.Shard < all%cfg.Shards {
		n++
	}
	return n
}

// ErrStopped is returned with the partial result of a sweep whose context was cancelled.
// Sweep returns ctx.Err() itself; this only documents it.

// Sweep runs every scenario with SeedsPerScenario seeds (or fresh seeds until Duration or
// UntilFailures), on Workers goroutines. A cancelled ctx stops it: the result then covers
// the runs that finished, its failures are saved, and the error is ctx.Err().
func Sweep(ctx context.Context, cfg SweepConfig) (SweepResult, error) {
	var knobs protocol.Knobs
	for _, k := range cfg.Knobs {
		if err := knobs.Set(k); err != nil {
			return SweepResult{}, err
		}
	}
	if len(cfg.Scenarios) == 0 {
		return SweepResult{}, fmt.Errorf("no scenarios to sweep")
	}
	open := cfg.Duration > 0 || cfg.UntilFailures > 0
	if cfg.SeedsPerScenario < 1 && !open {
		return SweepResult{}, fmt.Errorf("seeds per scenario must be at least 1, got %d", cfg.SeedsPerScenario)
	}
	shards, shard := max(cfg.Shards, 1), cfg.Shard
	if shard < 0 || shard >= shards {
		return SweepResult{}, fmt.Errorf("shard %d out of range 0..%d", shard, shards-1)
	}
	limit := -1 // runs of the unsharded order; -1: none
	if cfg.SeedsPerScenario > 0 {
		limit = cfg.SeedsPerScenario * len(cfg.Scenarios)
	}
	untilFailures := cfg.UntilFailures
	if cfg.StopAtFirst {
		untilFailures = 1
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var deadline time.Time
	if cfg.Duration > 0 {
		deadline = time.Now().Add(cfg.Duration) // wall time is the harness's, never the simulation's
	}
	total := cfg.Total()
	var mu sync.Mutex
	var outcomes []Outcome
	var next, done, failures atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && !stop.Load() {
				if !deadline.IsZero() && !time.Now().Before(deadline) {
					return
				}
				k := shard + int(next.Add(1)-1)*shards
				if limit >= 0 && k >= limit {
					return
				}
				o := runOne(jobAt(cfg.Scenarios, cfg.MasterSeed, k), cfg.Knobs)
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
				nf := int(failures.Load())
				if o.failed {
					nf = int(failures.Add(1))
					if untilFailures > 0 && nf >= untilFailures {
						stop.Store(true)
					}
				}
				n := int(done.Add(1))
				if cfg.Progress != nil {
					cfg.Progress(n, total, nf)
				}
			}
		}()
	}
	wg.Wait()
	slices.SortFunc(outcomes, func(a, b Outcome) int { return a.Index - b.Index })
	res := summarise(outcomes, cfg.Knobs)
	if cfg.OutDir != "" {
		if err := saveFailures(cfg, &res); err != nil {
			return res, err
		}
	}
	return res, ctx.Err()
}

// saveFailures saves at most one failure per key (see failureKeys), counting files a former
// sweep left in OutDir, so a long hunt does not fill the folder with copies of one finding.
func saveFailures(cfg SweepConfig, res *SweepResult) error {
	saved := map[string]string{}
	for i := range res.Failures {
		f := &res.Failures[i]
		keys := failureKeys(f, len(cfg.Knobs) > 0)
		fresh := ""
		for _, k := range keys {
			if p, ok := saved[k]; ok {
				f.SameAs = p
				continue
			}
			if old, _ := filepath.Glob(filepath.Join(cfg.OutDir, globEscape(k)+"-seed*.json")); len(old) > 0 {
				saved[k], f.SameAs = old[0], old[0]
				continue
			}
			fresh = k
			break
		}
		if fresh == "" {
			continue
		}
		path, err := saveFailure(cfg.OutDir, fresh, f, cfg.Knobs, cfg.Shrink, cfg.Pages)
		if err != nil {
			return err
		}
		f.SavedTo, f.SameAs = path, ""
		for _, k := range keys {
			if _, ok := saved[k]; !ok {
				saved[k] = path
			}
		}
	}
	return nil
}

// failureKeys names what a failure found: with knobs each (scenario, invariant), since a hunt
// looks for invariants; without, the (scenario, invariant set), or the missed expectation.
func failureKeys(o *Outcome, knobMode bool) []string {
	switch {
	case o.Error != "":
		return []string{o.Scenario + "-error"}
	case len(o.Violations) == 0:
		return []string{o.Scenario + "-expectation"}
	case knobMode:
		var keys []string
		for _, v := range o.Violations {
			keys = append(keys, o.Scenario+"-"+v)
		}
		return keys
	}
	return []string{o.Scenario + "-" + strings.Join(o.Violations, "+")}
}

func globEscape(s string) string {
	r := strings.NewReplacer("*", "\\*", "?", "\\?", "[", "\\[", "\\", "\\\\")
	return r.Replace(s)
}

func runOne(j job, knobs []string) (o Outcome) {
	o = Outcome{Index: j.index, Scenario: j.scenario.Name, Seed: Seed(j.seed), Violations: []string{}, OutsiderKinds: []string{}}
	spec := j.scenario.Build(j.seed)
	for _, k := range knobs {
		_ = spec.Config.Knobs.Set(k) // validated by Sweep
	}
	o.Faults = len(spec.Faults)
	rep, err := checker.Run(spec, checker.Options{})
	if err != nil {
		o.Error, o.failed = err.Error(), true
		return o
	}
	o.Violations = rep.ViolationNames()
	if o.Violations == nil {
		o.Violations = []string{}
	}
	o.TraceHash, o.hash, o.Events, o.probes = rep.TraceHash, rep.Hash, rep.Events, rep.Probes
	for _, x := range rep.Outsiders {
		if !slices.Contains(o.OutsiderKinds, x.Kind) {
			o.OutsiderKinds = append(o.OutsiderKinds, x.Kind)
		}
	}
	if len(knobs) > 0 {
		o.failed = len(o.Violations) > 0
		return o
	}
	if err := j.scenario.Expect(rep); err != nil {
		o.Expectation, o.failed = err.Error(), true
	}
	return o
}

// summarise folds outcomes, in index order, into a result.
func summarise(outcomes []Outcome, knobs []string) SweepResult {
	res := emptyResult(knobs)
	var probes [protocol.ProbeCount]int
	for i := range outcomes {
		o := &outcomes[i]
		res.Runs++
		res.Events += o.Events
		res.RunHashes = append(res.RunHashes, RunHash{o.Index, fmt.Sprintf("%x", o.hash)})
		for _, v := range o.Violations {
			res.Violations[v]++
			if o.failed {
				res.UnexpectedViolations[v]++
			} else {
				res.ExpectedViolations[v]++
			}
		}
		for p := range probes {
			probes[p] += o.probes[p]
		}
		for _, k := range o.OutsiderKinds {
			if res.Outsiders[k]++; res.Outsiders[k] == 1 {
				res.OutsiderExamples[k] = Example{Index: o.Index, Scenario: o.Scenario, Seed: o.Seed}
			}
		}
		if o.failed {
			res.Failures = append(res.Failures, *o)
			if res.FirstFailureRun == 0 {
				res.FirstFailureRun = o.Index + 1
			}
		} else {
			res.Passed++
		}
	}
	res.Outcomes = outcomes
	for p := protocol.Probe(1); p < protocol.ProbeCount; p++ {
		res.Probes[p.String()] = probes[p]
	}
	res.SweepHash = SweepHashOf(outcomesList(outcomes), res.RunHashes)
	return res
}

func emptyResult(knobs []string) SweepResult {
	res := SweepResult{Violations: map[string]int{}, ExpectedViolations: map[string]int{}, UnexpectedViolations: map[string]int{},
		Probes: map[string]int{}, Outsiders: map[string]int{}, OutsiderExamples: map[string]Example{},
		Knobs: slices.Clone(knobs), Failures: []Outcome{}, RunHashes: []RunHash{}}
	if res.Knobs == nil {
		res.Knobs = []string{}
	}
	return res
}

type runName struct {
	scenario string
	seed     uint64
}

func outcomesList(outcomes []Outcome) []runName {
	names := make([]runName, len(outcomes))
	for i, o := range outcomes {
		names[i] = runName{o.Scenario, uint64(o.Seed)}
	}
	return names
}

// SweepHashOf combines runs' trace hashes in index order (the same text as ever, so sweep
// hashes stay comparable with older sweeps).
func SweepHashOf(names []runName, hashes []RunHash) string {
	h := fnv.New64a()
	for i := range names {
		fmt.Fprintf(h, "%s/%d/%s;", names[i].scenario, names[i].seed, hashes[i].Hash)
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// saveFailure writes a run file that replays the failure, shrunk first if asked.
func saveFailure(dir, key string, o *Outcome, knobs []string, shrink, page bool) (string, error) {
	s, err := scenarios.Lookup(o.Scenario)
	if err != nil {
		return "", err
	}
	spec := s.Build(uint64(o.Seed))
	for _, k := range knobs {
		_ = spec.Config.Knobs.Set(k)
	}
	if shrink && len(o.Violations) > 0 {
		spec = Shrink(spec, o.Violations[0])
		o.Shrunk, o.ShrunkFaults = true, len(spec.Faults)
	}
	// Run once more to record the decisions, so the file replays its choices, not its seed.
	rep, err := checker.Run(spec, checker.Options{RecordDecisions: true, KeepTrace: page})
	if err != nil {
		return "", err
	}
	spec.Decisions = rep.Decisions
	o.Violations, o.TraceHash = rep.ViolationNames(), rep.TraceHash
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Never overwrite: an earlier file of the same name is someone's finding.
	path := filepath.Join(dir, fmt.Sprintf("%s-seed%d.json", key, o.Seed))
	for n := 2; ; n++ {
		if _, err := os.Lstat(path); os.IsNotExist(err) {
			break
		}
		path = filepath.Join(dir, fmt.Sprintf("%s-seed%d-%d.json", key, o.Seed, n))
	}
	f := runfile.File{Spec: *spec, Expect: runfile.Expectation{Violations: o.Violations, TraceHash: o.TraceHash}}
	FitFileLimit(&f)
	if err := runfile.Save(path, f); err != nil {
		return "", err
	}
	if page {
		if err := viz.WriteFile(strings.TrimSuffix(path, ".json")+".html", spec, rep); err != nil {
			return "", err
		}
	}
	return path, nil
}

// SpecFor builds scenario name with seed and knobs, for run and replay.
func SpecFor(name string, seed uint64, knobs []string) (*sim.RunSpec, scenarios.Scenario, error) {
	s, err := scenarios.Lookup(name)
	if err != nil {
		return nil, s, err
	}
	spec := s.Build(seed)
	for _, k := range knobs {
		if err := spec.Config.Knobs.Set(k); err != nil {
			return nil, s, err
		}
	}
	return spec, s, nil
}

// Mismatch is a run that did not repeat itself: same spec, different trace.
type Mismatch struct {
	Scenario string `json:"scenario"`
	Seed     Seed   `json:"seed"`
	// Event is the index of the first differing trace event; First and Second are it, as
	// each run printed it.
	Event  int    `json:"event"`
	First  string `json:"first"`
	Second string `json:"second"`
}

// CheckDeterminism runs a sample of (scenario, seed) pairs twice each and compares their traces:
// the self-check of the sweep. It returns every pair that did not repeat itself, with the
// first event at which the two traces part.
func CheckDeterminism(list []scenarios.Scenario, masterSeed uint64, sample int) []Mismatch {
	var out []Mismatch
	for i := 0; i < sample; i++ {
		s := list[i%len(list)]
		seed := SeedAt(masterSeed, i)
		a, errA := checker.Run(s.Build(seed), checker.Options{KeepTrace: true})
		b, errB := checker.Run(s.Build(seed), checker.Options{KeepTrace: true})
		if errA != nil || errB != nil {
			continue // an invalid spec is reported by the sweep itself
		}
		if a.TraceHash == b.TraceHash && len(a.Trace) == len(b.Trace) {
			continue
		}
		m := Mismatch{Scenario: s.Name, Seed: Seed(seed), Event: min(len(a.Trace), len(b.Trace))}
		for k := 0; k < len(a.Trace) && k < len(b.Trace); k++ {
			if ta, tb := a.Trace[k].String(), b.Trace[k].String(); ta != tb {
				m.Event, m.First, m.Second = k, ta, tb
				break
			}
		}
		out = append(out, m)
	}
	return out
}

// FitFileLimit drops a run file's recorded decisions when they would take it over
// runfile.MaxFileBytes, which Load refuses: the file then replays from its seed, which the
// recorded trace hash checks, instead of not replaying at all.
func FitFileLimit(f *runfile.File) {
	if f.Spec.Decisions == nil {
		return
	}
	if data, err := runfile.Marshal(*f); err == nil && len(data) <= runfile.MaxFileBytes {
		return
	}
	f.Spec.Decisions = nil
}
