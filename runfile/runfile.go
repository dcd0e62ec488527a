// Package runfile reads and writes the versioned JSON "run file" that records one simulation
// run (its sim.RunSpec and the outcome it is expected to reproduce) so that the run can be
// replayed later, on another machine or by another version of zabsim.
//
// A run file is data that people edit by hand and share, so Unmarshal is strict (unknown
// fields, wrong types and malformed values are errors that name the JSON path) and never
// panics; Marshal is deterministic, so a saved file changes only when the run changes.
//
// Defaults. Missing optional fields are filled in as follows; an explicit value, including an
// explicit zero, is always kept as written, so that a file says exactly what ran:
//
//   - cluster.observers: none.
//   - cluster.tickTime, cluster.initLimit, cluster.syncLimit: no default, they must be given
//     (an explicit 0 is kept, for sim.RunSpec.Validate to reject).
//   - cluster.connectToLearnerMasterLimit, leaderConnectDelayDuringRetry, commitLogCount,
//     observerElectionDelay, leaderSelfRegisterJitter, leaderSelfRegisterDelay,
//     leaderThreadDelay, maxTimeToWaitForEpoch and election.delay: the values of
//     protocol.DefaultConfig (maxTimeToWaitForEpoch 0: disabled, ZooKeeper's default).
//   - cluster.election.leader: the highest participant id, as protocol.DefaultConfig chooses.
//   - cluster.election.changes: none (it is written only when there are some); each change
//     needs both "at" and "leader".
//   - network and each of its fields: sim.DefaultOptions.
//   - disks[i] epochs: -1 (file missing); snapshotZxid and logStart: 0x0; txns: none.
//   - knobs: none; stopWhenStable: false; scenario: ""; expect: a clean run, no trace hash.
//   - faults[i].heal: 0 (never); faults[i].oneWay: false.
//
// format, seed, cluster, cluster.participants and until are required. Each fault needs
// "kind" and "at" plus the fields its kind requires, and may not carry fields its kind does not
// use; the kinds and their fields are declared once, in sim.FaultSchemas: "server" for start,
// crash and restart (a restart may also carry "disk", the disk it restarts from); "groups"
// (and optionally "heal", "oneWay", "port") for partition; "server", "write", "occurrence"
// and "point" for crash-point; "server", "write" and "occurrence" for disk-write-fails;
// "server" and "heal" for pause; "server" (and optionally "heal" and "peers") for
// refuse-connect.
package runfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"zabsim/protocol"
	"zabsim/sim"
)

// Format is the run file format this package writes, and the newest it reads. Bump it when a
// change would make an older zabsim misread a newer file, so that it refuses instead.
//
// Format 2 added Fast Leader Election: cluster.election.mode ("fle" or "assigned") and FLE's
// timers, and a partition's port. A format-1 file predates FLE, so it is read as assigned roles
// (the upgrade), and written back as format 2.
const Format = 2

// Expectation is the outcome a run file records, which a replay compares against.
type Expectation struct {
	// Violations are the invariant names the run is expected to report, sorted and unique;
	// empty means a clean run. Marshal and Unmarshal sort and de-duplicate them.
	Violations []string
	// TraceHash is the run's trace hash, 16 lowercase hex digits; "" means not recorded, and
	// a replay then compares violations only.
	TraceHash string
}

// File is one run file: what to run and what it is expected to produce.
type File struct {
	Spec   sim.RunSpec
	Expect Expectation
}

// Marshal encodes f as indented JSON with a trailing newline. The bytes depend only on f, so
// saving the same run twice gives the same file. It fails, rather than write a file that
// Unmarshal would reject or read back differently, when f holds something the format cannot
// express: an observer listed before a participant (server order is part of a run), an
// unknown fault kind, write kind or crash point, a field the fault's kind does not use, an
// epoch below -1, or a malformed trace hash or violation name.
func Marshal(f File) ([]byte, error) {
	fj, err := toJSON(&f)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fj); err != nil {
		return nil, err
	}
	return pretty(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// Unmarshal decodes a run file. It checks the format version first, so that a file from a
// newer zabsim is refused with an upgrade hint rather than with confusing field errors; then it
// reports every unknown field, type error and malformed value it finds, joined with
// errors.Join, each naming its JSON path. It does not call sim.RunSpec.Validate: the caller
// does, so that a run file and a spec built in code are judged by the same rules.
func Unmarshal(data []byte) (File, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return File{}, errors.New("run file is empty")
	}
	if err := checkFormat(data); err != nil {
		return File{}, err
	}
	if err := checkSchema(data, typeOfFileJSON); err != nil {
		return File{}, err
	}
	var fj fileJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fj); err != nil {
		// checkSchema accepts only what the decoder accepts, so this is a backstop.
		return File{}, describeDecodeError(data, err)
	}
	return fromJSON(&fj)
}

// checkFormat decodes "format" alone, before anything else, so a newer file is refused on
// its version rather than on fields this version does not know.
func checkFormat(data []byte) error {
	var head struct {
		Format json.RawMessage `json:"format"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			return fmt.Errorf("run file must be a JSON object, got %s", te.Value)
		}
		return describeDecodeError(data, err)
	}
	raw := string(head.Format)
	if raw == "" || raw == "null" {
		return errors.New(`run file has no "format" field`)
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(raw, "-") {
			return fmt.Errorf("run file format %s is newer than this zabsim understands (%d); upgrade zabsim", raw, Format)
		}
		return fmt.Errorf("format: want an integer, got %s", raw)
	}
	if n > Format {
		return fmt.Errorf("run file format %d is newer than this zabsim understands (%d); upgrade zabsim", n, Format)
	}
	if n < 1 {
		return fmt.Errorf("unknown run file format %d", n)
	}
	return nil
}

// MaxFileBytes bounds a run file: the largest saved failures are a few hundred KB of
// decisions, and a file far beyond that would take the memory of a run before it starts.
const MaxFileBytes = 16 << 20

// Load reads and decodes the run file at path and checks its spec against the simulator's
// limits (sim.RunSpec.Validate: servers, ids, times, partition groups), so that a file that
// cannot run is refused with every problem named before anything runs. Errors name the path.
func Load(path string) (File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return File{}, fmt.Errorf("read run file: %w", err)
	}
	defer fh.Close()
	// Read one byte past the limit rather than trusting Stat: a pipe or /dev file has no size.
	data, err := io.ReadAll(io.LimitReader(fh, MaxFileBytes+1))
	if err != nil {
		return File{}, fmt.Errorf("read run file: %w", err)
	}
	if len(data) > MaxFileBytes {
		return File{}, fmt.Errorf("%s: run file is over the 16 MiB limit (%d bytes read and more to come)", path, len(data))
	}
	f, err := Unmarshal(data)
	if err == nil {
		if verr := f.Spec.Validate(); verr != nil {
			err = verr
		}
	}
	if err != nil {
		if j, ok := err.(interface{ Unwrap() []error }); ok && len(j.Unwrap()) > 1 {
			return File{}, fmt.Errorf("%s: invalid run file:\n%w", path, err)
		}
		return File{}, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Save writes f to path atomically: it writes a temporary file in the same directory, syncs
// and closes it, then renames it over path, so a reader (or a crash) sees either the old file
// or the complete new one, never a partial file. The temporary file is removed on any error.
// An existing file's permissions are kept; a new file gets 0644.
func Save(path string, f File) (err error) {
	data, err := Marshal(f)
	if err != nil {
		return fmt.Errorf("save run file %s: %w", path, err)
	}
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		mode = st.Mode().Perm()
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("save run file %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("save run file %s: %w", path, err)
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(mode); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable. Best effort: some file systems cannot sync a directory,
	// and the file is complete either way.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// maxProblems caps how many problems one error lists, so a badly broken (or hostile) file
// gives a readable error in bounded time.
const maxProblems = 50

// problems collects field-level errors, each prefixed with its JSON path.
type problems struct {
	errs    []error
	dropped int
}

func (p *problems) add(path, format string, args ...any) {
	if len(p.errs) >= maxProblems {
		p.dropped++
		return
	}
	p.errs = append(p.errs, errors.New(path+": "+fmt.Sprintf(format, args...)))
}

func (p *problems) err() error { return joinProblems(p.errs, p.dropped) }

func joinProblems(errs []error, dropped int) error {
	if dropped > 0 {
		errs = append(errs, fmt.Errorf("... and %d more problems", dropped))
	}
	return errors.Join(errs...)
}

// ---- File -> JSON ----

func toJSON(f *File) (*fileJSON, error) {
	var p problems
	s := &f.Spec
	c := &s.Config
	seed := seedJSON(s.Seed)
	fj := &fileJSON{
		Format:         Format,
		Scenario:       s.Scenario,
		Seed:           &seed,
		Knobs:          nonNil(c.Knobs.Enabled()),
		Until:          ptr(fmtTime(s.Until)),
		StopWhenStable: s.StopWhenStable,
		MaxEvents:      s.MaxEvents,
		Decisions:      decisionsToJSON(s.Decisions),
		Disks:          []diskJSON{},
		Faults:         []faultJSON{},
	}

	cj := &clusterJSON{
		Participants:                  []int64{},
		Observers:                     []int64{},
		TickTime:                      ptr(c.TickTime.String()),
		InitLimit:                     ptr(c.InitLimit),
		SyncLimit:                     ptr(c.SyncLimit),
		ConnectToLearnerMasterLimit:   ptr(c.ConnectToLearnerMasterLimit),
		LeaderConnectDelayDuringRetry: ptr(c.LeaderConnectDelayDuringRetry.String()),
		CommitLogCount:                ptr(c.CommitLogCount),
		ObserverElectionDelay:         ptr(c.ObserverElectionDelay.String()),
		LeaderSelfRegisterJitter:      ptr(c.LeaderSelfRegisterJitter.String()),
		Election: &electionJSON{Mode: ptr(electionMode(c.Election.Assigned)), Leader: ptr(int64(c.Election.Leader)), Delay: ptr(c.Election.Delay.String()),
			FinalizeWait: ptr(c.Election.FinalizeWait.String()), MinNotificationInterval: ptr(c.Election.MinNotificationInterval.String()),
			MaxNotificationInterval: ptr(c.Election.MaxNotificationInterval.String())},
	}
	for _, ch := range c.Election.Changes {
		cj.Election.Changes = append(cj.Election.Changes, changeJSON{At: ptr(fmtTime(ch.At)), Leader: ptr(int64(ch.Leader))})
	}
	if c.LeaderSelfRegisterDelay != 0 {
		cj.LeaderSelfRegisterDelay = ptr(c.LeaderSelfRegisterDelay.String())
	}
	if c.LeaderThreadDelay != 0 {
		cj.LeaderThreadDelay = ptr(c.LeaderThreadDelay.String())
	}
	if c.MaxTimeToWaitForEpoch != 0 {
		cj.MaxTimeToWaitForEpoch = ptr(c.MaxTimeToWaitForEpoch.String())
	}
	if c.SnapCount != 0 {
		cj.SnapCount = ptr(c.SnapCount)
	}
	if c.DatabaseBytes != 0 {
		cj.DatabaseBytes = ptr(c.DatabaseBytes)
	}
	if c.SnapshotSizeFactor != 0 {
		cj.SnapshotSizeFactor = ptr(c.SnapshotSizeFactor)
	}
	if c.SyncDelay != 0 {
		cj.SyncDelay = ptr(c.SyncDelay.String())
	}
	if c.SyncJitter != 0 {
		cj.SyncJitter = ptr(c.SyncJitter.String())
	}
	for i, sc := range c.Servers {
		switch sc.Type {
		case protocol.PARTICIPANT:
			if len(cj.Observers) > 0 {
				p.add(fmt.Sprintf("cluster.servers[%d]", i), "participant %d is listed after an observer; a run file lists participants first, and server order is part of a run", sc.ID)
			}
			cj.Participants = append(cj.Participants, int64(sc.ID))
		case protocol.OBSERVER:
			cj.Observers = append(cj.Observers, int64(sc.ID))
		default:
			p.add(fmt.Sprintf("cluster.servers[%d]", i), "server %d has unknown learner type %d", sc.ID, sc.Type)
		}
	}
	fj.Cluster = cj

	o := &s.Options
	fj.Network = &networkJSON{
		OneWayDelayMin:    ptr(o.OneWayDelayMin.String()),
		OneWayDelayJitter: ptr(o.OneWayDelayJitter.String()),
		MessageLoss:       &ratioJSON{Num: o.MessageLossProbability.Num, Den: o.MessageLossProbability.Den},
	}

	if pr := o.Processing; !pr.IsZero() {
		span := func(sp sim.Span) *spanJSON {
			if sp.IsZero() {
				return nil
			}
			return &spanJSON{Min: ptr(sp.Min.String()), Max: ptr(sp.Max.String())}
		}
		fj.Processing = &processingJSON{Boot: span(pr.Boot), Step: span(pr.Step), Lead: span(pr.Lead), Snapshot: span(pr.Snapshot), Sync: span(pr.Sync)}
	}

	for i := range s.Disks {
		sd := &s.Disks[i]
		fj.Disks = append(fj.Disks, diskToJSON(&p, fmt.Sprintf("disks[%d]", i), ptr(int64(sd.ID)), &sd.Disk))
	}

	for _, cw := range s.Writes {
		fj.Writes = append(fj.Writes, writeJSON{At: ptr(fmtTime(cw.At)), Server: ptr(int64(cw.Server))})
	}
	for i, f := range s.Faults {
		fj.Faults = append(fj.Faults, faultToJSON(&p, fmt.Sprintf("faults[%d]", i), f))
	}

	ej := &expectJSON{Violations: []string{}, TraceHash: f.Expect.TraceHash}
	if v := normViolations(&p, "expect.violations", f.Expect.Violations); v != nil {
		ej.Violations = v
	}
	if ej.TraceHash != "" && !isTraceHash(ej.TraceHash) {
		p.add("expect.traceHash", "invalid trace hash %q (want 16 lowercase hex digits)", ej.TraceHash)
	}
	fj.Expect = ej
	if err := p.err(); err != nil {
		return nil, err
	}
	return fj, nil
}

func faultToJSON(p *problems, path string, f sim.Fault) faultJSON {
	fj := faultJSON{Kind: string(f.Kind), At: ptr(fmtTime(f.At))}
	sc, known := sim.SchemaOf(f.Kind)
	if !known {
		p.add(path+".kind", "unknown fault kind %q (known: %s)", f.Kind, sim.FaultKindNames())
		return fj
	}
	set := f.Set()
	for _, x := range sim.FaultFields {
		if set&x.Field != 0 && sc.Uses&x.Field == 0 {
			p.add(path+"."+x.Name, "set, but a %q fault does not use it", f.Kind)
		}
	}
	uses := func(field sim.FaultField) bool { return sc.Uses&field != 0 }
	if uses(sim.FieldServer) {
		fj.Server = ptr(int64(f.Server))
	}
	if uses(sim.FieldGroups) {
		groups := make([][]int64, 0, len(f.Groups))
		for _, g := range f.Groups {
			groups = append(groups, idsToJSON(g))
		}
		fj.Groups = &groups
	}
	if uses(sim.FieldOneWay) {
		fj.OneWay = ptr(f.OneWay)
	}
	if uses(sim.FieldHeal) && f.Heal != 0 {
		fj.Heal = ptr(fmtTime(f.Heal))
	}
	if uses(sim.FieldWrite) {
		if _, ok := protocol.ParseWriteKind(f.Write.String()); !ok {
			p.add(path+".write", "write kind %d has no name", f.Write)
		} else {
			fj.Write = ptr(f.Write.String())
		}
	}
	if uses(sim.FieldOccurrence) {
		fj.Occurrence = ptr(f.Occurrence)
	}
	if uses(sim.FieldPoint) {
		if _, ok := sim.ParseCrashPoint(f.Point.String()); !ok {
			p.add(path+".point", "unknown crash point %d", f.Point)
		}
		fj.Point = ptr(f.Point.String())
	}
	if uses(sim.FieldPort) && f.Port != sim.PortBoth {
		if _, ok := sim.ParsePort(f.Port.String()); !ok {
			p.add(path+".port", "unknown port %d", f.Port)
		}
		fj.Port = ptr(f.Port.String())
	}
	if uses(sim.FieldDisk) && f.Disk != nil {
		dj := diskToJSON(p, path+".disk", nil, f.Disk)
		fj.Disk = &dj
	}
	if uses(sim.FieldPeers) && f.Peers != nil {
		fj.Peers = ptr(idsToJSON(f.Peers))
	}
	return fj
}

func idsToJSON(ids []protocol.ServerID) []int64 {
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		out = append(out, int64(id))
	}
	return out
}

func idsFromJSON(ids []int64) []protocol.ServerID {
	out := make([]protocol.ServerID, 0, len(ids))
	for _, id := range ids {
		out = append(out, protocol.ServerID(id))
	}
	return out
}

// diskToJSON encodes a disk; id is nil for a disk that replaces one at a restart.
func diskToJSON(p *problems, path string, id *int64, d *protocol.Disk) diskJSON {
	dj := diskJSON{
		ID:              id,
		AcceptedEpoch:   ptr(int64(d.AcceptedEpoch)),
		CurrentEpoch:    ptr(int64(d.CurrentEpoch)),
		CurrentEpochTmp: ptr(int64(d.CurrentEpochTmp)),
		UpdatingEpoch:   d.UpdatingEpoch,
		Txns:            make([]string, 0, len(d.Txns)),
		SnapshotZxid:    ptr(fmtZxid(d.SnapshotZxid)),
		LogStart:        ptr(fmtZxid(d.LogStart)),
	}
	checkEpoch(p, path+".acceptedEpoch", int64(d.AcceptedEpoch))
	checkEpoch(p, path+".currentEpoch", int64(d.CurrentEpoch))
	checkEpoch(p, path+".currentEpochTmp", int64(d.CurrentEpochTmp))
	for _, t := range d.Txns {
		dj.Txns = append(dj.Txns, fmtTxn(t))
	}
	for _, t := range d.Superseded {
		dj.Superseded = append(dj.Superseded, fmtTxn(t))
	}
	return dj
}

// diskFromJSON decodes the fields of a disk other than its id.
func diskFromJSON(p *problems, path string, dj *diskJSON) protocol.Disk {
	d := protocol.NewDisk()
	optionalEpoch(p, path+".acceptedEpoch", dj.AcceptedEpoch, &d.AcceptedEpoch)
	optionalEpoch(p, path+".currentEpoch", dj.CurrentEpoch, &d.CurrentEpoch)
	optionalEpoch(p, path+".currentEpochTmp", dj.CurrentEpochTmp, &d.CurrentEpochTmp)
	d.UpdatingEpoch = dj.UpdatingEpoch
	for j, z := range dj.Txns {
		if t, ok := parseTxn(p, fmt.Sprintf("%s.txns[%d]", path, j), z); ok {
			d.Txns = append(d.Txns, t)
		}
	}
	if dj.SnapshotZxid != nil {
		d.SnapshotZxid, _ = parseZxid(p, path+".snapshotZxid", *dj.SnapshotZxid)
	}
	if dj.LogStart != nil {
		d.LogStart, _ = parseZxid(p, path+".logStart", *dj.LogStart)
	}
	for j, z := range dj.Superseded {
		if t, ok := parseTxn(p, fmt.Sprintf("%s.superseded[%d]", path, j), z); ok {
			d.Superseded = append(d.Superseded, t)
		}
	}
	return d
}

// ---- JSON -> File ----

func fromJSON(fj *fileJSON) (File, error) {
	var p problems
	var f File
	s := &f.Spec
	s.Scenario = fj.Scenario
	if fj.Seed == nil {
		p.add("seed", "missing")
	} else {
		s.Seed = uint64(*fj.Seed)
	}

	var participants, observers []protocol.ServerID
	cj := fj.Cluster
	if cj == nil {
		p.add("cluster", "missing")
		cj = &clusterJSON{}
	} else if cj.Participants == nil {
		p.add("cluster.participants", "missing")
	}
	for _, id := range cj.Participants {
		participants = append(participants, protocol.ServerID(id))
	}
	for _, id := range cj.Observers {
		observers = append(observers, protocol.ServerID(id))
	}
	c := protocol.DefaultConfig(participants, observers)
	if fj.Cluster != nil {
		c.TickTime = requiredDuration(&p, "cluster.tickTime", cj.TickTime)
		c.InitLimit = requiredInt(&p, "cluster.initLimit", cj.InitLimit)
		c.SyncLimit = requiredInt(&p, "cluster.syncLimit", cj.SyncLimit)
	}
	if cj.ConnectToLearnerMasterLimit != nil {
		c.ConnectToLearnerMasterLimit = *cj.ConnectToLearnerMasterLimit
	}
	optionalDuration(&p, "cluster.leaderConnectDelayDuringRetry", cj.LeaderConnectDelayDuringRetry, &c.LeaderConnectDelayDuringRetry)
	if cj.CommitLogCount != nil {
		c.CommitLogCount = *cj.CommitLogCount
	}
	optionalDuration(&p, "cluster.observerElectionDelay", cj.ObserverElectionDelay, &c.ObserverElectionDelay)
	optionalDuration(&p, "cluster.leaderSelfRegisterJitter", cj.LeaderSelfRegisterJitter, &c.LeaderSelfRegisterJitter)
	optionalDuration(&p, "cluster.leaderSelfRegisterDelay", cj.LeaderSelfRegisterDelay, &c.LeaderSelfRegisterDelay)
	optionalDuration(&p, "cluster.leaderThreadDelay", cj.LeaderThreadDelay, &c.LeaderThreadDelay)
	optionalDuration(&p, "cluster.maxTimeToWaitForEpoch", cj.MaxTimeToWaitForEpoch, &c.MaxTimeToWaitForEpoch)
	if cj.SnapCount != nil {
		c.SnapCount = *cj.SnapCount
	}
	if cj.DatabaseBytes != nil {
		if c.DatabaseBytes = *cj.DatabaseBytes; c.DatabaseBytes < 0 {
			p.add("cluster.databaseBytes", "must not be negative, got %d", c.DatabaseBytes)
		}
	}
	if cj.SnapshotSizeFactor != nil {
		if c.SnapshotSizeFactor = *cj.SnapshotSizeFactor; c.SnapshotSizeFactor > 1000 {
			p.add("cluster.snapshotSizeFactor", "is in thousandths and at most 1000 (ZooKeeper resets a factor above 1), got %d", c.SnapshotSizeFactor)
		}
	}
	optionalDuration(&p, "cluster.syncDelay", cj.SyncDelay, &c.SyncDelay)
	optionalDuration(&p, "cluster.syncJitter", cj.SyncJitter, &c.SyncJitter)
	c.Election.Assigned = fj.Format < 2 // format 1 predates Fast Leader Election
	if e := cj.Election; e != nil {
		if e.Mode != nil {
			switch *e.Mode {
			case "fle":
				c.Election.Assigned = false
			case "assigned":
				c.Election.Assigned = true
			default:
				p.add("cluster.election.mode", "unknown election mode %q (want fle or assigned)", *e.Mode)
			}
		}
		if e.Leader != nil {
			c.Election.Leader = protocol.ServerID(*e.Leader)
		}
		optionalDuration(&p, "cluster.election.delay", e.Delay, &c.Election.Delay)
		optionalDuration(&p, "cluster.election.finalizeWait", e.FinalizeWait, &c.Election.FinalizeWait)
		optionalDuration(&p, "cluster.election.minNotificationInterval", e.MinNotificationInterval, &c.Election.MinNotificationInterval)
		optionalDuration(&p, "cluster.election.maxNotificationInterval", e.MaxNotificationInterval, &c.Election.MaxNotificationInterval)
		for i, cj := range e.Changes {
			path := fmt.Sprintf("cluster.election.changes[%d]", i)
			var ch protocol.LeaderChange
			ch.At = protocol.Time(requiredDuration(&p, path+".at", cj.At))
			if cj.Leader == nil {
				p.add(path+".leader", "missing")
			} else {
				ch.Leader = protocol.ServerID(*cj.Leader)
			}
			c.Election.Changes = append(c.Election.Changes, ch)
		}
	}
	knobSeen := map[string]bool{} // lookups only; never iterated
	for i, name := range fj.Knobs {
		path := fmt.Sprintf("knobs[%d]", i)
		if knobSeen[name] {
			p.add(path, "knob %q is listed twice", name)
			continue
		}
		knobSeen[name] = true
		if err := c.Knobs.Set(name); err != nil {
			p.add(path, "%v", err)
		}
	}
	s.Config = c

	s.Options = sim.DefaultOptions()
	if n := fj.Network; n != nil {
		optionalDuration(&p, "network.oneWayDelayMin", n.OneWayDelayMin, &s.Options.OneWayDelayMin)
		optionalDuration(&p, "network.oneWayDelayJitter", n.OneWayDelayJitter, &s.Options.OneWayDelayJitter)
		if r := n.MessageLoss; r != nil {
			s.Options.MessageLossProbability = sim.Ratio{Num: r.Num, Den: r.Den}
		}
	}
	if pj := fj.Processing; pj != nil {
		span := func(path string, sj *spanJSON, dst *sim.Span) {
			if sj == nil {
				return
			}
			if sj.Min == nil || sj.Max == nil {
				p.add(path, "a span needs min and max")
				return
			}
			optionalDuration(&p, path+".min", sj.Min, &dst.Min)
			optionalDuration(&p, path+".max", sj.Max, &dst.Max)
		}
		span("processing.boot", pj.Boot, &s.Options.Processing.Boot)
		span("processing.step", pj.Step, &s.Options.Processing.Step)
		span("processing.snapshot", pj.Snapshot, &s.Options.Processing.Snapshot)
		span("processing.lead", pj.Lead, &s.Options.Processing.Lead)
		span("processing.sync", pj.Sync, &s.Options.Processing.Sync)
	}

	for i := range fj.Disks {
		dj := &fj.Disks[i]
		path := fmt.Sprintf("disks[%d]", i)
		sd := sim.ServerDisk{}
		if dj.ID == nil {
			p.add(path+".id", "missing")
		} else {
			sd.ID = protocol.ServerID(*dj.ID)
		}
		sd.Disk = diskFromJSON(&p, path, dj)
		s.Disks = append(s.Disks, sd)
	}

	for i, fl := range fj.Faults {
		s.Faults = append(s.Faults, faultFromJSON(&p, fmt.Sprintf("faults[%d]", i), &fl))
	}
	for i, wj := range fj.Writes {
		path := fmt.Sprintf("writes[%d]", i)
		cw := sim.ClientWrite{At: protocol.Time(requiredDuration(&p, path+".at", wj.At))}
		if wj.Server == nil {
			p.add(path+".server", "missing: the server the client asks")
		} else {
			cw.Server = protocol.ServerID(*wj.Server)
		}
		s.Writes = append(s.Writes, cw)
	}

	s.Until = protocol.Time(requiredDuration(&p, "until", fj.Until))
	s.StopWhenStable = fj.StopWhenStable
	s.MaxEvents = fj.MaxEvents
	s.Decisions = decisionsFromJSON(&p, fj.Decisions)

	if ej := fj.Expect; ej != nil {
		f.Expect.Violations = normViolations(&p, "expect.violations", ej.Violations)
		if ej.TraceHash != "" {
			h := strings.ToLower(ej.TraceHash)
			if !isTraceHash(h) {
				p.add("expect.traceHash", "invalid trace hash %q (want 16 hex digits)", ej.TraceHash)
			}
			f.Expect.TraceHash = h
		}
	}
	if err := p.err(); err != nil {
		return File{}, err
	}
	return f, nil
}

func faultFromJSON(p *problems, path string, fj *faultJSON) sim.Fault {
	f := sim.Fault{Kind: sim.FaultKind(fj.Kind)}
	if fj.At == nil {
		p.add(path+".at", "missing")
	} else if d, ok := parseDuration(p, path+".at", *fj.At); ok {
		f.At = protocol.Time(d)
	}
	if fj.Kind == "" {
		p.add(path+".kind", "missing (known: %s)", sim.FaultKindNames())
		return f
	}
	sc, known := sim.SchemaOf(f.Kind)
	if !known {
		p.add(path+".kind", "unknown fault kind %q (known: %s)", fj.Kind, sim.FaultKindNames())
		return f
	}
	present := map[sim.FaultField]bool{ // lookups only; never iterated
		sim.FieldServer: fj.Server != nil, sim.FieldGroups: fj.Groups != nil, sim.FieldOneWay: fj.OneWay != nil,
		sim.FieldHeal: fj.Heal != nil, sim.FieldWrite: fj.Write != nil, sim.FieldOccurrence: fj.Occurrence != nil,
		sim.FieldPoint: fj.Point != nil, sim.FieldPort: fj.Port != nil, sim.FieldDisk: fj.Disk != nil, sim.FieldPeers: fj.Peers != nil,
	}
	for _, x := range sim.FaultFields {
		switch {
		case present[x.Field] && sc.Uses&x.Field == 0:
			p.add(path+"."+x.Name, "not used by a %q fault", f.Kind)
		case !present[x.Field] && sc.Required&x.Field != 0:
			p.add(path+"."+x.Name, "missing (a %q fault needs it)", f.Kind)
		}
	}
	uses := func(field sim.FaultField) bool { return sc.Uses&field != 0 && present[field] }
	if uses(sim.FieldServer) {
		f.Server = protocol.ServerID(*fj.Server)
	}
	if uses(sim.FieldGroups) {
		f.Groups = make([][]protocol.ServerID, 0, len(*fj.Groups))
		for _, g := range *fj.Groups {
			f.Groups = append(f.Groups, idsFromJSON(g))
		}
	}
	if uses(sim.FieldOneWay) {
		f.OneWay = *fj.OneWay
	}
	if uses(sim.FieldHeal) {
		if d, ok := parseDuration(p, path+".heal", *fj.Heal); ok {
			f.Heal = protocol.Time(d)
		}
	}
	if uses(sim.FieldWrite) {
		if w, ok := protocol.ParseWriteKind(*fj.Write); ok {
			f.Write = w
		} else {
			p.add(path+".write", "unknown write kind %q (known: %s)", *fj.Write, knownWriteKinds())
		}
	}
	if uses(sim.FieldOccurrence) {
		f.Occurrence = *fj.Occurrence
		if f.Occurrence < 1 {
			p.add(path+".occurrence", "must be at least 1, got %d", f.Occurrence)
		}
	}
	if uses(sim.FieldPoint) {
		if c, ok := sim.ParseCrashPoint(*fj.Point); ok {
			f.Point = c
		} else {
			p.add(path+".point", "unknown crash point %q (want before, torn or after)", *fj.Point)
		}
	}
	if uses(sim.FieldPort) {
		if port, ok := sim.ParsePort(*fj.Port); ok {
			f.Port = port
		} else {
			p.add(path+".port", "unknown port %q (want %s or %s)", *fj.Port, sim.PortLearner, sim.PortElection)
		}
	}
	if uses(sim.FieldDisk) {
		if fj.Disk.ID != nil {
			p.add(path+".disk.id", "not used: the disk belongs to the fault's server")
		}
		d := diskFromJSON(p, path+".disk", fj.Disk)
		f.Disk = &d
	}
	if uses(sim.FieldPeers) {
		f.Peers = idsFromJSON(*fj.Peers)
	}
	return f
}

func electionMode(assigned bool) string {
	if assigned {
		return "assigned"
	}
	return "fle"
}

func knownWriteKinds() string {
	var names []string
	for k := protocol.WriteKind(1); ; k++ {
		if _, ok := protocol.ParseWriteKind(k.String()); !ok {
			break
		}
		names = append(names, k.String())
	}
	return strings.Join(names, ", ")
}

// ---- scalar formats ----

func fmtTime(t protocol.Time) string { return time.Duration(t).String() }

// fmtZxid prints a zxid in hex as ZooKeeper logs it; negative zxids (which no valid run
// holds) get a sign so that they still round-trip.
func fmtZxid(z protocol.Zxid) string {
	if z < 0 {
		return "-0x" + strconv.FormatUint(-uint64(z), 16)
	}
	return "0x" + strconv.FormatUint(uint64(z), 16)
}

// fmtTxn prints a txn as its zxid, and "=value" for a client write's txn.
func fmtTxn(t protocol.Txn) string {
	if t.Value == 0 {
		return fmtZxid(t.Zxid)
	}
	return fmtZxid(t.Zxid) + "=" + strconv.FormatUint(t.Value, 10)
}

// parseTxn reads fmtTxn's form: "0x100000001" or "0x100000001=7".
func parseTxn(p *problems, path, s string) (protocol.Txn, bool) {
	zs, vs, hasValue := strings.Cut(s, "=")
	z, ok := parseZxid(p, path, zs)
	if !ok {
		return protocol.Txn{}, false
	}
	t := protocol.Txn{Zxid: z}
	if hasValue {
		v, err := strconv.ParseUint(vs, 10, 64)
		if err != nil || v == 0 {
			p.add(path, "invalid txn value %q (want a write number from 1, as in \"0x100000001=7\")", vs)
			return protocol.Txn{}, false
		}
		t.Value = v
	}
	return t, true
}

func parseZxid(p *problems, path, s string) (protocol.Zxid, bool) {
	bad := func() (protocol.Zxid, bool) {
		p.add(path, "invalid zxid %q (want hex such as \"0x100000001\")", s)
		return 0, false
	}
	neg := strings.HasPrefix(s, "-")
	h := strings.TrimPrefix(s, "-")
	if !strings.HasPrefix(h, "0x") && !strings.HasPrefix(h, "0X") {
		return bad()
	}
	u, err := strconv.ParseUint(h[2:], 16, 64)
	if err != nil {
		return bad()
	}
	if neg {
		if u > 1<<63 {
			return bad()
		}
		return protocol.Zxid(-int64(u)), true
	}
	if u > 1<<63-1 {
		return bad()
	}
	return protocol.Zxid(u), true
}

func parseDuration(p *problems, path, s string) (time.Duration, bool) {
	d, err := time.ParseDuration(s)
	if err != nil {
		p.add(path, "invalid duration %q (want a Go duration such as \"2s\", \"200ms\" or \"1.5s\")", s)
		return 0, false
	}
	return d, true
}

func requiredDuration(p *problems, path string, s *string) time.Duration {
	if s == nil {
		p.add(path, "missing (want a Go duration such as \"2s\")")
		return 0
	}
	d, _ := parseDuration(p, path, *s)
	return d
}

func optionalDuration(p *problems, path string, s *string, dst *time.Duration) {
	if s == nil {
		return
	}
	if d, ok := parseDuration(p, path, *s); ok {
		*dst = d
	}
}

func requiredInt(p *problems, path string, n *int) int {
	if n == nil {
		p.add(path, "missing")
		return 0
	}
	return *n
}

func checkEpoch(p *problems, path string, e int64) bool {
	if e < -1 {
		p.add(path, "epoch %d is invalid (want -1 for a missing file, or at least 0)", e)
		return false
	}
	return true
}

func optionalEpoch(p *problems, path string, e *int64, dst *protocol.Epoch) {
	if e != nil && checkEpoch(p, path, *e) {
		*dst = protocol.Epoch(*e)
	}
}

func isTraceHash(s string) bool {
	if len(s) != 16 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// normViolations returns the names sorted and unique (nil for none), reporting empty names.
func normViolations(p *problems, path string, names []string) []string {
	if len(names) == 0 {
		return nil
	}
	for i, n := range names {
		if strings.TrimSpace(n) == "" {
			p.add(fmt.Sprintf("%s[%d]", path, i), "empty invariant name")
		}
	}
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}

func ptr[T any](v T) *T { return &v }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func decisionsToJSON(ds []sim.Decision) []decisionJSON {
	if ds == nil {
		return nil
	}
	out := make([]decisionJSON, 0, len(ds))
	for _, d := range ds {
		dj := decisionJSON{Event: d.Event, Kind: string(d.Kind), A: int64(d.A), B: int64(d.B)}
		switch d.Kind {
		case sim.DecideLoss:
			dj.Lost = ptr(d.Value == 1)
		case sim.DecideOrder:
			dj.B = 0 // the order's length says how many threads
			dj.Order = sim.OrderOf(int(d.B), d.Value)
		default:
			dj.After = ptr(time.Duration(d.Value).String())
		}
		out = append(out, dj)
	}
	return out
}

func decisionsFromJSON(p *problems, djs []decisionJSON) []sim.Decision {
	if djs == nil {
		return nil
	}
	out := make([]sim.Decision, 0, len(djs))
	for i, dj := range djs {
		path := fmt.Sprintf("decisions[%d]", i)
		d := sim.Decision{Event: dj.Event, Kind: sim.DecisionKind(dj.Kind), A: protocol.ServerID(dj.A), B: protocol.ServerID(dj.B)}
		switch d.Kind {
		case sim.DecideDelay, sim.DecideJitter, sim.DecideStepTime, sim.DecideBootTime, sim.DecideLeadTime, sim.DecideSnapshotTime, sim.DecideSyncTime:
			if dj.After == nil {
				p.add(path+".after", "missing (a %s decision needs a duration)", d.Kind)
			} else if v, ok := parseDuration(p, path+".after", *dj.After); ok {
				if v < 0 {
					p.add(path+".after", "negative duration %s", *dj.After)
				}
				d.Value = int64(v)
			}
		case sim.DecideLoss:
			if dj.Lost == nil {
				p.add(path+".lost", "missing (a loss decision needs true or false)")
			} else if *dj.Lost {
				d.Value = 1
			}
		case sim.DecideOrder:
			rank, err := sim.RankOf(dj.Order)
			if err != nil {
				p.add(path+".order", "%v", err)
			}
			d.B, d.Value = protocol.ServerID(len(dj.Order)), rank
		default:
			p.add(path+".kind", "unknown decision kind %q (want delay, jitter, loss, order, boot-time, step-time, lead-time, snapshot-time or sync-time)", dj.Kind)
		}
		out = append(out, d)
	}
	return out
}
