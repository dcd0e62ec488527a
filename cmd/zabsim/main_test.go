package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func zabsim(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

const validRun = `{
  "format": 1,
  "scenario": "hand-written",
  "seed": 3,
  "cluster": {"participants": [1, 2, 3], "observers": [], "tickTime": "2s", "initLimit": 10, "syncLimit": 5,
              "election": {"leader": 3, "delay": "200ms"}},
  "network": {"oneWayDelayMin": "1ms", "oneWayDelayJitter": "2ms"},
  "until": "60s",
  "stopWhenStable": true,
  "expect": {"violations": []}
}
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

// TestBadInputExitsTwo: every kind of bad input gets exit status 2 and a message that names
// the problem, never a panic. Reference: brief, "Bad input gets a clear error".
func TestBadInputExitsTwo(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "usage"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown scenario", []string{"run", "-scenario", "no-such-thing"}, `unknown scenario "no-such-thing"`},
		{"missing scenario", []string{"run"}, "-scenario is required"},
		{"unknown knob", []string{"run", "-scenario", "all-on-time-3", "-knob", "Nope"}, `unknown bug knob "Nope"`},
		{"bad flag", []string{"sweep", "-seeds", "many"}, "invalid value"},
		{"zero seeds", []string{"sweep", "-seeds", "0"}, "at least 1"},
		{"missing file", []string{"replay", filepath.Join(t.TempDir(), "nope.json")}, "nope.json"},
		{"malformed", []string{"replay", writeFile(t, "bad.json", `{"format": 1, "seed": `)}, "line"},
		{"newer format", []string{"replay", writeFile(t, "new.json", strings.Replace(validRun, `"format": 1`, `"format": 9`, 1))}, "newer"},
		{"no servers", []string{"replay", writeFile(t, "empty.json", strings.Replace(validRun, `"participants": [1, 2, 3]`, `"participants": []`, 1))}, "no servers"},
		{"duplicate ids", []string{"replay", writeFile(t, "dup.json", strings.Replace(validRun, `[1, 2, 3]`, `[1, 2, 2]`, 1))}, "duplicate server id 2"},
		{"initLimit 0", []string{"replay", writeFile(t, "init.json", strings.Replace(validRun, `"initLimit": 10`, `"initLimit": 0`, 1))}, "initLimit"},
		{"tickTime 0", []string{"replay", writeFile(t, "tick.json", strings.Replace(validRun, `"tickTime": "2s"`, `"tickTime": "0s"`, 1))}, "tickTime"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := zabsim(c.args...)
			require.Equal(t, exitBadInput, code, stderr)
			require.Contains(t, stderr, c.want)
		})
	}
}

// TestRunAndReplayExitCodes: a clean run exits 0, a knob run that breaks an invariant exits 1,
// and its saved run file replays to the same outcome (exit 0, "reproduces": a replay's exit
// says whether it reproduces, not whether the run it reproduces was clean).
// Reference: shared/design.md "Command line".
func TestRunAndReplayExitCodes(t *testing.T) {
	code, out, _ := zabsim("run", "-scenario", "all-on-time-3", "-seed", "4")
	require.Equal(t, exitOK, code, out)
	require.Contains(t, out, "expected outcome: met")

	code, out, _ = zabsim("replay", writeFile(t, "ok.json", validRun))
	require.Equal(t, exitOK, code, out)
	require.Contains(t, out, "replay reproduces the recorded outcome")

	saved := filepath.Join(t.TempDir(), "knob.json")
	code, out, _ = zabsim("run", "-scenario", "leader-not-in-quorum", "-knob", "EpochQuorumIgnoresLeader", "-save", saved)
	require.Equal(t, exitViolation, code, out)
	require.Contains(t, out, "VIOLATION FreshEpoch")
	code, out, _ = zabsim("replay", saved)
	require.Equal(t, exitOK, code, out)
	require.Contains(t, out, "replay reproduces the recorded outcome")
}

// TestRunJSONHasTheContractKeys: -json prints one object with the design doc's keys.
// Reference: shared/design.md "Report".
func TestRunJSONHasTheContractKeys(t *testing.T) {
	code, out, _ := zabsim("run", "-scenario", "observers-3+2", "-seed", "2", "-json")
	require.Equal(t, exitOK, code)
	var rep map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	for _, k := range []string{"scenario", "seed", "simulatedTime", "events", "traceHash", "violations", "established", "servers"} {
		require.Contains(t, rep, k)
	}
	servers := rep["servers"].([]any)
	first := servers[0].(map[string]any)
	for _, k := range []string{"id", "role", "leader", "acceptedEpoch", "currentEpoch", "lastZxid"} {
		require.Contains(t, first, k)
	}
	est := rep["established"].([]any)[0].(map[string]any)
	require.Equal(t, float64(3), est["leader"])
	require.Equal(t, float64(1), est["epoch"])
	require.Regexp(t, `^0x[0-9a-f]+$`, first["lastZxid"])
}

// TestSweepJSONIsQuietAndComplete: -json prints only the summary object (no progress), with
// the run count and a clean result for the faithful catalogue.
// Reference: brief, "stays quiet and machine-readable when asked".
func TestSweepJSONIsQuietAndComplete(t *testing.T) {
	code, out, stderr := zabsim("sweep", "-seeds", "2", "-master-seed", "3", "-json", "-out", "")
	require.Equal(t, exitOK, code, out)
	require.Empty(t, stderr)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.Equal(t, "3", res["masterSeed"], "seeds are JSON strings, safe above 2^53")
	require.Empty(t, res["failures"])
	require.Positive(t, res["runs"])
}

// TestSweepCheckDeterminismAndStopAtFirst: -check-determinism repeats runs and says so;
// -stop-at-first with a knob stops, shrinks, saves, and reports how long the hunt took.
// Reference: issue 4.
func TestSweepCheckDeterminismAndStopAtFirst(t *testing.T) {
	code, out, _ := zabsim("sweep", "-seeds", "1", "-master-seed", "3", "-check-determinism", "8", "-out", "")
	require.Equal(t, exitOK, code, out)
	require.Contains(t, out, "determinism: 8 runs repeated byte for byte")

	dir := t.TempDir()
	code, out, _ = zabsim("sweep", "-scenario", "random", "-seeds", "500", "-master-seed", "4", "-knob", "CurrentEpochOnUptodate",
		"-stop-at-first", "-json", "-out", dir)
	require.Equal(t, exitViolation, code, out)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.Positive(t, res["firstFailureRun"])
	require.Contains(t, res, "wallSeconds")
	failures := res["failures"].([]any)
	require.NotEmpty(t, failures)
	saved := failures[0].(map[string]any)["savedTo"].(string)
	code, out, _ = zabsim("replay", saved)
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "replay reproduces the recorded outcome")
}

// TestHTMLFlag: run and replay write a page with -html; a path that cannot be written is bad
// input (exit 2) named in the message, before the run is spent; sweep writes a page next to
// each failure it saves. Reference: issue 10.
func TestHTMLFlag(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "run.html")
	code, out, _ := zabsim("run", "-scenario", "leader-not-in-quorum", "-knob", "EpochQuorumIgnoresLeader", "-html", page, "-save", filepath.Join(dir, "run.json"))
	require.Equal(t, exitViolation, code, out)
	body, err := os.ReadFile(page)
	require.NoError(t, err)
	require.Contains(t, string(body), "FreshEpoch")
	replayed := filepath.Join(dir, "replay.html")
	code, out, _ = zabsim("replay", "-html", replayed, filepath.Join(dir, "run.json"))
	require.Equal(t, exitOK, code, out) // it reproduces its recorded violation
	require.FileExists(t, replayed)
	bad := filepath.Join(dir, "missing", "x.html")
	for _, args := range [][]string{{"run", "-scenario", "all-on-time-3", "-html", bad}, {"replay", "-html", bad, filepath.Join(dir, "run.json")}} {
		code, _, stderr := zabsim(args...)
		require.Equal(t, exitBadInput, code, stderr)
		require.Contains(t, stderr, bad)
	}
	swept := t.TempDir()
	code, out, _ = zabsim("sweep", "-scenario", "random", "-seeds", "500", "-master-seed", "4", "-knob", "CurrentEpochOnUptodate", "-stop-at-first", "-out", swept)
	require.Equal(t, exitViolation, code, out)
	pages, _ := filepath.Glob(filepath.Join(swept, "*.html"))
	files, _ := filepath.Glob(filepath.Join(swept, "*.json"))
	require.Len(t, pages, len(files))
	require.NotEmpty(t, pages)
	require.Contains(t, out, "page: "+pages[0])
}

// TestConformAllCheck: -all -check lists the catalogue scenarios a real ensemble can run, without
// starting any.
func TestConformAllCheck(t *testing.T) {
	code, stdout, _ := zabsim("conform", "-all", "-check")
	require.Equal(t, exitOK, code)
	require.Contains(t, stdout, "cold-start-3\n")
	require.Contains(t, stdout, "longer-log-wins\n", "txn histories are written for real")
	require.NotContains(t, stdout, "leader-crash-reassigned\n", "assigned roles cannot run")
	require.Regexp(t, `\d+ of \d+ catalogue scenarios can run on a real ensemble`, stdout)
}
