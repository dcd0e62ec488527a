package harness

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"zabsim/scenarios"
)

// TestShardsCoverTheSweep: over the whole catalogue, n shards make disjoint runs that together
// are the unsharded sweep, and Merge gives its summary and sweep hash, for n = 3 and 7
// and with 1 or 2 workers per shard.
// Reference: issue 12, "n shards cover exactly one unsharded sweep with the same master seed".
func TestShardsCoverTheSweep(t *testing.T) {
	base := SweepConfig{Scenarios: scenarios.All(), SeedsPerScenario: 2, MasterSeed: 42, Workers: 2}
	want, err := Sweep(context.Background(), base)
	require.NoError(t, err)
	for _, n := range []int{3, 7} { // 7 does not divide the runs: shards of unequal size
		var parts []ShardResult
		seen := map[int]int{}
		for i := 0; i < n; i++ {
			cfg := base
			cfg.Shard, cfg.Shards, cfg.Workers = i, n, 1+i%2
			res, err := Sweep(context.Background(), cfg)
			require.NoError(t, err)
			require.Equal(t, cfg.Total(), res.Runs)
			for _, o := range res.Outcomes {
				require.Equal(t, i, o.Index%n, "run %d in shard %d of %d", o.Index, i, n)
				seen[o.Index]++
			}
			parts = append(parts, ShardResult{Sweep: IdentityOf(cfg), Shard: i, Shards: n, Result: res})
		}
		require.Len(t, seen, want.Runs, "%d shards cover every run", n)
		got, err := Merge(parts)
		require.NoError(t, err)
		require.Equal(t, want.SweepHash, got.SweepHash, "%d shards", n)
		require.Equal(t, want.Runs, got.Runs)
		require.Equal(t, want.Passed, got.Passed)
		require.Equal(t, want.Events, got.Events)
		require.Equal(t, want.Violations, got.Violations)
		require.Equal(t, want.ExpectedViolations, got.ExpectedViolations)
		require.Equal(t, want.Probes, got.Probes)
		require.Equal(t, want.Outsiders, got.Outsiders)
		require.Equal(t, want.OutsiderExamples, got.OutsiderExamples)
		require.Equal(t, len(want.Failures), len(got.Failures))
	}
}

// TestHuntSavesOneFilePerFinding: a knob hunt saves at most one file per (scenario,
// invariant), and a second hunt into the same folder adds none for findings already there and
// overwrites nothing.
// Reference: issue 10, "-knob CountObservers over all scenarios saves 632 files".
func TestHuntSavesOneFilePerFinding(t *testing.T) {
	dir := t.TempDir()
	cfg := SweepConfig{Scenarios: scenarios.All(), SeedsPerScenario: 3, MasterSeed: 9, Knobs: []string{"CountObservers"}, OutDir: dir}
	res, err := Sweep(context.Background(), cfg)
	require.NoError(t, err)
	require.NotEmpty(t, res.Failures)
	keys := map[string]bool{}
	for _, f := range res.Failures {
		for _, v := range f.Violations {
			keys[f.Scenario+"-"+v] = true
		}
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.LessOrEqual(t, len(entries), len(keys))
	require.Less(t, len(entries), len(res.Failures), "some failures share a finding")
	before := map[string]int64{}
	for _, e := range entries {
		info, _ := e.Info()
		before[e.Name()] = info.ModTime().UnixNano()
	}

	cfg.MasterSeed = 10 // new seeds, mostly the same findings
	res2, err := Sweep(context.Background(), cfg)
	require.NoError(t, err)
	entries, err = os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, strings.HasSuffix(e.Name(), ".tmp"))
		if mt, ok := before[e.Name()]; ok {
			info, _ := e.Info()
			require.Equal(t, mt, info.ModTime().UnixNano(), "%s was rewritten", e.Name())
		}
	}
	for _, f := range res2.Failures {
		if f.SavedTo != "" {
			for _, v := range f.Violations {
				keys[f.Scenario+"-"+v] = true
			}
		}
	}
	require.LessOrEqual(t, len(entries), len(keys), "one file per (scenario, invariant) across both hunts")
}
