package sim

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"zabsim/protocol"
)

// Faults are data: each is a Fault value whose Kind says which fields it uses. Every kind is
// declared once, in FaultSchemas below: its fields, which of them a run file must give, and its
// validation. The run file, the scenario builder and the run generator read that table, so a new
// kind costs the world's handling plus one row here.

// FaultKind names a scheduled fault.
type FaultKind string

// Fault kinds.
const (
	// FaultStart starts Server at At instead of at 0 (a delayed start).
	FaultStart FaultKind = "start"
	// FaultCrash kills Server's process at At (SIGKILL): memory is lost, the disk survives.
	FaultCrash FaultKind = "crash"
	// FaultRestart starts a crashed Server again at At, from its disk alone; with Disk, from
	// that disk instead (an operator restored a backup, edited acceptedEpoch or swapped the
	// disk).
	FaultRestart FaultKind = "restart"
	// FaultPartition cuts every link between Groups from At until Heal (0 = never); with
	// OneWay, only messages from Groups[0] to Groups[1] are cut; Port limits it to one port.
	FaultPartition FaultKind = "partition"
	// FaultCrashPoint crashes Server at its Occurrence-th write of kind Write at or after At,
	// at Point: before the write, inside it (torn) or after it.
	FaultCrashPoint FaultKind = "crash-point"
	// FaultDiskWrite makes Server's Occurrence-th write of kind Write at or after At fail
	// with an IOException.
	FaultDiskWrite FaultKind = "disk-write-fails"
	// FaultPause stops Server's process from At until Heal (SIGSTOP, a GC pause, a VM stall):
	// it takes no step and reads nothing, its timers fire late, and what others send piles up
	// in its sockets and arrives in a burst when it resumes.
	FaultPause FaultKind = "pause"
	// FaultRefuseConnect makes connects to Server's learner port fail at once with a reset
	// (nobody listens there: the connecting learner's configuration names another port) from
	// At until Heal (0 = never), for connects from Peers only (empty: from every learner).
	FaultRefuseConnect FaultKind = "refuse-connect"
)

// CrashPoint is where a crash point falls relative to its write.
type CrashPoint uint8

// Crash points.
const (
	// CrashBefore: the process dies before the write; nothing of it reaches the disk.
	CrashBefore CrashPoint = iota + 1
	// CrashTorn: the process dies inside the write; what survives is what the write's
	// kind leaves behind (protocol.Disk.ApplyTorn).
	CrashTorn
	// CrashAfter: the write completes, and nothing after it in the same step happens.
	CrashAfter
)

var crashPointNames = [...]string{CrashBefore: "before", CrashTorn: "torn", CrashAfter: "after"}

func (c CrashPoint) String() string {
	if int(c) < len(crashPointNames) && crashPointNames[c] != "" {
		return crashPointNames[c]
	}
	return fmt.Sprintf("CrashPoint(%d)", uint8(c))
}

// ParseCrashPoint is the inverse of CrashPoint.String.
func ParseCrashPoint(s string) (CrashPoint, bool) {
	for c := CrashBefore; c <= CrashAfter; c++ {
		if c.String() == s {
			return c, true
		}
	}
	return 0, false
}

// Port is the kind of traffic a partition cuts.
type Port uint8

// Ports. The zero value cuts both.
const (
	PortBoth     Port = iota // learner connections and election notifications
	PortLearner              // learner connections to the leader's learner port
	PortElection             // election notifications (QuorumCnxManager)
)

var portNames = [...]string{PortBoth: "", PortLearner: "learner", PortElection: "election"}

func (p Port) String() string {
	if int(p) < len(portNames) {
		return portNames[p]
	}
	return fmt.Sprintf("Port(%d)", uint8(p))
}

// ParsePort is the inverse of Port.String for the two named ports.
func ParsePort(s string) (Port, bool) {
	switch s {
	case "learner":
		return PortLearner, true
	case "election":
		return PortElection, true
	}
	return 0, false
}

// Fault is one scheduled fault. Fields its kind does not use stay zero.
type Fault struct {
	Kind   FaultKind
	At     protocol.Time
	Server protocol.ServerID
	Groups [][]protocol.ServerID
	OneWay bool
	// Heal ends a partition, a pause or a refusal (0: a partition or refusal never ends).
	Heal       protocol.Time
	Write      protocol.WriteKind
	Occurrence int
	Point      CrashPoint
	Port       Port
	// Disk replaces the server's disk at a restart; nil keeps the surviving one.
	Disk *protocol.Disk
	// Peers limits a refusal to connects from these learners (empty: every learner).
	Peers []protocol.ServerID
}

// FaultField names one field of Fault, for the schema.
type FaultField uint16

// Fault fields (At and Kind are always present).
const (
	FieldServer FaultField = 1 << iota
	FieldHeal
	FieldGroups
	FieldOneWay
	FieldWrite
	FieldOccurrence
	FieldPoint
	FieldPort
	FieldDisk
	FieldPeers
)

// FaultFields lists the fields with their run-file names, in the order run files write them.
var FaultFields = []struct {
	Field FaultField
	Name  string
}{
	{FieldHeal, "heal"}, {FieldServer, "server"}, {FieldGroups, "groups"}, {FieldOneWay, "oneWay"},
	{FieldWrite, "write"}, {FieldOccurrence, "occurrence"}, {FieldPoint, "point"}, {FieldPort, "port"},
	{FieldDisk, "disk"}, {FieldPeers, "peers"},
}

// FaultSchema declares one fault kind: the fields it uses, those a run file must give, and
// what it checks beyond that.
type FaultSchema struct {
	Kind     FaultKind
	Uses     FaultField
	Required FaultField
	// Ends: the fault lasts from At until Heal, which then counts as a heal for liveness.
	Ends     bool
	validate func(s *RunSpec, f *Fault) []error
}

// FaultSchemas is every fault kind, in the order the run file documents them.
var FaultSchemas = []FaultSchema{
	{Kind: FaultStart, Uses: FieldServer, Required: FieldServer},
	{Kind: FaultCrash, Uses: FieldServer, Required: FieldServer},
	{Kind: FaultRestart, Uses: FieldServer | FieldDisk, Required: FieldServer, validate: validateRestart},
	{Kind: FaultPartition, Uses: FieldGroups | FieldOneWay | FieldHeal | FieldPort, Required: FieldGroups, Ends: true, validate: validatePartition},
	{Kind: FaultCrashPoint, Uses: FieldServer | FieldWrite | FieldOccurrence | FieldPoint,
		Required: FieldServer | FieldWrite | FieldOccurrence | FieldPoint, validate: validateWriteFault},
	{Kind: FaultDiskWrite, Uses: FieldServer | FieldWrite | FieldOccurrence,
		Required: FieldServer | FieldWrite | FieldOccurrence, validate: validateWriteFault},
	{Kind: FaultPause, Uses: FieldServer | FieldHeal, Required: FieldServer | FieldHeal, Ends: true, validate: validatePause},
	{Kind: FaultRefuseConnect, Uses: FieldServer | FieldHeal | FieldPeers, Required: FieldServer, Ends: true, validate: validateRefuse},
}

// SchemaOf returns the schema of kind k.
func SchemaOf(k FaultKind) (FaultSchema, bool) {
	for _, s := range FaultSchemas {
		if s.Kind == k {
			return s, true
		}
	}
	return FaultSchema{}, false
}

// FaultKindNames lists the kinds, comma-separated, for error messages.
func FaultKindNames() string {
	names := make([]string, len(FaultSchemas))
	for i, s := range FaultSchemas {
		names[i] = string(s.Kind)
	}
	return strings.Join(names, ", ")
}

// FieldName is the run-file name of field f.
func FieldName(f FaultField) string {
	for _, x := range FaultFields {
		if x.Field == f {
			return x.Name
		}
	}
	return fmt.Sprintf("FaultField(%d)", uint16(f))
}

// Set returns the fields of f that hold a value.
func (f *Fault) Set() FaultField {
	var set FaultField
	add := func(field FaultField, ok bool) {
		if ok {
			set |= field
		}
	}
	add(FieldServer, f.Server != 0)
	add(FieldHeal, f.Heal != 0)
	add(FieldGroups, f.Groups != nil)
	add(FieldOneWay, f.OneWay)
	add(FieldWrite, f.Write != 0)
	add(FieldOccurrence, f.Occurrence != 0)
	add(FieldPoint, f.Point != 0)
	add(FieldPort, f.Port != 0)
	add(FieldDisk, f.Disk != nil)
	add(FieldPeers, f.Peers != nil)
	return set
}

// validateFault checks one fault against its schema and the cluster.
func (s *RunSpec) validateFault(f *Fault) []error {
	sc, ok := SchemaOf(f.Kind)
	if !ok {
		return []error{fmt.Errorf("unknown fault kind %q (known: %s)", f.Kind, FaultKindNames())}
	}
	var errs []error
	if f.At < 0 || f.At > MaxTime {
		errs = append(errs, fmt.Errorf("time %v is outside [0, %v]", f.At, MaxTime))
	}
	set := f.Set()
	for _, x := range FaultFields {
		switch {
		case set&x.Field != 0 && sc.Uses&x.Field == 0:
			errs = append(errs, fmt.Errorf("%s is set, but a %s fault does not use it", x.Name, f.Kind))
		case set&x.Field == 0 && sc.Required&x.Field != 0:
			errs = append(errs, fmt.Errorf("%s is missing (a %s fault needs it)", x.Name, f.Kind))
		}
	}
	if sc.Uses&FieldServer != 0 && set&FieldServer != 0 && !s.Config.IsMember(f.Server) {
		errs = append(errs, fmt.Errorf("server %d is not in the cluster", f.Server))
	}
	if f.Heal < 0 || f.Heal > MaxTime {
		errs = append(errs, fmt.Errorf("heal time %v is outside [0, %v]", f.Heal, MaxTime))
	}
	if sc.validate != nil {
		errs = append(errs, sc.validate(s, f)...)
	}
	return errs
}

func validatePartition(s *RunSpec, f *Fault) []error {
	var errs []error
	if len(f.Groups) < 2 {
		errs = append(errs, errors.New("a partition needs at least two groups"))
	}
	var seen []protocol.ServerID
	for _, g := range f.Groups {
		if len(g) == 0 {
			errs = append(errs, errors.New("a partition group is empty"))
		}
		for _, id := range g {
			if !s.Config.IsMember(id) {
				errs = append(errs, fmt.Errorf("server %d is not in the cluster", id))
			}
			if slices.Contains(seen, id) {
				errs = append(errs, fmt.Errorf("server %d is in two groups (groups must not overlap)", id))
			}
			seen = append(seen, id)
		}
	}
	if f.OneWay && len(f.Groups) != 2 {
		errs = append(errs, fmt.Errorf("a one-way partition needs exactly two groups, got %d", len(f.Groups)))
	}
	if f.Heal != 0 && f.Heal < f.At {
		errs = append(errs, fmt.Errorf("heals at %v, before it starts at %v", f.Heal, f.At))
	}
	if f.Port > PortElection {
		errs = append(errs, fmt.Errorf("unknown port %d", f.Port))
	}
	return errs
}

func validateWriteFault(_ *RunSpec, f *Fault) []error {
	var errs []error
	if f.Write != 0 {
		if _, ok := protocol.ParseWriteKind(f.Write.String()); !ok {
			errs = append(errs, fmt.Errorf("unknown write kind %d", f.Write))
		}
	}
	if f.Occurrence < 0 {
		errs = append(errs, fmt.Errorf("occurrence must be at least 1, got %d", f.Occurrence))
	}
	if f.Point > CrashAfter {
		errs = append(errs, fmt.Errorf("unknown crash point %d", f.Point))
	}
	return errs
}

func validatePause(_ *RunSpec, f *Fault) []error {
	if f.Heal != 0 && f.Heal <= f.At {
		return []error{fmt.Errorf("the pause ends at %v, not after it starts at %v", f.Heal, f.At)}
	}
	return nil
}

func validateRefuse(s *RunSpec, f *Fault) []error {
	var errs []error
	if f.Heal != 0 && f.Heal <= f.At {
		errs = append(errs, fmt.Errorf("the refusal ends at %v, not after it starts at %v", f.Heal, f.At))
	}
	for _, id := range f.Peers {
		if !s.Config.IsMember(id) {
			errs = append(errs, fmt.Errorf("peer %d is not in the cluster", id))
		}
		if id == f.Server {
			errs = append(errs, fmt.Errorf("peer %d is the refusing server itself", id))
		}
	}
	return errs
}

func validateRestart(_ *RunSpec, f *Fault) []error {
	if f.Disk == nil {
		return nil
	}
	return validateDisk(*f.Disk)
}

// validateDisk checks that a disk is well formed: the data could exist in a data directory.
// Whether ZooKeeper agrees to load it is the world's business (protocol.LoadDataBase): a well
// formed disk it refuses is a refusal in the run, not bad input.
func validateDisk(d protocol.Disk) []error {
	var errs []error
	for i := 1; i < len(d.Txns); i++ {
		if d.Txns[i].Zxid <= d.Txns[i-1].Zxid {
			errs = append(errs, fmt.Errorf("txn log must be strictly increasing zxids, but %s follows %s", d.Txns[i].Zxid, d.Txns[i-1].Zxid))
			break
		}
	}
	for _, t := range d.Txns {
		if z := t.Zxid; z <= 0 || z.Counter() == 0 {
			errs = append(errs, fmt.Errorf("txn %s is not a transaction zxid (epoch<<32 | counter, counter >= 1)", z))
			break
		}
	}
	for _, e := range [...]struct {
		name string
		v    protocol.Epoch
	}{{"acceptedEpoch", d.AcceptedEpoch}, {"currentEpoch", d.CurrentEpoch}, {"currentEpochTmp", d.CurrentEpochTmp}} {
		if e.v < -1 || e.v > MaxEpoch {
			errs = append(errs, fmt.Errorf("%s %d is outside [-1, %d] (-1: the file is missing)", e.name, e.v, MaxEpoch))
		}
	}
	return errs
}

// Limits on what a run may ask for, so that a typo becomes a clear error instead of an
// overflow or a run that exhausts memory.
const (
	// MaxTime bounds every time in a run (its length, fault times): ten days.
	MaxTime = protocol.Time(240 * 3600 * 1e9)
	// MaxEpoch: ACKEPOCH carries an epoch as a 32-bit int (spec §3).
	MaxEpoch = protocol.Epoch(1<<31 - 1)
)
