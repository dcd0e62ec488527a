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

func TestExploreFindsSavesAndReplays(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := run([]string{"explore", "-scenario", "cold-start-3", "-knob", "VoteOrderPrecedenceBug", "-cost", "2", "-workers", "1", "-out", dir}, &out, &errb)
	require.Equal(t, exitViolation, code, out.String()+errb.String())
	require.Contains(t, out.String(), "VIOLATION VoteMonotone at cost 1")
	require.Contains(t, out.String(), "1. crash s3 at 0.208s")
	files, err := filepath.Glob(filepath.Join(dir, "cold-start-3-VoteMonotone-c1-*.json"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	out.Reset()
	require.Equal(t, exitOK, run([]string{"replay", files[0]}, &out, &errb), out.String())

	out.Reset()
	code = run([]string{"explore", "-scenario", "cold-start-3", "-cost", "1", "-json", "-out", "-"}, &out, &errb)
	require.Equal(t, exitOK, code)
	var j exploreJSON
	require.NoError(t, json.Unmarshal(out.Bytes(), &j))
	require.True(t, j.Result.Complete)
	require.Nil(t, j.Result.Violation)
	require.Equal(t, 185, j.Result.Runs)
	require.True(t, strings.HasPrefix(j.Verdict, "clean within cost <= 1"), j.Verdict)
}

func TestExploreBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"explore"},
		{"explore", "-scenario", "cold-start-3", "-file", "x.json"},
		{"explore", "-scenario", "no-such"},
		{"explore", "-scenario", "cold-start-3", "-cost", "-1"},
		{"explore", "-scenario", "cold-start-3", "-search", "dfs"},
		{"explore", "-scenario", "cold-start-3", "-crashes", "-2"},
		{"explore", "-file", filepath.Join(os.TempDir(), "zabsim-no-such-file.json")},
		{"explore", "-scenario", "cold-start-3", "-knob", "NoSuchKnob"},
	} {
		var out, errb bytes.Buffer
		require.Equal(t, exitBadInput, run(args, &out, &errb), "%v: %s%s", args, out.String(), errb.String())
		require.NotEmpty(t, errb.String(), "%v", args)
	}
}
