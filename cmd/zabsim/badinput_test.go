package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// badInputCase is one row of the bad-input table: what a user types, the exit code, and a
// piece of the message that must name the problem.
type badInputCase struct {
	name string
	args []string
	code int
	want string
}

// badInputTable is issue 10's list of surprising inputs, each with its exit code and message.
// Every one is refused before any run starts and before anything is printed on stdout.
func badInputTable(t *testing.T) []badInputCase {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.json")
	require.NoError(t, os.WriteFile(existing, []byte(validRun), 0o644))
	notDir := filepath.Join(dir, "plain-file")
	require.NoError(t, os.WriteFile(notDir, []byte("x"), 0o644))
	runWith := func(name, old, new string) string {
		require.Contains(t, validRun, old)
		return writeFile(t, name, strings.Replace(validRun, old, new, 1))
	}
	big := filepath.Join(dir, "big.json")
	require.NoError(t, os.WriteFile(big, append([]byte(validRun), make([]byte, 17<<20)...), 0o644))
	many := make([]string, 1000)
	for i := range many {
		many[i] = fmt.Sprint(i + 1)
	}
	return []badInputCase{
		{"list extra", []string{"list", "extra"}, exitBadInput, `list: takes no arguments, got "extra"`},
		{"conform assigned roles", []string{"conform", "-scenario", "leader-crash-reassigned"}, exitBadInput, "cannot run on a real ensemble: assigned roles"},
		{"conform crash point", []string{"conform", "-scenario", "newleader-ack-before-epoch-1282"}, exitBadInput, "a crash at a chosen durable write cannot be placed in a real process"},
		{"conform too short", []string{"conform", "-scenario", "vote-order-1419"}, exitBadInput, "the run ends at 20ms"},
		{"conform client writes", []string{"conform", "-scenario", "writes-committed-everywhere"}, exitBadInput, "client writes during the run"},
		{"conform neither", []string{"conform"}, exitBadInput, "give one of -scenario NAME, -file RUN or -all"},
		{"conform both", []string{"conform", "-all", "-scenario", "cold-start-3"}, exitBadInput, "give one of -scenario NAME, -file RUN or -all"},
		{"conform markdown alone", []string{"conform", "-scenario", "cold-start-3", "-markdown"}, exitBadInput, "-markdown goes with -all"},
		{"run -processing", []string{"run", "-scenario", "cold-start-3", "-processing", "slow"}, exitBadInput, "-processing must be none or jvm"},
		{"conform processing", []string{"conform", "-scenario", "cold-start-3", "-processing", "fast"}, exitBadInput, "-processing must be jvm, none or run"},
		{"conform seeds", []string{"conform", "-scenario", "cold-start-3", "-seeds", "0"}, exitBadInput, "-seeds must be 1..100000"},
		{"sweep -workers -3", []string{"sweep", "-workers", "-3"}, exitBadInput, "-workers must be 0 (all cores) or more, got -3"},
		{"sweep -check-determinism -5", []string{"sweep", "-check-determinism", "-5"}, exitBadInput, "-check-determinism must be 0 or more, got -5"},
		{"sweep -seeds 0", []string{"sweep", "-seeds", "0"}, exitBadInput, "-seeds must be at least 1, got 0"},
		{"sweep -knob NoSuchKnob", []string{"sweep", "-knob", "NoSuchKnob"}, exitBadInput, `unknown bug knob "NoSuchKnob"`},
		{"sweep -out unwritable", []string{"sweep", "-seeds", "1", "-out", "/proc/zabsim-out"}, exitBadInput, "folder /proc (to create /proc/zabsim-out in it) is not writable"},
		{"sweep -out a file", []string{"sweep", "-seeds", "1", "-out", notDir}, exitBadInput, "is not a folder"},
		{"sweep -until-failures -1", []string{"sweep", "-until-failures", "-1"}, exitBadInput, "-until-failures must be 0 or more"},
		{"sweep -duration -1s", []string{"sweep", "-duration", "-1s"}, exitBadInput, "-duration must be positive"},
		{"sweep -shard 3/3", []string{"sweep", "-shard", "3/3", "-master-seed", "1"}, exitBadInput, `-shard "3/3": want i/n with 0 <= i < n`},
		{"sweep -shard x", []string{"sweep", "-shard", "x", "-master-seed", "1"}, exitBadInput, `want i/n`},
		{"sweep -shards without index", []string{"sweep", "-shards", "3", "-master-seed", "1"}, exitBadInput, "needs the shard index in JOB_COMPLETION_INDEX"},
		{"sweep -shard without -master-seed", []string{"sweep", "-shard", "0/2"}, exitBadInput, "shards need the same -master-seed"},
		{"sweep extra argument", []string{"sweep", "extra"}, exitBadInput, `unexpected argument "extra"`},
		{"run -save existing", []string{"run", "-scenario", "all-on-time-3", "-save", existing}, exitBadInput, "file exists (add -force to replace it)"},
		{"run -save into a file", []string{"run", "-scenario", "all-on-time-3", "-save", filepath.Join(notDir, "x.json")}, exitBadInput, "plain-file is not a folder"},
		{"replay two files", []string{"replay", existing, existing}, exitBadInput, "want exactly one run file, got 2"},
		{"merge nothing", []string{"merge"}, exitBadInput, "got none"},
		{"merge a run file", []string{"merge", existing}, exitBadInput, "not a sweep -result file"},
		{"run file over 16 MiB", []string{"replay", big}, exitBadInput, "over the 16 MiB limit"},
		{"server id 0", []string{"replay", runWith("id0.json", `[1, 2, 3]`, `[0, 1, 2]`)}, exitBadInput, "server id 0"},
		{"1000 servers", []string{"replay", runWith("many.json", `[1, 2, 3]`, "["+strings.Join(many, ", ")+"]")}, exitBadInput, "1000 servers configured; the limit is 64"},
		{"tickTime 1000000h", []string{"replay", runWith("tick.json", `"tickTime": "2s"`, `"tickTime": "1000000h"`)}, exitBadInput, "tickTime"},
		{"initLimit 2^40", []string{"replay", runWith("init.json", `"initLimit": 10`, `"initLimit": 1099511627776`)}, exitBadInput, "initLimit"},
		{"overlapping partition groups", []string{"replay", runWith("part.json", `"until": "60s",`,
			`"faults": [{"kind": "partition", "at": "1s", "groups": [[1, 2], [2, 3]]}], "until": "60s",`)}, exitBadInput, "is in two groups (groups must not overlap)"},
		{"same server twice in one partition", []string{"replay", runWith("part1.json", `"until": "60s",`,
			`"faults": [{"kind": "partition", "at": "1s", "groups": [[1], [1]]}], "until": "60s",`)}, exitBadInput, "is in two groups (groups must not overlap)"},
		{"until over 240h", []string{"replay", runWith("until.json", `"until": "60s"`, `"until": "10000h"`)}, exitBadInput, "until"},
	}
}

// TestBadInputTable: every input of issue 10's list gets its exit code and a message naming
// the problem, and nothing on stdout (no header before the error). The closing note pastes it.
func TestBadInputTable(t *testing.T) {
	for _, c := range badInputTable(t) {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := zabsim(c.args...)
			require.Equal(t, c.code, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			require.Contains(t, stderr, c.want)
			require.Empty(t, stdout, "a bad input prints nothing before its error")
			if os.Getenv("ZABSIM_PRINT_TABLE") != "" {
				first, _, _ := strings.Cut(strings.TrimSpace(stderr), "\n")
				fmt.Printf("| `zabsim %s` | %d | %s |\n", strings.Join(shortArgs(c.args), " "), code, first)
			}
		})
	}
}

// shortArgs replaces temporary paths by their base names, for the printed table.
func shortArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.HasPrefix(a, os.TempDir()) {
			a = filepath.Base(a)
		}
		out[i] = a
	}
	return out
}
