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
	"strings"
	"sync"
	"sync/atomic"

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
	// SeedsPerScenario is how many seeds each scenario runs with.
	SeedsPerScenario int
	// MasterSeed chooses the seeds: seed i is a hash of (MasterSeed, i).
	MasterSeed uint64
	// Workers is how many runs go at once (0: GOMAXPROCS).
	Workers int
	// Knobs are turned on in every run. A run is then judged by its invariants alone: any
	// violation is a finding. Without knobs a run is judged by its scenario's expectation.
	Knobs []string
	// OutDir, if set, receives one run file per failure.
	OutDir string
	// StopAtFirst stops the sweep at the first failure.
	StopAtFirst bool
	// Shrink makes each saved failure smaller first (Shrink) when it broke an invariant.
	Shrink bool
	// Pages writes, next to each saved run file, its page (viz) under the same name with
	// .html, so a failure can be seen without running it again.
	Pages bool
	// Progress, if set, is called after each run with the number done so far.
	Progress func(done, total int)
}

// Outcome is one run of a sweep.
type Outcome struct {
	Scenario   string   `json:"scenario"`
	Seed       uint64   `json:"seed"`
	Violations []string `json:"violations,omitempty"`
	// Expectation is how the run differed from its scenario's expected outcome ("" if it
	// did not, or in knob mode).
	Expectation string `json:"expectation,omitempty"`
	// Error is an invalid spec or a simulator panic.
	Error     string `json:"error,omitempty"`
	TraceHash string `json:"traceHash"`
	Events    uint64 `json:"events"`
	SavedTo   string `json:"savedTo,omitempty"`
	// Faults is the failing run's fault count; ShrunkFaults what Shrink left of it.
	Faults       int  `json:"faults"`
	Shrunk       bool `json:"shrunk,omitempty"`
	ShrunkFaults int  `json:"shrunkFaults"`
	// OutsiderKinds are the kinds of the run's outsiders (checker.Outsider), each once.
	OutsiderKinds []string `json:"outsiderKinds,omitempty"`
	failed        bool
	hash          uint64
	probes        [protocol.ProbeCount]int
}

// Failed reports whether the run is a finding.
func (o *Outcome) Failed() bool { return o.failed }

// SweepResult summarises a sweep. Everything in it is independent of the number of workers.
type SweepResult struct {
	Runs       int            `json:"runs"`
	Events     uint64         `json:"events"`
	Failures   []Outcome      `json:"failures"`
	Violations map[string]int `json:"violations"`
	Probes     map[string]int `json:"probes"`
	// Outsiders counts, per kind, the runs that left a live voter out of the established
	// ensemble the way ZooKeeper would (not violations); OutsiderExamples names the first
	// such run of each kind, for replay.
	Outsiders        map[string]int     `json:"outsiders"`
	OutsiderExamples map[string]Example `json:"outsiderExamples"`
	// SweepHash combines every run's trace hash in (scenario, seed) order: two sweeps with
	// the same configuration have the same SweepHash, whatever the number of workers.
	SweepHash string   `json:"sweepHash"`
	Knobs     []string `json:"knobs"`
	// FirstFailureRun is the 1-based index, in run order, of the first failure (0: none).
	FirstFailureRun int       `json:"firstFailureRun,omitempty"`
	Outcomes        []Outcome `json:"-"`
}

// Example names one run of a sweep.
type Example struct {
	Scenario string `json:"scenario"`
	Seed     uint64 `json:"seed"`
}

// SeedAt returns the i-th seed of a sweep with master seed m (splitmix64).
func SeedAt(m uint64, i int) uint64 {
	z := m + uint64(i+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

type job struct {
	scenario scenarios.Scenario
	seed     uint64
}

// Sweep runs every scenario with SeedsPerScenario seeds, on Workers goroutines.
func Sweep(ctx context.Context, cfg SweepConfig) (SweepResult, error) {
	var knobs protocol.Knobs
	for _, k := range cfg.Knobs {
		if err := knobs.Set(k); err != nil {
			return SweepResult{}, err
		}
	}
	if cfg.SeedsPerScenario < 1 {
		return SweepResult{}, fmt.Errorf("seeds per scenario must be at least 1, got %d", cfg.SeedsPerScenario)
	}
	var jobs []job
	for i := 0; i < cfg.SeedsPerScenario; i++ {
		for _, s := range cfg.Scenarios {
			jobs = append(jobs, job{s, SeedAt(cfg.MasterSeed, i)})
		}
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	outcomes := make([]Outcome, len(jobs))
	ran := make([]bool, len(jobs))
	var next, done atomic.Int64
	var stop atomic.Bool
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && !stop.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) {
					return
				}
				outcomes[i] = runOne(jobs[i], cfg.Knobs)
				ran[i] = true
				if outcomes[i].failed && cfg.StopAtFirst {
					stop.Store(true)
				}
				n := int(done.Add(1))
				if cfg.Progress != nil {
					cfg.Progress(n, len(jobs))
				}
			}
		}()
	}
	wg.Wait()
	res := summarise(jobs, outcomes, ran, cfg)
	if cfg.OutDir != "" {
		for i := range res.Failures {
			path, err := saveFailure(cfg.OutDir, &res.Failures[i], cfg.Knobs, cfg.Shrink, cfg.Pages)
			if err != nil {
				return res, err
			}
			res.Failures[i].SavedTo = path
		}
	}
	return res, ctx.Err()
}

func runOne(j job, knobs []string) (o Outcome) {
	o = Outcome{Scenario: j.scenario.Name, Seed: j.seed}
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

func summarise(jobs []job, outcomes []Outcome, ran []bool, cfg SweepConfig) SweepResult {
	res := SweepResult{Violations: map[string]int{}, Probes: map[string]int{}, Outsiders: map[string]int{},
		OutsiderExamples: map[string]Example{}, Knobs: slices.Clone(cfg.Knobs), Failures: []Outcome{}}
	if res.Knobs == nil {
		res.Knobs = []string{}
	}
	h := fnv.New64a()
	var probes [protocol.ProbeCount]int
	for i := range jobs {
		if !ran[i] {
			continue
		}
		o := &outcomes[i]
		res.Runs++
		res.Events += o.Events
		fmt.Fprintf(h, "%s/%d/%x;", o.Scenario, o.Seed, o.hash)
		for _, v := range o.Violations {
			res.Violations[v]++
		}
		for p := range probes {
			probes[p] += o.probes[p]
		}
		for _, k := range o.OutsiderKinds {
			if res.Outsiders[k]++; res.Outsiders[k] == 1 {
				res.OutsiderExamples[k] = Example{Scenario: o.Scenario, Seed: o.Seed}
			}
		}
		if o.failed {
			res.Failures = append(res.Failures, *o)
			if res.FirstFailureRun == 0 {
				res.FirstFailureRun = i + 1
			}
		}
		res.Outcomes = append(res.Outcomes, *o)
	}
	for p := protocol.Probe(1); p < protocol.ProbeCount; p++ {
		res.Probes[p.String()] = probes[p]
	}
	res.SweepHash = fmt.Sprintf("%016x", h.Sum64())
	return res
}

// saveFailure writes a run file that replays the failure, shrunk first if asked.
func saveFailure(dir string, o *Outcome, knobs []string, shrink, page bool) (string, error) {
	s, err := scenarios.Lookup(o.Scenario)
	if err != nil {
		return "", err
	}
	spec := s.Build(o.Seed)
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
	name := o.Scenario
	if len(knobs) > 0 {
		name += "+" + strings.Join(knobs, "+")
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-seed%d.json", name, o.Seed))
	f := runfile.File{Spec: *spec, Expect: runfile.Expectation{Violations: o.Violations, TraceHash: o.TraceHash}}
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
	Seed     uint64 `json:"seed"`
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
		m := Mismatch{Scenario: s.Name, Seed: seed, Event: min(len(a.Trace), len(b.Trace))}
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
