package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"zabsim/checker"
)

// TestReplayOutcomesAreDistinct: a replay's exit code and -json outcome say whether it
// reproduces (0, whether the file recorded a clean run or a violation), differs (4: here a
// recorded decision was appended that the run never asks for) or breaks an invariant the file
// did not record (1).
// Reference: issue 10, "replay outcomes distinguishable".
func TestReplayOutcomesAreDistinct(t *testing.T) {
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.json")
	code, _, stderr := zabsim("run", "-scenario", "all-on-time-3", "-save", clean)
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stderr, "saved "+clean)

	outcome := func(file string) (int, string, map[string]any) {
		code, out, stderr := zabsim("replay", file, "-json") // flags after the file
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &m), out+stderr)
		return code, m["outcome"].(string), m
	}
	code, got, m := outcome(clean)
	require.Equal(t, exitOK, code)
	require.Equal(t, "reproduces", got)
	require.IsType(t, "", m["seed"], "seeds are JSON strings")
	require.Equal(t, []any{}, m["roleEnds"])
	require.IsType(t, map[string]any{}, m["liveness"])

	// An unused recorded decision appended to the file: the replay no longer reproduces it.
	data, err := os.ReadFile(clean)
	require.NoError(t, err)
	var f map[string]any
	require.NoError(t, json.Unmarshal(data, &f))
	f["decisions"] = append(f["decisions"].([]any), map[string]any{"event": 9999, "kind": "delay", "a": 1, "b": 2, "after": "1ms"})
	data, err = json.Marshal(f)
	require.NoError(t, err)
	appended := filepath.Join(dir, "appended.json")
	require.NoError(t, os.WriteFile(appended, data, 0o644))
	code, got, m = outcome(appended)
	require.Equal(t, exitDiffers, code, m["divergence"])
	require.Equal(t, "differs", got)
	require.Contains(t, m["divergence"], "without asking for")

	// A knob run's violation, recorded: reproduces, exit 0. The same file with its violation
	// struck from the record: a violation the file did not record, exit 1.
	knob := filepath.Join(dir, "knob.json")
	code, _, _ = zabsim("run", "-scenario", "leader-not-in-quorum", "-knob", "EpochQuorumIgnoresLeader", "-save", knob)
	require.Equal(t, exitViolation, code)
	code, got, _ = outcome(knob)
	require.Equal(t, exitOK, code)
	require.Equal(t, "reproduces", got)
	data, err = os.ReadFile(knob)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &f))
	f["expect"] = map[string]any{"violations": []any{}}
	data, err = json.Marshal(f)
	require.NoError(t, err)
	unrecorded := filepath.Join(dir, "unrecorded.json")
	require.NoError(t, os.WriteFile(unrecorded, data, 0o644))
	code, got, _ = outcome(unrecorded)
	require.Equal(t, exitViolation, code)
	require.Equal(t, "new-violation", got)

	// -save never replaces a file silently; -force does.
	code, _, stderr = zabsim("run", "-scenario", "all-on-time-3", "-save", clean)
	require.Equal(t, exitBadInput, code)
	require.Contains(t, stderr, "file exists")
	code, _, _ = zabsim("run", "-scenario", "all-on-time-3", "-save", clean, "-force")
	require.Equal(t, exitOK, code)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		require.False(t, strings.HasSuffix(e.Name(), ".tmp"), "temporary file left: %s", e.Name())
	}
}

// TestHelpListsEveryFlag: "zabsim CMD -h" prints the command's usage with its flags, exit 0.
func TestHelpListsEveryFlag(t *testing.T) {
	for cmd, flags := range map[string][]string{
		"run":    {"-scenario", "-seed", "-json", "-timeline", "-save", "-force", "-knob"},
		"sweep":  {"-seeds", "-workers", "-knob", "-out", "-shard", "-shards", "-result", "-duration", "-until-failures", "-check-determinism"},
		"replay": {"-json", "-timeline", "-update", "-by-seed"},
		"list":   {"-json"},
		"merge":  {"-json"},
	} {
		code, out, stderr := zabsim(cmd, "-h")
		require.Equal(t, exitOK, code, stderr)
		require.Contains(t, out, "usage: zabsim "+cmd)
		for _, f := range flags {
			require.Regexp(t, `(?m)^  `+f+`\b`, out, "%s -h lacks %s", cmd, f)
		}
	}
}

// TestInternalErrorExitsThree: a recovered simulator panic is an internal error (exit 3) with
// the message and a hint, never "bad input" (2).
// Reference: issue 10, "a recovered simulator panic exits 2, as if the input were bad".
func TestInternalErrorExitsThree(t *testing.T) {
	var stderr strings.Builder
	err := fmt.Errorf("replay x.json: %w", &checker.PanicError{Msg: `scenario "s" seed 1: broken assumption at leader.go:1 after 9 events: boom`})
	require.Equal(t, exitInternal, exitFor(err, &stderr))
	require.Contains(t, stderr.String(), "internal error: replay x.json: scenario \"s\" seed 1: broken assumption")
	require.Contains(t, stderr.String(), "hint: this is a bug in zabsim")
	stderr.Reset()
	require.Equal(t, exitBadInput, exitFor(badInput("nope"), &stderr))
	require.Equal(t, "zabsim: nope\n", stderr.String())
}
