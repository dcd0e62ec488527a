package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

const enginesDir = "../../docs/engines"

// zabsimCommands finds every "zabsim sweep ..." and "zabsim merge ..." command line in text
// (a command ends at a ';', a '>' redirection, '||' or the end of the line; '\' continues it).
func zabsimCommands(text string) [][]string {
	text = strings.ReplaceAll(text, "\\\n", " ")
	// A workflow's ${{ expressions }} stand for a number here (a shard index, a seed).
	text = regexp.MustCompile(`\$\{\{[^}]*\}\}`).ReplaceAllString(text, "1")
	var cmds [][]string
	for _, m := range regexp.MustCompile(`zabsim (sweep|merge)\b([^\n;>|]*)`).FindAllStringSubmatch(text, -1) {
		cmds = append(cmds, append([]string{m[1]}, strings.Fields(m[2])...))
	}
	return cmds
}

// checkCommandParses runs a documented command line with -h appended: every flag before it
// must exist and take the value given, so a renamed or mistyped flag fails here, not in a pod.
func checkCommandParses(t *testing.T, where string, args []string) {
	t.Helper()
	code, _, stderr := zabsim(append(append([]string{}, args...), "-h")...)
	require.Equal(t, exitOK, code, "%s: zabsim %s: %s", where, strings.Join(args, " "), stderr)
}

// TestEngineExamples: the batch-engine examples in docs/engines parse and agree with the
// command line and with each other: flags that exist, shard counts equal to completions, the
// matrix and the array, the Go version go.mod asks for.
// Reference: issue 12, "docs/ shows both engines, each ready to use".
func TestEngineExamples(t *testing.T) {
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(enginesDir, name))
		require.NoError(t, err)
		return string(data)
	}
	countCommands := 0
	for _, name := range []string{"indexed-job.yaml", "indexed-job-merge.yaml", "github-actions-sweep.yml", "slurm-array.sh", "../engines.md"} {
		for _, args := range zabsimCommands(read(name)) {
			checkCommandParses(t, name, args)
			countCommands++
		}
	}
	require.GreaterOrEqual(t, countCommands, 8)

	// Kubernetes: an Indexed Job whose completions is the -shards count, each pod writing its
	// result where the merge Job reads, on the same claim.
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader([]byte(read("indexed-job.yaml") + "\n---\n" + read("indexed-job-merge.yaml"))))
	for {
		var d map[string]any
		if err := dec.Decode(&d); err != nil {
			require.EqualError(t, err, "EOF")
			break
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
	var sweepJob, mergeJob map[string]any
	claims := map[string]bool{}
	for _, d := range docs {
		name := d["metadata"].(map[string]any)["name"].(string)
		switch d["kind"] {
		case "PersistentVolumeClaim":
			claims[name] = true
		case "Job":
			if name == "zabsim-sweep" {
				sweepJob = d
			} else {
				mergeJob = d
			}
		}
	}
	require.NotNil(t, sweepJob)
	require.NotNil(t, mergeJob)
	spec := sweepJob["spec"].(map[string]any)
	require.Equal(t, "Indexed", spec["completionMode"])
	completions := spec["completions"].(int)
	pod := func(job map[string]any) (string, string) {
		tpl := job["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
		c := tpl["containers"].([]any)[0].(map[string]any)
		args := strings.Join(toStrings(c["args"]), " ")
		claim := tpl["volumes"].([]any)[0].(map[string]any)["persistentVolumeClaim"].(map[string]any)["claimName"].(string)
		return args, claim
	}
	args, claim := pod(sweepJob)
	require.Contains(t, args, fmt.Sprintf("-shards %d ", completions))
	require.Contains(t, args, "-result /results/shard-$JOB_COMPLETION_INDEX.json")
	require.True(t, claims[claim], "claim %s is defined", claim)
	margs, mclaim := pod(mergeJob)
	require.Contains(t, margs, "merge /results/shard-*.json")
	require.Equal(t, claim, mclaim)

	// GitHub Actions: the matrix lists 0..n-1 and each job runs shard i/n.
	var wf map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(read("github-actions-sweep.yml")), &wf))
	jobs := wf["jobs"].(map[string]any)
	shards := jobs["shard"].(map[string]any)["strategy"].(map[string]any)["matrix"].(map[string]any)["shard"].([]any)
	for i, s := range shards {
		require.Equal(t, i, s)
	}
	require.Contains(t, read("github-actions-sweep.yml"), fmt.Sprintf("-shard ${{ matrix.shard }}/%d ", len(shards)))
	require.Equal(t, []any{"shard"}, toAny(jobs["merge"].(map[string]any)["needs"]))

	// Slurm: the array is 0..n-1 for -shards n.
	slurm := read("slurm-array.sh")
	m := regexp.MustCompile(`--array=0-(\d+)`).FindStringSubmatch(slurm)
	require.NotNil(t, m)
	require.Contains(t, slurm, fmt.Sprintf("-shards %s ", fmt.Sprint(atoi(t, m[1])+1)))

	// The image builds with the Go that go.mod asks for.
	gomod, err := os.ReadFile("../../go.mod")
	require.NoError(t, err)
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(string(gomod))[1]
	require.Contains(t, read("Dockerfile"), "FROM golang:"+goVersion+" ")
	require.Contains(t, read("Dockerfile"), "./cmd/zabsim")
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func toAny(v any) []any {
	if s, ok := v.(string); ok {
		return []any{s}
	}
	return v.([]any)
}

func atoi(t *testing.T, s string) int {
	var n int
	_, err := fmt.Sscan(s, &n)
	require.NoError(t, err)
	return n
}
