package runfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zabsim/protocol"
	"zabsim/sim"
)

func ms(n int) time.Duration           { return time.Duration(n) * time.Millisecond }
func at(d time.Duration) protocol.Time { return protocol.Time(d) }

// fullFile uses every fault kind, observers, knobs, disks and every optional field.
func fullFile(t testing.TB) File {
	t.Helper()
	cfg := protocol.DefaultConfig([]protocol.ServerID{1, 2, 3}, []protocol.ServerID{4, 5})
	cfg.ConnectToLearnerMasterLimit = 7
	cfg.LeaderSelfRegisterDelay = ms(30)
	cfg.LeaderSelfRegisterJitter = 0 // an explicit zero must survive
	cfg.Election.Leader = 2
	cfg.Election.Delay = 1500 * time.Millisecond
	cfg.Election.Changes = []protocol.LeaderChange{{At: at(2 * time.Second), Leader: 3}, {At: at(4 * time.Second), Leader: 1}}
	for _, k := range []string{"EpochQuorumIgnoresLeader", "CountObservers"} {
		if err := cfg.Knobs.Set(k); err != nil {
			t.Fatal(err)
		}
	}
	z := protocol.MakeZxid
	spec := sim.RunSpec{
		Scenario: "everything <&> \"quoted\"",
		Seed:     1<<64 - 1,
		Config:   cfg,
		Options: sim.Options{
			OneWayDelayMin:         ms(1),
			OneWayDelayJitter:      2*time.Millisecond + 500*time.Microsecond,
			MessageLossProbability: sim.Ratio{Num: 1, Den: 100},
			Processing: sim.Processing{Boot: sim.Span{Max: ms(200)}, Step: sim.Span{Min: 50 * time.Microsecond, Max: ms(1)}, Lead: sim.Span{Min: ms(20), Max: ms(80)},
				Snapshot: sim.Span{Min: ms(1), Max: ms(9)}, Sync: sim.Span{Min: ms(2), Max: ms(3)}},
		},
		Disks: []sim.ServerDisk{
			{ID: 1, Disk: protocol.Disk{AcceptedEpoch: 5, CurrentEpoch: 4, CurrentEpochTmp: -1,
				Txns: protocol.TxnsOf(z(1, 1), z(1, 2), z(4, 1)), SnapshotZxid: z(1, 2), LogStart: z(1, 1),
				Superseded: protocol.TxnsOf(z(1, 1))}},
			{ID: 4, Disk: protocol.Disk{AcceptedEpoch: -1, CurrentEpoch: 3, CurrentEpochTmp: 4, UpdatingEpoch: true,
				Txns: protocol.TxnsOf(z(3, 0xffffffff))}},
		},
		Faults: []sim.Fault{
			{Kind: sim.FaultStart, At: at(ms(250)), Server: 5},
			{Kind: sim.FaultCrash, At: at(1500 * time.Millisecond), Server: 2},
			{Kind: sim.FaultRestart, At: at(3 * time.Second), Server: 2},
			{Kind: sim.FaultPartition, At: at(time.Second), Heal: at(5 * time.Second),
				Groups: [][]protocol.ServerID{{1}, {2, 3}}},
			{Kind: sim.FaultPartition, At: at(2 * time.Second), OneWay: true,
				Groups: [][]protocol.ServerID{{3}, {1, 4}}},
			{Kind: sim.FaultCrashPoint, At: 0, Server: 1, Write: protocol.WriteUpdatingEpochMarker, Occurrence: 1, Point: sim.CrashTorn},
			{Kind: sim.FaultDiskWrite, At: at(time.Second + 1), Server: 3, Write: protocol.WriteCurrentEpoch, Occurrence: 2},
			{Kind: sim.FaultPause, At: at(6 * time.Second), Heal: at(19 * time.Second), Server: 3},
			{Kind: sim.FaultRefuseConnect, At: at(time.Second), Heal: at(2 * time.Second), Server: 3, Peers: []protocol.ServerID{1, 2}},
			{Kind: sim.FaultRefuseConnect, At: at(7 * time.Second), Server: 2},
			{Kind: sim.FaultRestart, At: at(8 * time.Second), Server: 1, Disk: &protocol.Disk{AcceptedEpoch: 2, CurrentEpoch: 1, CurrentEpochTmp: -1,
				Txns: protocol.TxnsOf(z(1, 1)), SnapshotZxid: z(1, 1), LogStart: z(1, 1)}},
		},
		Until:          at(90 * time.Second),
		StopWhenStable: true,
	}
	return File{Spec: spec, Expect: Expectation{Violations: []string{"FreshEpoch", "SingleLeader"}, TraceHash: "0123456789abcdef"}}
}

func mustMarshal(t *testing.T, f File) []byte {
	t.Helper()
	b, err := Marshal(f)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	f := fullFile(t)
	b1 := mustMarshal(t, f)
	if again := mustMarshal(t, f); !bytes.Equal(b1, again) {
		t.Fatal("Marshal is not deterministic")
	}
	if !bytes.HasSuffix(b1, []byte("}\n")) {
		t.Errorf("output does not end in a newline:\n%s", b1)
	}
	g, err := Unmarshal(b1)
	if err != nil {
		t.Fatalf("Unmarshal of Marshal output: %v\n%s", err, b1)
	}
	if !reflect.DeepEqual(f, g) {
		t.Errorf("round trip changed the file:\nwant %+v\n got %+v", f, g)
	}
	b2 := mustMarshal(t, g)
	if !bytes.Equal(b1, b2) {
		t.Errorf("Marshal→Unmarshal→Marshal differs:\n%s\n---\n%s", b1, b2)
	}
	if err := g.Spec.Validate(); err != nil {
		t.Errorf("round-tripped spec is invalid: %v", err)
	}
	for _, want := range []string{
		`"format": 2,`, `"participants": [1, 2, 3],`, `"observers": [4, 5],`, `"tickTime": "2s",`,
		`"leaderSelfRegisterJitter": "0s",`, `"leaderSelfRegisterDelay": "30ms",`, `"delay": "1.5s"`,
		`"oneWayDelayJitter": "2.5ms",`, `"txns": ["0x100000001", "0x100000002", "0x400000001"],`,
		`"groups": [[1], [2, 3]],`, `"write": "updatingEpoch+",`, `"at": "1.000000001s",`,
		`"knobs": ["EpochQuorumIgnoresLeader", "CountObservers"],`, `"until": "1m30s",`,
		`"seed": "18446744073709551615",`, `"changes": [`, `"scenario": "everything <&> \"quoted\"",`,
	} {
		if !bytes.Contains(b1, []byte(want)) {
			t.Errorf("output lacks %s:\n%s", want, b1)
		}
	}
	// The pretty-printer changes only whitespace.
	var a, c bytes.Buffer
	if err := json.Compact(&a, b1); err != nil {
		t.Fatal(err)
	}
	fj, _ := toJSON(&f)
	raw, _ := json.Marshal(fj)
	if err := json.Compact(&c, raw); err != nil {
		t.Fatal(err)
	}
	var x, y any
	_ = json.Unmarshal(a.Bytes(), &x)
	_ = json.Unmarshal(c.Bytes(), &y)
	if !reflect.DeepEqual(x, y) {
		t.Error("pretty-printing changed the document")
	}
}

// exampleFile is the example in the format's specification, written the way a person would.
const exampleFile = `{
  "format": 2,
  "scenario": "leader-not-in-quorum",
  "seed": 7,
  "cluster": {"participants": [1,2,3], "observers": [4], "tickTime": "2s", "initLimit": 10, "syncLimit": 5,
              "connectToLearnerMasterLimit": 0, "leaderConnectDelayDuringRetry": "100ms", "commitLogCount": 500,
              "observerElectionDelay": "200ms", "leaderSelfRegisterJitter": "2ms",
              "election": {"leader": 3, "delay": "200ms"}},
  "network": {"oneWayDelayMin": "1ms", "oneWayDelayJitter": "2ms", "messageLoss": {"num": 0, "den": 1}},
  "disks": [{"id": 1, "acceptedEpoch": 5, "currentEpoch": 4, "currentEpochTmp": -1, "updatingEpoch": false,
             "txns": ["0x100000001", "0x100000002"], "snapshotZxid": "0x0", "logStart": "0x0"}],
  "faults": [{"kind": "crash", "at": "1.5s", "server": 2},
             {"kind": "partition", "at": "1s", "heal": "5s", "groups": [[1],[2,3]], "oneWay": false},
             {"kind": "crash-point", "at": "0s", "server": 2, "write": "acceptedEpoch", "occurrence": 1, "point": "after"}],
  "knobs": ["EpochQuorumIgnoresLeader"],
  "until": "60s",
  "stopWhenStable": true,
  "expect": {"violations": ["FreshEpoch"], "traceHash": "0123456789abcdef"}
}
`

func TestExample(t *testing.T) {
	f, err := Unmarshal([]byte(exampleFile))
	if err != nil {
		t.Fatal(err)
	}
	s := f.Spec
	wantServers := []protocol.ServerConfig{{ID: 1}, {ID: 2}, {ID: 3}, {ID: 4, Type: protocol.OBSERVER}}
	if !slices.Equal(s.Config.Servers, wantServers) {
		t.Errorf("servers %v", s.Config.Servers)
	}
	if s.Scenario != "leader-not-in-quorum" || s.Seed != 7 || s.Until != at(time.Minute) || !s.StopWhenStable {
		t.Errorf("header fields: %+v", s)
	}
	if s.Config.TickTime != 2*time.Second || s.Config.InitLimit != 10 || s.Config.SyncLimit != 5 ||
		s.Config.Election.Leader != 3 || !s.Config.Knobs.EpochQuorumIgnoresLeader {
		t.Errorf("config: %+v", s.Config)
	}
	if s.Options.MessageLossProbability != (sim.Ratio{Num: 0, Den: 1}) {
		t.Errorf("options: %+v", s.Options)
	}
	if d := s.DiskOf(1); d.AcceptedEpoch != 5 || d.CurrentEpoch != 4 || d.CurrentEpochTmp != -1 ||
		!slices.Equal(d.Txns, protocol.TxnsOf(0x100000001, 0x100000002)) {
		t.Errorf("disk: %+v", d)
	}
	wantFaults := []sim.Fault{
		{Kind: sim.FaultCrash, At: at(1500 * time.Millisecond), Server: 2},
		{Kind: sim.FaultPartition, At: at(time.Second), Heal: at(5 * time.Second), Groups: [][]protocol.ServerID{{1}, {2, 3}}},
		{Kind: sim.FaultCrashPoint, Server: 2, Write: protocol.WriteAcceptedEpoch, Occurrence: 1, Point: sim.CrashAfter},
	}
	if !reflect.DeepEqual(s.Faults, wantFaults) {
		t.Errorf("faults:\n got %+v\nwant %+v", s.Faults, wantFaults)
	}
	if !reflect.DeepEqual(f.Expect, Expectation{Violations: []string{"FreshEpoch"}, TraceHash: "0123456789abcdef"}) {
		t.Errorf("expect: %+v", f.Expect)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("example is invalid: %v", err)
	}
}

// minimalFile holds only the required fields.
const minimalFile = `{"format": 2, "seed": 3, "until": "10s",
 "cluster": {"participants": [1, 2, 3], "tickTime": "0s", "initLimit": 0, "syncLimit": 0}}`

func TestDefaultsAndExplicitZeros(t *testing.T) {
	f, err := Unmarshal([]byte(minimalFile))
	if err != nil {
		t.Fatal(err)
	}
	want := protocol.DefaultConfig([]protocol.ServerID{1, 2, 3}, nil)
	want.TickTime, want.InitLimit, want.SyncLimit = 0, 0, 0 // explicit zeros are kept, not defaulted
	if !reflect.DeepEqual(f.Spec.Config, want) {
		t.Errorf("config:\n got %+v\nwant %+v", f.Spec.Config, want)
	}
	if f.Spec.Options != sim.DefaultOptions() {
		t.Errorf("options %+v, want sim.DefaultOptions", f.Spec.Options)
	}
	if f.Spec.Validate() == nil {
		t.Error("Validate accepted tickTime 0; the zero should have reached it")
	}

	// Explicit zeros in optional fields are kept too.
	zeros := strings.Replace(minimalFile, `"syncLimit": 0`, `"syncLimit": 0, "commitLogCount": 0,
		"leaderSelfRegisterJitter": "0s", "election": {"delay": "0s"}`, 1)
	g, err := Unmarshal([]byte(zeros))
	if err != nil {
		t.Fatal(err)
	}
	if c := g.Spec.Config; c.CommitLogCount != 0 || c.LeaderSelfRegisterJitter != 0 || c.Election.Delay != 0 || c.Election.Leader != 3 {
		t.Errorf("explicit zeros not kept: %+v", c)
	}

	h, err := Unmarshal([]byte(strings.Replace(minimalFile, `"until"`, `"disks": [{"id": 2}], "until"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if d := h.Spec.DiskOf(2); !reflect.DeepEqual(d, protocol.NewDisk()) {
		t.Errorf("a disk with only an id should be a new disk, got %+v", d)
	}
}

func TestErrors(t *testing.T) {
	full := string(mustMarshal(t, fullFile(t)))
	replace := func(old, new string) string {
		t.Helper()
		if !strings.Contains(full, old) {
			t.Fatalf("test fixture lacks %q", old)
		}
		return strings.Replace(full, old, new, 1)
	}
	cases := []struct {
		name  string
		input string
		want  []string
	}{
		{"empty", "", []string{"run file is empty"}},
		{"blank", " \n\t", []string{"run file is empty"}},
		{"syntax", "{\n  \"format\": 2,\n  \"seed\": x\n}", []string{"syntax error at line 3, column 11", "invalid character 'x'"}},
		{"truncated", "{\n  \"format\": 2,\n", []string{"syntax error at line 3, column 1", "unexpected end of JSON input"}},
		{"trailing", full + "{}", []string{"syntax error", "after top-level value"}},
		{"not an object", "[1, 2]", []string{"run file must be a JSON object, got array"}},
		{"no format", replace(`"format": 2,`, ``), []string{`run file has no "format" field`}},
		{"null format", replace(`"format": 2,`, `"format": null,`), []string{`run file has no "format" field`}},
		{"newer format", replace(`"format": 2,`, `"format": 3,`), []string{"run file format 3 is newer than this zabsim understands (2); upgrade zabsim"}},
		{"huge format", replace(`"format": 2,`, `"format": 99999999999999999999,`), []string{"is newer than this zabsim understands (2)"}},
		{"format zero", replace(`"format": 2,`, `"format": 0,`), []string{"unknown run file format 0"}},
		{"format negative", replace(`"format": 2,`, `"format": -4,`), []string{"unknown run file format -4"}},
		{"format string", replace(`"format": 2,`, `"format": "1",`), []string{`format: want an integer, got "1"`}},
		{"format float", replace(`"format": 2,`, `"format": 1.5,`), []string{`format: want an integer, got 1.5`}},
		// A newer format is refused before its unknown fields are looked at.
		{"newer format with new fields", replace(`"format": 2,`, `"format": 3, "newThing": {},`), []string{"run file format 3 is newer"}},
		{"bad duration", replace(`"tickTime": "2s"`, `"tickTime": "2 s"`), []string{`cluster.tickTime: invalid duration "2 s"`}},
		{"bad at", replace(`"at": "3s"`, `"at": "soon"`), []string{`faults[2].at: invalid duration "soon"`}},
		{"bad until", replace(`"until": "1m30s"`, `"until": "90"`), []string{`until: invalid duration "90"`}},
		{"bad zxid", replace(`"0x100000002"`, `"0xzz"`), []string{`disks[0].txns[1]: invalid zxid "0xzz"`}},
		{"decimal zxid", replace(`"0x100000002"`, `"4294967298"`), []string{`disks[0].txns[1]: invalid zxid "4294967298"`}},
		{"zxid overflow", replace(`"0x100000002"`, `"0x10000000000000000"`), []string{`disks[0].txns[1]: invalid zxid`}},
		{"bad snapshotZxid", replace(`"snapshotZxid": "0x100000002"`, `"snapshotZxid": "0x"`), []string{`disks[0].snapshotZxid: invalid zxid "0x"`}},
		{"unknown write kind", replace(`"write": "updatingEpoch+"`, `"write": "foo"`), []string{`faults[5].write: unknown write kind "foo"`, "acceptedEpoch, currentEpoch"}},
		{"unknown knob", replace(`"CountObservers"`, `"CountObserverz"`), []string{`knobs[1]: unknown bug knob "CountObserverz"`}},
		{"duplicate knob", replace(`"CountObservers"`, `"EpochQuorumIgnoresLeader"`), []string{`knobs[1]: knob "EpochQuorumIgnoresLeader" is listed twice`}},
		{"unknown fault kind", replace(`"kind": "crash"`, `"kind": "explode"`), []string{`faults[1].kind: unknown fault kind "explode"`, "crash-point"}},
		{"missing fault kind", replace(`"kind": "crash",`, ``), []string{`faults[1].kind: missing`}},
		{"unused fault field", replace(`"kind": "crash",`, `"kind": "crash", "point": "after",`), []string{`faults[1].point: not used by a "crash" fault`}},
		{"missing fault field", replace(`"occurrence": 2`, `"point": "before"`), []string{`faults[6].occurrence: missing`, `faults[6].point: not used by a "disk-write-fails" fault`}},
		{"bad crash point", replace(`"point": "torn"`, `"point": "during"`), []string{`faults[5].point: unknown crash point "during"`}},
		{"unknown field", replace(`"tickTime"`, `"tickTme": "1s", "tickTime"`), []string{`cluster: unknown field "tickTme"`, "known: participants, observers", "line 8"}},
		{"wrong case", replace(`"tickTime"`, `"TickTime"`), []string{`cluster: unknown field "TickTime" (did you mean "tickTime"?)`}},
		{"duplicate key", replace(`"seed":`, `"seed": 1, "seed":`), []string{`field "seed" appears twice`}},
		{"unknown nested field", replace(`"updatingEpoch": true,`, `"updatingEpoch": true, "extra": [1, {"a": 2}],`), []string{`disks[1]: unknown field "extra"`}},
		{"type error", replace(`"initLimit": 10`, `"initLimit": "10"`), []string{`cluster.initLimit: want an integer, got string "10"`}},
		{"float for int", replace(`"initLimit": 10`, `"initLimit": 10.5`), []string{`cluster.initLimit: want an integer, got 10.5`}},
		{"negative seed", replace(`"seed": "18446744073709551615"`, `"seed": -1`), []string{`seed: want a non-negative integer, got -1`}},
		{"ratio overflow", replace(`"den": 100`, `"den": 5000000000`), []string{`network.messageLoss.den: 5000000000 is out of range (want a non-negative integer of 32 bits)`}},
		{"object for string", replace(`"until": "1m30s"`, `"until": {"s": 90}`), []string{`until: want a string, got an object`}},
		{"array index in path", replace(`"groups": [[1], [2, 3]]`, `"groups": [[1], [2, "3"]]`), []string{`faults[3].groups[1][1]: want an integer, got string "3"`}},
		{"missing required", replace(`"tickTime": "2s",`, ``), []string{`cluster.tickTime: missing`}},
		{"missing seed", replace(`"seed": "18446744073709551615",`, ``), []string{`seed: missing`}},
		{"missing until", replace(`"until": "1m30s",`, ``), []string{`until: missing`}},
		{"missing change leader", replace("\"at\": \"4s\",\n          \"leader\": 1", `"at": "4s"`), []string{`cluster.election.changes[1].leader: missing`}},
		{"missing disk id", replace(`"id": 4,`, ``), []string{`disks[1].id: missing`}},
		{"bad epoch", replace(`"currentEpochTmp": 4`, `"currentEpochTmp": -2`), []string{`disks[1].currentEpochTmp: epoch -2 is invalid`}},
		{"bad trace hash", replace(`"0123456789abcdef"`, `"0123"`), []string{`expect.traceHash: invalid trace hash "0123"`}},
		{"empty violation", replace(`"FreshEpoch"`, `""`), []string{`expect.violations[0]: empty invariant name`}},
		{"all problems at once", replace(`"tickTime": "2s"`, `"tickTime": "2 s"`), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Unmarshal([]byte(c.input))
			if err == nil {
				t.Fatalf("no error for:\n%s", c.input)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestAllProblemsReported(t *testing.T) {
	s := string(mustMarshal(t, fullFile(t)))
	for _, r := range [][2]string{
		{`"tickTime": "2s"`, `"tickTime": "2 s"`},
		{`"0x100000002"`, `"0xzz"`},
		{`"write": "updatingEpoch+"`, `"write": "foo"`},
		{`"CountObservers"`, `"Nope"`},
		{`"kind": "crash"`, `"kind": "explode"`},
	} {
		s = strings.Replace(s, r[0], r[1], 1)
	}
	_, err := Unmarshal([]byte(s))
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"cluster.tickTime:", "disks[0].txns[1]:", "faults[5].write:", "knobs[1]:", "faults[1].kind:"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	if j, ok := err.(interface{ Unwrap() []error }); !ok || len(j.Unwrap()) != 5 {
		t.Errorf("want 5 joined errors, got %#v", err)
	}

	// Structural problems are collected too, not just the first.
	s = string(mustMarshal(t, fullFile(t)))
	s = strings.Replace(s, `"initLimit": 10`, `"initLimit": "10", "bogus": 1`, 1)
	s = strings.Replace(s, `"id": 4`, `"id": "four"`, 1)
	_, err = Unmarshal([]byte(s))
	for _, w := range []string{"cluster.initLimit: want an integer", `cluster: unknown field "bogus"`, "disks[1].id: want an integer"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}

// TestTruncated cuts a valid file at every byte: each prefix must be an error, never a panic.
func TestTruncated(t *testing.T) {
	full := mustMarshal(t, fullFile(t))
	end := bytes.LastIndexByte(full, '}') // everything before the closing brace is incomplete
	for i := 0; i <= end; i++ {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panic on %d-byte prefix: %v", i, r)
				}
			}()
			if _, err := Unmarshal(full[:i]); err == nil {
				t.Fatalf("no error for %d-byte prefix:\n%s", i, full[:i])
			}
		}()
	}
	if _, err := Unmarshal(full[:end+1]); err != nil {
		t.Errorf("file without its trailing newline: %v", err)
	}
}

// FuzzUnmarshal checks that no input panics and that whatever decodes re-encodes stably.
// Under plain go test it runs the seeds only.
func FuzzUnmarshal(f *testing.F) {
	full, err := Marshal(fullFile(f))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{string(full), exampleFile, minimalFile, "", "null", "{}", `{"format":1}`, "[", `{"format":1,"faults":[{"kind":"partition","groups":[[1,{}]]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Unmarshal(data)
		if err != nil {
			return
		}
		b1, err := Marshal(g)
		if err != nil {
			return // e.g. an observer listed before a participant cannot be re-encoded
		}
		g2, err := Unmarshal(b1)
		if err != nil {
			t.Fatalf("Marshal output does not decode: %v\n%s", err, b1)
		}
		if b2, err := Marshal(g2); err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("unstable: %v\n%s\n---\n%s", err, b1, b2)
		}
	})
}

func TestMarshalRefusesWhatItCannotRecord(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*File)
		want   string
	}{
		{"observer first", func(f *File) {
			f.Spec.Config.Servers = append([]protocol.ServerConfig{{ID: 9, Type: protocol.OBSERVER}}, f.Spec.Config.Servers...)
		}, "listed after an observer"},
		{"unknown fault kind", func(f *File) { f.Spec.Faults[0].Kind = "boom" }, `faults[0].kind: unknown fault kind "boom"`},
		{"unused field", func(f *File) { f.Spec.Faults[1].Groups = [][]protocol.ServerID{{1}} }, `faults[1].groups: set, but a "crash" fault does not use it`},
		{"no write kind", func(f *File) { f.Spec.Faults[6].Write = 0 }, "faults[6].write: write kind 0 has no name"},
		{"bad write kind", func(f *File) { f.Spec.Faults[6].Write = 99 }, "faults[6].write: write kind 99 has no name"},
		{"bad point", func(f *File) { f.Spec.Faults[5].Point = 0 }, "faults[5].point: unknown crash point 0"},
		{"bad epoch", func(f *File) { f.Spec.Disks[0].Disk.CurrentEpoch = -7 }, "disks[0].currentEpoch: epoch -7 is invalid"},
		{"bad hash", func(f *File) { f.Expect.TraceHash = "XYZ" }, `expect.traceHash: invalid trace hash "XYZ"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := fullFile(t)
			c.mutate(&f)
			_, err := Marshal(f)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestNormalisation(t *testing.T) {
	f := fullFile(t)
	f.Expect.Violations = []string{"SingleLeader", "FreshEpoch", "SingleLeader"}
	f.Expect.TraceHash = ""
	f.Spec.Disks[0].Disk.Txns = nil
	f.Spec.Disks[0].Disk.SnapshotZxid = -1
	b := mustMarshal(t, f)
	if !bytes.Contains(b, []byte(`"violations": ["FreshEpoch", "SingleLeader"]`)) || bytes.Contains(b, []byte("traceHash")) {
		t.Errorf("violations not normalised or empty trace hash written:\n%s", b)
	}
	g, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if g.Spec.Disks[0].Disk.SnapshotZxid != -1 {
		t.Errorf("negative zxid did not round-trip: %v", g.Spec.Disks[0].Disk.SnapshotZxid)
	}
	upper := bytes.Replace(mustMarshal(t, fullFile(t)), []byte("0123456789abcdef"), []byte("0123456789ABCDEF"), 1)
	if g, err := Unmarshal(upper); err != nil || g.Expect.TraceHash != "0123456789abcdef" {
		t.Errorf("upper-case trace hash: %v, %q", err, g.Expect.TraceHash)
	}
	clean, err := Marshal(File{Spec: fullFile(t).Spec})
	if err != nil || !bytes.Contains(clean, []byte(`"violations": []`)) {
		t.Errorf("a clean expectation should be written as an empty list: %v\n%s", err, clean)
	}
}

// TestFieldsCovered fails when a field is added to a type the run file records, as a reminder
// to record it here too (otherwise replays would silently run with its zero value).
func TestFieldsCovered(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{sim.RunSpec{}, "_ Scenario Seed Config Disks Faults Writes Options Until StopWhenStable MaxEvents Decisions DecisionsThenSeed"},
		{sim.Decision{}, "Event Kind A B Value"},
		{protocol.Config{}, "_ Servers TickTime InitLimit SyncLimit ConnectToLearnerMasterLimit LeaderConnectDelayDuringRetry " +
			"CommitLogCount SnapCount DatabaseBytes SnapshotSizeFactor SyncDelay SyncJitter ObserverElectionDelay LeaderSelfRegisterJitter LeaderSelfRegisterDelay LeaderThreadDelay MaxTimeToWaitForEpoch Election Knobs"},
		{protocol.ElectionConfig{}, "_ Assigned Leader Delay FinalizeWait MinNotificationInterval MaxNotificationInterval Changes"},
		{protocol.LeaderChange{}, "At Leader"},
		{protocol.ServerConfig{}, "ID Type"},
		{protocol.Disk{}, "_ AcceptedEpoch CurrentEpoch CurrentEpochTmp UpdatingEpoch Txns SnapshotZxid LogStart Superseded"},
		{sim.ServerDisk{}, "ID Disk"},
		{sim.ClientWrite{}, "At Server"},
		{protocol.Txn{}, "Zxid Value"},
		{sim.Fault{}, "Kind At Server Groups OneWay Heal Write Occurrence Point Port Disk Peers"},
		{sim.Options{}, "_ OneWayDelayMin OneWayDelayJitter MessageLossProbability Processing"},
		{sim.Processing{}, "_ Boot Step Lead Snapshot Sync"},
		{sim.Span{}, "Min Max"},
		{sim.Ratio{}, "Num Den"},
	} {
		typ := reflect.TypeOf(c.v)
		var names []string
		for i := range typ.NumField() {
			names = append(names, typ.Field(i).Name)
		}
		if got := strings.Join(names, " "); got != c.want {
			t.Errorf("%v has fields %q; the run file records %q: update runfile", typ, got, c.want)
		}
	}
	// Knobs are recorded by name through protocol.KnobNames; every bool field must be listed.
	kt := reflect.TypeFor[protocol.Knobs]()
	for i := range kt.NumField() {
		// A pending knob cannot be set at all (Knobs.Set refuses it), so no run holds it.
		if f := kt.Field(i); f.Type.Kind() == reflect.Bool && !slices.Contains(protocol.KnobNames, f.Name) && !slices.Contains(protocol.PendingKnobs, f.Name) {
			t.Errorf("knob %s is not in protocol.KnobNames, so run files cannot record it", f.Name)
		}
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.json")
	f := fullFile(t)
	if err := Save(path, f); err != nil {
		t.Fatal(err)
	}
	g, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f, g) {
		t.Errorf("Load(Save(f)) != f")
	}
	data, _ := os.ReadFile(path)
	if !bytes.Equal(data, mustMarshal(t, f)) {
		t.Error("saved bytes differ from Marshal")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v, want 0644", st.Mode().Perm())
	}

	// Saving over an existing file replaces it.
	f2 := f
	f2.Spec.Seed = 42
	f2.Expect = Expectation{}
	if err := Save(path, f2); err != nil {
		t.Fatal(err)
	}
	if g, err := Load(path); err != nil || g.Spec.Seed != 42 || g.Expect.Violations != nil {
		t.Errorf("after overwrite: %v, seed %d, expect %+v", err, g.Spec.Seed, g.Expect)
	}

	// A file Marshal refuses leaves the old file untouched and no temp file behind.
	bad := f
	bad.Expect.TraceHash = "nope"
	if err := Save(path, bad); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Save of an unrecordable file: %v", err)
	}
	if g, err := Load(path); err != nil || g.Spec.Seed != 42 {
		t.Errorf("failed Save damaged the old file: %v", err)
	}

	// A relative path in the current directory works too.
	t.Chdir(dir)
	if err := Save("rel.json", f); err != nil {
		t.Fatal(err)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"rel.json", "run.json"}) {
		t.Errorf("directory holds %v, want only the saved files (no temp files)", names)
	}

	// Saving into a missing directory fails, naming the path, and creates nothing.
	missing := filepath.Join(dir, "no", "such", "run.json")
	if err := Save(missing, f); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Save into a missing directory: %v", err)
	}
}

func TestLoadErrorsNamePath(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json")
	if _, err := Load(missing); err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"format": 3}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.HasPrefix(err.Error(), bad+": run file format 3 is newer") {
		t.Errorf("Load of a newer file: %v", err)
	}
	many := filepath.Join(dir, "many.json")
	if err := os.WriteFile(many, []byte(`{"format": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(many); err == nil || !strings.HasPrefix(err.Error(), many+": invalid run file:\nseed: missing\ncluster: missing\nuntil: missing") {
		t.Errorf("Load of an incomplete file: %v", err)
	}
}

func TestPretty(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{}`, "{}\n"},
		{`[]`, "[]\n"},
		{`{"a":[1,"x,\"]{",[2,3]],"b":{}}`, "{\n  \"a\": [1, \"x,\\\"]{\", [2, 3]],\n  \"b\": {}\n}\n"},
		{`[{"a":1},{"b":[]}]`, "[\n  {\n    \"a\": 1\n  },\n  {\n    \"b\": []\n  }\n]\n"},
	} {
		if got := string(pretty([]byte(c.in))); got != c.want {
			t.Errorf("pretty(%s) =\n%s\nwant\n%s", c.in, got, c.want)
		}
	}
}

// TestManyProblemsBounded checks that a file with a huge number of problems gives a bounded
// error quickly (no quadratic work per problem).
func TestManyProblemsBounded(t *testing.T) {
	const n = 100000
	knobs := strings.Repeat(`"Nope",`, n)
	unknown := strings.Repeat(`{"x": 1},`, n)
	doc := `{"format": 1, "seed": 1, "until": "1s", "cluster": {"participants": [1], "tickTime": "1s", "initLimit": 1, "syncLimit": 1},
		"knobs": [` + knobs + `"Nope"]}`
	start := time.Now()
	_, err := Unmarshal([]byte(doc))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("and %d more problems", n+1-maxProblems)) {
		t.Errorf("error does not summarise the rest: %.300v", err)
	}
	doc = `{"format": 1, "disks": [` + unknown + `{}]}`
	_, err = Unmarshal([]byte(doc))
	if err == nil || !strings.Contains(err.Error(), "more problems") {
		t.Errorf("error does not summarise the rest: %.300v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestFormat1IsUpgradedToAssignedRoles: a format-1 file predates Fast Leader Election, so it is
// read as assigned roles, and written back as format 2 with the mode spelled out.
func TestFormat1IsUpgradedToAssignedRoles(t *testing.T) {
	old := strings.Replace(minimalFile, `"format": 2`, `"format": 1`, 1)
	f, err := Unmarshal([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if !f.Spec.Config.Election.Assigned {
		t.Fatal("a format-1 file must replay with assigned roles")
	}
	out, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"format": 2`) || !strings.Contains(string(out), `"mode": "assigned"`) {
		t.Fatalf("upgraded file:\n%s", out)
	}
	g, err := Unmarshal([]byte(minimalFile))
	if err != nil || g.Spec.Config.Election.Assigned {
		t.Fatalf("a format-2 file without a mode uses Fast Leader Election: %v %v", err, g.Spec.Config.Election.Assigned)
	}
}

// TestDecisionsRoundTrip: recorded decisions survive the file, and a bad one names its path.
func TestDecisionsRoundTrip(t *testing.T) {
	f := File{Spec: sim.RunSpec{Scenario: "d", Seed: 1, Config: protocol.DefaultConfig([]protocol.ServerID{1, 2, 3}, nil),
		Options: sim.DefaultOptions(), Until: at(time.Second),
		Decisions: []sim.Decision{{Event: 3, Kind: sim.DecideDelay, A: 1, B: 2, Value: int64(1500 * time.Microsecond)},
			{Event: 4, Kind: sim.DecideJitter, A: 3, Value: 7}, {Event: 9, Kind: sim.DecideLoss, A: 2, B: 1, Value: 1}}}}
	b, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g.Spec.Decisions, f.Spec.Decisions) {
		t.Fatalf("decisions: got %+v, want %+v", g.Spec.Decisions, f.Spec.Decisions)
	}
	bad := strings.Replace(string(b), `"after": "1.5ms"`, `"after": "soon"`, 1)
	if _, err := Unmarshal([]byte(bad)); err == nil || !strings.Contains(err.Error(), "decisions[0].after") {
		t.Fatalf("bad decision: %v", err)
	}
}

// TestWritesAndTxnValuesRoundTrip checks that a run file keeps the client workload, the
// logging thread's timing and the values of txns on disk, and refuses a bad value.
func TestWritesAndTxnValuesRoundTrip(t *testing.T) {
	s := sim.RunSpec{Scenario: "w", Seed: 3, Until: protocol.Time(time.Minute), Options: sim.DefaultOptions(),
		Config: protocol.DefaultConfig([]protocol.ServerID{1, 2, 3}, nil)}
	s.Config.SnapCount, s.Config.SyncDelay, s.Config.SyncJitter = 7, 3*time.Millisecond, time.Millisecond
	s.Writes = []sim.ClientWrite{{At: protocol.Time(5 * time.Second), Server: 2}, {At: protocol.Time(6 * time.Second), Server: 3}}
	d := protocol.NewDisk()
	d.AcceptedEpoch, d.CurrentEpoch = 1, 1
	d.Txns = []protocol.Txn{{Zxid: protocol.MakeZxid(1, 1)}, {Zxid: protocol.MakeZxid(1, 2), Value: 9}}
	s.Disks = []sim.ServerDisk{{ID: 1, Disk: d}}
	data, err := Marshal(File{Spec: s})
	require.NoError(t, err)
	require.Contains(t, string(data), `"0x100000002=9"`)
	f, err := Unmarshal(data)
	require.NoError(t, err)
	require.Equal(t, s.Writes, f.Spec.Writes)
	require.Equal(t, d.Txns, f.Spec.Disks[0].Disk.Txns)
	require.Equal(t, 7, f.Spec.Config.SnapCount)
	require.Equal(t, 3*time.Millisecond, f.Spec.Config.SyncDelay)

	bad := strings.Replace(string(data), `"0x100000002=9"`, `"0x100000002=x"`, 1)
	_, err = Unmarshal([]byte(bad))
	require.ErrorContains(t, err, "invalid txn value")
}

// TestTxnLogSizeFieldsRoundTrip: the database's size, snapshotSizeFactor and a disk's
// superseded log files survive a run file, and a factor above 1000 is refused.
func TestTxnLogSizeFieldsRoundTrip(t *testing.T) {
	s := sim.RunSpec{Scenario: "l", Seed: 4, Until: protocol.Time(time.Minute), Options: sim.DefaultOptions(),
		Config: protocol.DefaultConfig([]protocol.ServerID{1, 2, 3}, nil)}
	s.Config.DatabaseBytes, s.Config.SnapshotSizeFactor = 64<<20, -1
	d := protocol.NewDisk()
	d.AcceptedEpoch, d.CurrentEpoch = 2, 2
	d.Txns = []protocol.Txn{{Zxid: protocol.MakeZxid(2, 1), Value: 4}}
	d.SnapshotZxid, d.LogStart = protocol.MakeZxid(2, 1), protocol.MakeZxid(2, 2)
	d.Superseded = []protocol.Txn{{Zxid: protocol.MakeZxid(1, 1), Value: 1}}
	s.Disks = []sim.ServerDisk{{ID: 1, Disk: d}}
	data, err := Marshal(File{Spec: s})
	require.NoError(t, err)
	f, err := Unmarshal(data)
	require.NoError(t, err)
	require.Equal(t, int64(64<<20), f.Spec.Config.DatabaseBytes)
	require.Equal(t, -1, f.Spec.Config.SnapshotSizeFactor)
	require.Equal(t, d.Superseded, f.Spec.Disks[0].Disk.Superseded)

	bad := strings.Replace(string(data), `"snapshotSizeFactor": -1`, `"snapshotSizeFactor": 1500`, 1)
	_, err = Unmarshal([]byte(bad))
	require.ErrorContains(t, err, "snapshotSizeFactor")
}
