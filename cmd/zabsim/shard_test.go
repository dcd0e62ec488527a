package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// shardSweep is a small sweep with failures: a bug knob over a few scenarios, so that the
// merged failures are compared too, not only clean counts.
var shardSweep = []string{"sweep", "-scenario", "random", "-scenario", "leader-not-in-quorum", "-scenario", "all-on-time-3",
	"-seeds", "12", "-master-seed", "99", "-knob", "EpochQuorumIgnoresLeader", "-out", "-", "-json"}

// sweepSummary is what a sharded sweep and its unsharded twin must agree on.
type sweepSummary struct {
	Runs                 int            `json:"runs"`
	Passed               int            `json:"passed"`
	Events               uint64         `json:"events"`
	SweepHash            string         `json:"sweepHash"`
	Violations           map[string]int `json:"violations"`
	ExpectedViolations   map[string]int `json:"expectedViolations"`
	UnexpectedViolations map[string]int `json:"unexpectedViolations"`
	Probes               map[string]int `json:"probes"`
	Outsiders            map[string]int `json:"outsiders"`
	FirstFailureRun      int            `json:"firstFailureRun"`
	Failures             []struct {
		Index      int      `json:"index"`
		Scenario   string   `json:"scenario"`
		Seed       string   `json:"seed"`
		Violations []string `json:"violations"`
		TraceHash  string   `json:"traceHash"`
	} `json:"failures"`
}

func decodeSummary(t *testing.T, out string) sweepSummary {
	t.Helper()
	var s sweepSummary
	require.NoError(t, json.Unmarshal([]byte(out), &s), out)
	return s
}

// TestShardsMergeIntoTheUnshardedSweep runs three shard processes of the built binary (as a
// batch engine would) and merges their results: the same summary, failures and sweep hash as
// one unsharded sweep, which itself is the same with 1 and 2 workers.
// Reference: issue 12, "Shards" and "The determinism tests still pass".
func TestShardsMergeIntoTheUnshardedSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := buildZabsim(t, dir)

	code, one, _ := zabsim(append(shardSweep, "-workers", "1")...)
	require.Equal(t, exitViolation, code, "the knob should break FreshEpoch somewhere")
	code, two, _ := zabsim(append(shardSweep, "-workers", "2")...)
	require.Equal(t, exitViolation, code)
	want := decodeSummary(t, one)
	require.Equal(t, want, decodeSummary(t, two), "1 and 2 workers")
	require.NotEmpty(t, want.Failures)

	var results []string
	for i := 0; i < 3; i++ {
		res := filepath.Join(dir, fmt.Sprintf("shard-%d.json", i))
		results = append(results, res)
		// The middle shard takes its index from the environment, as an Indexed Job's pod does.
		args := append(append([]string{}, shardSweep...), "-workers", "1", "-result", res)
		cmd := exec.Command(bin, append(args, "-shard", fmt.Sprintf("%d/3", i))...)
		if i == 1 {
			cmd = exec.Command(bin, append(args, "-shards", "3")...)
			cmd.Env = append(os.Environ(), "JOB_COMPLETION_INDEX=1")
		}
		out, err := cmd.Output()
		var ee *exec.ExitError
		if err != nil && !(errorAs(err, &ee) && ee.ExitCode() <= exitViolation) {
			t.Fatalf("shard %d: %v\n%s", i, err, out)
		}
	}
	code, merged, stderr := zabsim(append([]string{"merge", "-json"}, results...)...)
	require.Equal(t, exitViolation, code, stderr)
	require.Equal(t, want, decodeSummary(t, merged), "3 shards merged")

	// The text merge names the sweep and prints the same hash.
	code, text, _ := zabsim(append([]string{"merge"}, results...)...)
	require.Equal(t, exitViolation, code)
	require.Contains(t, text, "sweep hash "+want.SweepHash)
	require.Contains(t, text, "3 shards of the sweep with master seed 99")
}

// TestMergeRefusesForeignMissingAndDoubledShards: shards of another sweep, a missing shard
// and a shard given twice are refused, each with a message that says which.
// Reference: issue 12, "refuses shards of different sweeps ... or a missing or doubled shard".
func TestMergeRefusesForeignMissingAndDoubledShards(t *testing.T) {
	dir := t.TempDir()
	base := []string{"sweep", "-scenario", "all-on-time-3", "-seeds", "4", "-out", "-", "-json"}
	shard := func(name, spec string, extra ...string) string {
		path := filepath.Join(dir, name)
		args := append(append(append([]string{}, base...), extra...), "-shard", spec, "-result", path)
		code, out, stderr := zabsim(args...)
		require.Equal(t, exitOK, code, out+stderr)
		return path
	}
	a0 := shard("a0.json", "0/2", "-master-seed", "5")
	a1 := shard("a1.json", "1/2", "-master-seed", "5")
	b1 := shard("b1.json", "1/2", "-master-seed", "6")
	k1 := shard("k1.json", "1/2", "-master-seed", "5", "-knob", "EpochQuorumIgnoresLeader")
	c1 := shard("c1.json", "1/3", "-master-seed", "5")

	code, _, stderr := zabsim("merge", a0, a1)
	require.Equal(t, exitOK, code, stderr)
	cases := []struct {
		name  string
		files []string
		want  string
	}{
		{"other master seed", []string{a0, b1}, "another sweep than result 1: master seed 6, not 5"},
		{"other knobs", []string{a0, k1}, "knobs [EpochQuorumIgnoresLeader], not []"},
		{"other shard count", []string{a0, c1}, "one of 3 shards, result 1 one of 2"},
		{"missing shard", []string{a0}, "missing shard results: 1/2 (have 1 of 2)"},
		{"doubled shard", []string{a0, a0, a1}, "shard 0/2 given twice (results 1 and 2)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := zabsim(append([]string{"merge"}, c.files...)...)
			require.Equal(t, exitBadInput, code, stdout)
			require.Contains(t, stderr, c.want)
			require.Empty(t, stdout)
		})
	}

	// Another code version: edit one result as a shard built from other code would write it.
	data, err := os.ReadFile(a1)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	m["sweep"].(map[string]any)["version"] = "0123abcd"
	data, err = json.Marshal(m)
	require.NoError(t, err)
	other := filepath.Join(dir, "other-version.json")
	require.NoError(t, os.WriteFile(other, data, 0o644))
	code, _, stderr = zabsim("merge", a0, other)
	require.Equal(t, exitBadInput, code)
	require.Contains(t, stderr, "code version 0123abcd")
}

func errorAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

// buildZabsim builds the command into dir, for tests that need separate processes.
func buildZabsim(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "zabsim")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/local/go/bin")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestInterruptKeepsWhatRan: SIGINT during a long sweep stops it with exit 130, the summary of
// the runs that finished, its failures saved, its -result written (marked interrupted), and no
// temporary file left behind.
// Reference: issue 10, "Ctrl-C during a sweep loses everything".
func TestInterruptKeepsWhatRan(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := buildZabsim(t, dir)
	out := filepath.Join(dir, "failures")
	result := filepath.Join(dir, "result.json")
	cmd := exec.Command(bin, "sweep", "-scenario", "random", "-duration", "10m", "-master-seed", "3", "-workers", "1",
		"-knob", "EpochQuorumIgnoresLeader", "-out", out, "-result", result)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	require.NoError(t, cmd.Start())
	time.Sleep(1500 * time.Millisecond)
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	err := cmd.Wait()
	var ee *exec.ExitError
	require.True(t, errorAs(err, &ee), "%v", err)
	require.Equal(t, exitInterrupted, ee.ExitCode(), stdout.String())
	require.Contains(t, stdout.String(), "INTERRUPTED after ")
	require.Contains(t, stdout.String(), "sweep hash ")
	data, err := os.ReadFile(result)
	require.NoError(t, err)
	var r struct {
		Interrupted bool `json:"interrupted"`
		Result      struct {
			Runs int `json:"runs"`
		} `json:"result"`
	}
	require.NoError(t, json.Unmarshal(data, &r))
	require.True(t, r.Interrupted)
	require.Positive(t, r.Result.Runs)
	for _, d := range []string{dir, out} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			require.False(t, strings.HasSuffix(e.Name(), ".tmp"), "temporary file left: %s", e.Name())
		}
	}
}
