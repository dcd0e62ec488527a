package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"zabsim/runfile"
	"zabsim/sim"
)

// WriteSeedBlock prints what a run is before what it did, as TigerBeetle's VOPR does: the seed
// and everything the scenario drew from it (cluster and timers, network, initial disks, faults,
// knobs, end), in the run file's own words, so a report pasted into an issue says how to get
// the run back and what it was without the file.
func WriteSeedBlock(w io.Writer, spec *sim.RunSpec) error {
	s := *spec
	s.Decisions = nil // the world's answers, not the seed's draws; they can be long
	data, err := runfile.Marshal(runfile.File{Spec: s})
	if err != nil {
		return err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	fmt.Fprintf(w, "SEED=%d scenario=%s\n", spec.Seed, spec.Scenario)
	for _, k := range []string{"cluster", "network", "processing", "disks", "knobs", "until", "stopWhenStable"} {
		if raw, ok := m[k]; ok {
			fmt.Fprintf(w, "  %-15s %s\n", k+":", compact(raw))
		}
	}
	var faults []json.RawMessage
	_ = json.Unmarshal(m["faults"], &faults)
	fmt.Fprintf(w, "  %-15s %d\n", "faults:", len(faults))
	for _, f := range faults {
		fmt.Fprintf(w, "    %s\n", compact(f))
	}
	if spec.Decisions != nil {
		fmt.Fprintf(w, "  %-15s %d recorded (replayed instead of drawn)\n", "decisions:", len(spec.Decisions))
	}
	fmt.Fprintln(w)
	return nil
}

func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}
