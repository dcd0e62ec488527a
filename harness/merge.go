package harness

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
)

// SweepIdentity is what makes shards parts of one sweep: two shard results merge only if
// they agree on all of it.
type SweepIdentity struct {
	MasterSeed       Seed     `json:"masterSeed"`
	Scenarios        []string `json:"scenarios"`
	Knobs            []string `json:"knobs"`
	SeedsPerScenario int      `json:"seedsPerScenario"`
	Duration         string   `json:"duration,omitempty"`
	UntilFailures    int      `json:"untilFailures,omitempty"`
	// Version is the code that ran: shards of different builds may not draw the same runs.
	Version string `json:"version"`
}

// ShardResult is what one shard of a sweep writes with -result.
type ShardResult struct {
	Sweep  SweepIdentity `json:"sweep"`
	Shard  int           `json:"shard"`
	Shards int           `json:"shards"`
	// Interrupted says the shard was stopped before it finished (Ctrl-C, a signal).
	Interrupted bool        `json:"interrupted,omitempty"`
	Result      SweepResult `json:"result"`
}

// IdentityOf is cfg's identity.
func IdentityOf(cfg SweepConfig) SweepIdentity {
	id := SweepIdentity{MasterSeed: Seed(cfg.MasterSeed), Knobs: slices.Clone(cfg.Knobs), SeedsPerScenario: cfg.SeedsPerScenario,
		UntilFailures: cfg.UntilFailures, Version: CodeVersion(), Scenarios: []string{}}
	if id.Knobs == nil {
		id.Knobs = []string{}
	}
	if cfg.Duration > 0 {
		id.Duration = cfg.Duration.String()
	}
	for _, s := range cfg.Scenarios {
		id.Scenarios = append(id.Scenarios, s.Name)
	}
	return id
}

// CodeVersion names the build: the VCS revision (with "+dirty" for local changes) when the
// binary was built from a checkout, else the module version, else a hash-free "devel" that
// only matches another devel build.
func CodeVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" {
		if dirty {
			rev += "+dirty"
		}
		return rev
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	return "devel"
}

// Merge combines the results of every shard of one sweep into the result the unsharded sweep
// has: the same runs, summary, failures and sweep hash. It refuses shards of different sweeps
// and a missing or doubled shard, naming them.
func Merge(parts []ShardResult) (SweepResult, error) {
	if len(parts) == 0 {
		return SweepResult{}, fmt.Errorf("no shard results to merge")
	}
	first := parts[0]
	n := first.Shards
	if n < 1 {
		return SweepResult{}, fmt.Errorf("shard result 1 has shards = %d", n)
	}
	seen := make([]int, n)
	for i, p := range parts {
		if d := identityDiff(first.Sweep, p.Sweep); d != "" {
			return SweepResult{}, fmt.Errorf("shard result %d is of another sweep than result 1: %s", i+1, d)
		}
		if p.Shards != n {
			return SweepResult{}, fmt.Errorf("shard result %d is one of %d shards, result 1 one of %d", i+1, p.Shards, n)
		}
		if p.Shard < 0 || p.Shard >= n {
			return SweepResult{}, fmt.Errorf("shard result %d has shard index %d, outside 0..%d", i+1, p.Shard, n-1)
		}
		if seen[p.Shard] != 0 {
			return SweepResult{}, fmt.Errorf("shard %d/%d given twice (results %d and %d)", p.Shard, n, seen[p.Shard], i+1)
		}
		seen[p.Shard] = i + 1
	}
	var missing []string
	for s, at := range seen {
		if at == 0 {
			missing = append(missing, fmt.Sprintf("%d/%d", s, n))
		}
	}
	if len(missing) > 0 {
		return SweepResult{}, fmt.Errorf("missing shard results: %s (have %d of %d)", strings.Join(missing, ", "), len(parts), n)
	}
	res := emptyResult(first.Sweep.Knobs)
	for _, p := range parts {
		r := p.Result
		res.Runs += r.Runs
		res.Events += r.Events
		res.Passed += r.Passed
		res.Failures = append(res.Failures, r.Failures...)
		res.RunHashes = append(res.RunHashes, r.RunHashes...)
		addCounts(res.Violations, r.Violations)
		addCounts(res.ExpectedViolations, r.ExpectedViolations)
		addCounts(res.UnexpectedViolations, r.UnexpectedViolations)
		addCounts(res.Probes, r.Probes)
		addCounts(res.Outsiders, r.Outsiders)
		for k, ex := range r.OutsiderExamples {
			if old, ok := res.OutsiderExamples[k]; !ok || ex.Index < old.Index {
				res.OutsiderExamples[k] = ex
			}
		}
		if r.FirstFailureRun > 0 && (res.FirstFailureRun == 0 || r.FirstFailureRun < res.FirstFailureRun) {
			res.FirstFailureRun = r.FirstFailureRun
		}
	}
	if len(res.RunHashes) != res.Runs {
		return SweepResult{}, fmt.Errorf("shard results list %d run hashes for %d runs: written without run hashes?", len(res.RunHashes), res.Runs)
	}
	slices.SortFunc(res.Failures, func(a, b Outcome) int { return a.Index - b.Index })
	slices.SortFunc(res.RunHashes, func(a, b RunHash) int { return a.Index - b.Index })
	names := make([]runName, len(res.RunHashes))
	sc := first.Sweep.Scenarios
	for i, rh := range res.RunHashes {
		if i > 0 && res.RunHashes[i-1].Index == rh.Index {
			return SweepResult{}, fmt.Errorf("run %d appears in two shard results", rh.Index)
		}
		if len(sc) == 0 {
			return SweepResult{}, fmt.Errorf("shard results name no scenarios")
		}
		names[i] = runName{sc[rh.Index%len(sc)], SeedAt(uint64(first.Sweep.MasterSeed), rh.Index/len(sc))}
	}
	res.SweepHash = SweepHashOf(names, res.RunHashes)
	return res, nil
}

func addCounts(dst, src map[string]int) {
	for k, v := range src {
		dst[k] += v
	}
}

func identityDiff(a, b SweepIdentity) string {
	switch {
	case a.MasterSeed != b.MasterSeed:
		return fmt.Sprintf("master seed %d, not %d", b.MasterSeed, a.MasterSeed)
	case !slices.Equal(a.Scenarios, b.Scenarios):
		return fmt.Sprintf("scenarios %v, not %v", b.Scenarios, a.Scenarios)
	case !slices.Equal(a.Knobs, b.Knobs):
		return fmt.Sprintf("knobs %v, not %v", b.Knobs, a.Knobs)
	case a.SeedsPerScenario != b.SeedsPerScenario:
		return fmt.Sprintf("%d seeds per scenario, not %d", b.SeedsPerScenario, a.SeedsPerScenario)
	case a.Duration != b.Duration || a.UntilFailures != b.UntilFailures:
		return fmt.Sprintf("duration %q until-failures %d, not %q %d", b.Duration, b.UntilFailures, a.Duration, a.UntilFailures)
	case a.Version != b.Version:
		return fmt.Sprintf("code version %s, not %s", b.Version, a.Version)
	}
	return ""
}
