package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"zabsim/harness"
)

// maxResultBytes bounds a -result file read by merge: a shard of millions of runs is a few
// tens of MB of run hashes; anything far beyond is not a result file.
const maxResultBytes = 1 << 30

func cmdMerge(args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print the merged summary as JSON")
	pos, err := parseFlags(fs, args, stdout, "merge [-json] RESULT.json...")
	if err != nil {
		return 0, err
	}
	if len(pos) == 0 {
		return 0, badInput("merge: want the -result files of every shard, got none")
	}
	var parts []harness.ShardResult
	for _, path := range pos {
		p, err := loadShardResult(path)
		if err != nil {
			return 0, err
		}
		parts = append(parts, p)
	}
	res, err := harness.Merge(parts)
	if err != nil {
		return 0, badInput("merge: %v", err)
	}
	interrupted := false
	for _, p := range parts {
		interrupted = interrupted || p.Interrupted
	}
	code := sweepExit(res)
	if interrupted {
		code = exitInterrupted
	}
	id := parts[0].Sweep
	res.RunHashes = nil
	if *asJSON {
		return code, writeJSON(stdout, sweepJSON{SweepResult: res, MasterSeed: id.MasterSeed, SeedsPerScenario: id.SeedsPerScenario,
			Scenarios: len(id.Scenarios), Shard: 0, Shards: 1, Interrupted: interrupted, DeterminismMismatches: []harness.Mismatch{}})
	}
	fmt.Fprintf(stdout, "zabsim merge: %d shards of the sweep with master seed %d, %d scenarios, knobs %v, code %s\n",
		len(parts), id.MasterSeed, len(id.Scenarios), id.Knobs, id.Version)
	if interrupted {
		fmt.Fprintf(stdout, "INTERRUPTED: at least one shard was stopped before it finished\n")
	}
	// Wall time is not summed: shards ran side by side.
	writeSweepSummary(stdout, res, time.Duration(0))
	return code, nil
}

func loadShardResult(path string) (harness.ShardResult, error) {
	var p harness.ShardResult
	st, err := os.Stat(path)
	if err != nil {
		return p, badInput("merge: %v", err)
	}
	if st.Size() > maxResultBytes {
		return p, badInput("merge: %s: %d bytes, over the %d-byte limit of a result file", path, st.Size(), maxResultBytes)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return p, badInput("merge: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, badInput("merge: %s: not a sweep -result file: %v", path, err)
	}
	if p.Shards < 1 || p.Sweep.Version == "" {
		return p, badInput("merge: %s: not a sweep -result file (no shard count or code version)", path)
	}
	return p, nil
}

// saveJSONAtomic writes v as JSON to path through a temporary file in the same folder and a
// rename, so a reader never sees half a file; the temporary file is removed on every error.
func saveJSONAtomic(path string, v any) (err error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	if _, err = tmp.Write(append(data, '\n')); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
