package harness

import (
	"fmt"
	"slices"
	"strings"

	"zabsim/checker"
	"zabsim/runfile"
)

// ReplayResult is a replayed run file: the new report and how it compares with what the file
// recorded.
type ReplayResult struct {
	Report *checker.Report
	// Divergence says how the replay differs from the recorded outcome ("" if it reproduced
	// it): other invariants broken, or another trace.
	Divergence string
}

// Replay runs the file's spec again and compares the outcome with the recorded one. An invalid
// spec is an error.
func Replay(f runfile.File, opts checker.Options) (ReplayResult, error) {
	rep, err := checker.Run(&f.Spec, opts)
	if err != nil {
		return ReplayResult{}, err
	}
	var diffs []string
	if rep.Divergence != "" {
		// The code asked a different question than the recorded run: say where, and stop.
		return ReplayResult{Report: rep, Divergence: "diverged: " + rep.Divergence}, nil
	}
	want := slices.Clone(f.Expect.Violations)
	slices.Sort(want)
	if got := rep.ViolationNames(); !slices.Equal(got, want) {
		diffs = append(diffs, fmt.Sprintf("violations %v, recorded %v", got, want))
	}
	// A file with recorded decisions replays its decisions, which a person may have edited
	// to tune the run; its trace hash is then only informative. Without decisions the seed
	// must reproduce the very same trace.
	if f.Expect.TraceHash != "" && f.Expect.TraceHash != rep.TraceHash && f.Spec.Decisions == nil {
		diffs = append(diffs, fmt.Sprintf("trace hash %s, recorded %s", rep.TraceHash, f.Expect.TraceHash))
	}
	return ReplayResult{Report: rep, Divergence: strings.Join(diffs, "; ")}, nil
}
