package checker

import (
	"encoding/json"
	"slices"
	"strconv"

	"zabsim/protocol"
	"zabsim/sim"
)

// Report is the outcome of one run. Its JSON keys are a contract (shared/design.md): more may
// be added, none renamed.
type Report struct {
	Scenario      string          `json:"scenario"`
	Seed          uint64          `json:"seed"`
	SimulatedTime string          `json:"simulatedTime"`
	Events        uint64          `json:"events"`
	TraceHash     string          `json:"traceHash"`
	Violations    []ViolationJSON `json:"violations"`
	Established   []Establishment `json:"established"`
	Servers       []ServerReport  `json:"servers"`
	Knobs         []string        `json:"knobs"`
	Syncs         []SyncRecord    `json:"syncs"`
	RoleEnds      []RoleEnd       `json:"roleEnds"`
	Refusals      []Refusal       `json:"refusals"`
	Elections     []Election      `json:"elections"`
	Outsiders     []Outsider      `json:"outsiders"`
	// Writes is every client write of the run, by value (1, 2, ...).
	Writes   []WriteRecord `json:"writes"`
	Liveness Liveness      `json:"liveness"`
	// Stop says why the run ended (sim.Result.Stop): stable, until, quiet, events, ...
	Stop string `json:"stop"`
	// Faults says, for each scheduled fault in order, whether it happened and what it did,
	// or why it could not happen.
	Faults []FaultRecord `json:"faults"`
	// Divergence: the run followed recorded decisions and the code asked a different question.
	Divergence string `json:"divergence,omitempty"`
	// Decisions are the run's random choices, when recorded.
	Decisions []sim.Decision `json:"-"`
	// Truncated: the run hit its event budget before its end time.
	Truncated     bool             `json:"truncated,omitempty"`
	Probes        ProbeCounts      `json:"probes"`
	Trace         []sim.TraceEvent `json:"-"`
	ViolationsRaw []Violation      `json:"-"`
	End           protocol.Time    `json:"-"`
	Hash          uint64           `json:"-"`
}

// ViolationJSON is a Violation as the report prints it.
type ViolationJSON struct {
	Invariant string              `json:"invariant"`
	At        protocol.Time       `json:"at"`
	Servers   []protocol.ServerID `json:"servers"`
	Detail    string              `json:"detail"`
	Count     int                 `json:"count"`
}

// Establishment is a leader whose NEWLEADER was acknowledged by a voter quorum.
type Establishment struct {
	Leader protocol.ServerID   `json:"leader"`
	Epoch  protocol.Epoch      `json:"epoch"`
	Quorum []protocol.ServerID `json:"quorum"`
	At     protocol.Time       `json:"at"`
}

// ServerReport is one server at the end of the run. Epochs are the durable ones.
type ServerReport struct {
	ID            protocol.ServerID  `json:"id"`
	Role          string             `json:"role"`
	Leader        *protocol.ServerID `json:"leader,omitempty"`
	AcceptedEpoch protocol.Epoch     `json:"acceptedEpoch"`
	CurrentEpoch  protocol.Epoch     `json:"currentEpoch"`
	LastZxid      protocol.Zxid      `json:"lastZxid"`
	// History is the server's durable txns at the end (snapshot and log), in zxid order.
	History []protocol.Txn `json:"history"`
}

// SyncRecord is one DIFF/TRUNC/SNAP choice a leader made.
type SyncRecord struct {
	Leader  protocol.ServerID `json:"leader"`
	Learner protocol.ServerID `json:"learner"`
	Epoch   protocol.Epoch    `json:"epoch"`
	Mode    string            `json:"mode"`
	Zxid    protocol.Zxid     `json:"zxid"`
	At      protocol.Time     `json:"at"`
}

// RoleEnd is a leader shutdown or a learner leaving its leader, with ZooKeeper's reason.
type RoleEnd struct {
	Server protocol.ServerID `json:"server"`
	Role   string            `json:"role"`
	// Peer is the learner whose LearnerHandler ended (Role "LearnerHandler").
	Peer   protocol.ServerID `json:"peer,omitempty"`
	Reason string            `json:"reason"`
	At     protocol.Time     `json:"at"`
}

// Election is one decision of Fast Leader Election.
type Election struct {
	Server protocol.ServerID   `json:"server"`
	Leader protocol.ServerID   `json:"leader"`
	As     string              `json:"as"`
	Round  int64               `json:"round"`
	Votes  []protocol.ServerID `json:"votes"`
	How    string              `json:"how"`
	At     protocol.Time       `json:"at"`
}

// FaultRecord is one scheduled fault and what became of it.
type FaultRecord struct {
	Kind     string            `json:"kind"`
	Server   protocol.ServerID `json:"server,omitempty"`
	At       protocol.Time     `json:"at"`
	Happened bool              `json:"happened"`
	// HappenedAt is when it took effect (a crash point fires at its write, not at At).
	HappenedAt protocol.Time `json:"happenedAt"`
	Note       string        `json:"note"`
}

// Refusal is a server that refused to start (spec §2.3).
type Refusal struct {
	Server protocol.ServerID `json:"server"`
	Reason string            `json:"reason"`
	At     protocol.Time     `json:"at"`
}

type reportBuilder struct {
	established []Establishment
	syncs       []SyncRecord
	roleEnds    []RoleEnd
	refusals    []Refusal
	elections   []Election
	trace       []sim.TraceEvent
	keepTrace   bool
	writes      writeLog
}

// reset empties the builder for a new run and keeps its lists' storage: build copies each
// list out at its final length, so a long run's report does not leave behind the garbage of
// every doubling (the lists were the largest allocation of a generated-run sweep).
func (r *reportBuilder) reset() {
	w := &r.writes
	*r = reportBuilder{established: r.established[:0], syncs: r.syncs[:0], roleEnds: r.roleEnds[:0],
		refusals: r.refusals[:0], elections: r.elections[:0],
		writes: writeLog{writes: w.writes[:0], proposed: w.proposed[:0], logged: w.logged[:0], commits: w.commits[:0], applies: w.applies[:0],
			loggedSet: w.loggedSet, proposedSet: w.proposedSet}}
	if r.writes.loggedSet == nil {
		r.writes.loggedSet, r.writes.proposedSet = map[protocol.Txn]struct{}{}, map[protocol.Txn]struct{}{}
	}
	clear(r.writes.loggedSet)
	clear(r.writes.proposedSet)
}

// exact copies a list out of the builder: nil when empty, as the lists were before they were
// reused (JSON shows null for them).
func exact[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

func (r *reportBuilder) onTrace(e *sim.TraceEvent) {
	if r.keepTrace {
		r.trace = append(r.trace, *e)
	}
	if e.Kind == sim.TrClient || e.Kind == sim.TrReply || len(r.writes.writes) > 0 {
		r.writes.onTrace(e)
	}
	switch e.Kind {
	case sim.TrNote:
		n := &e.Note
		switch n.Kind {
		case protocol.NoteNewLeaderQuorum:
			r.established = append(r.established, Establishment{Leader: e.Server, Epoch: n.Epoch, Quorum: sortedIDs(n.Sids), At: e.At})
		case protocol.NoteSyncChosen:
			r.syncs = append(r.syncs, SyncRecord{Leader: e.Server, Learner: n.Peer, Epoch: n.Epoch, Mode: n.Mode.String(), Zxid: n.Zxid, At: e.At})
		case protocol.NoteLeaderShutdown:
			r.roleEnds = append(r.roleEnds, RoleEnd{Server: e.Server, Role: "LEADING", Reason: n.Reason, At: e.At})
		case protocol.NoteElected:
			r.elections = append(r.elections, Election{Server: e.Server, Leader: n.Peer, As: n.State.String(), Round: n.Round,
				Votes: sortedIDs(n.Sids), How: n.Reason, At: e.At})
		case protocol.NoteHandlerEnded:
			r.roleEnds = append(r.roleEnds, RoleEnd{Server: e.Server, Role: "LearnerHandler", Peer: n.Peer, Reason: n.Reason, At: e.At})
		case protocol.NoteLearnerLeft:
			r.roleEnds = append(r.roleEnds, RoleEnd{Server: e.Server, Role: n.State.String(), Reason: n.Reason, At: e.At})
		}
	case sim.TrRefused:
		r.refusals = append(r.refusals, Refusal{Server: e.Server, Reason: e.Detail, At: e.At})
	}
}

func sortedIDs(ids []protocol.ServerID) []protocol.ServerID {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// build assembles the report at the end of the run.
func (c *Checker) build(w *sim.World, res sim.Result, liveness Liveness) *Report {
	r := &c.report
	x := view{w}
	rep := &Report{
		Scenario: c.spec.Scenario, Seed: c.spec.Seed, SimulatedTime: res.End.String(), Events: res.Events,
		TraceHash: hashString(res.TraceHash), Established: exact(r.established), Syncs: append([]SyncRecord{}, r.syncs...), RoleEnds: exact(r.roleEnds),
		Truncated: res.Truncated, Divergence: res.Divergence, Refusals: exact(r.refusals), Liveness: liveness, Elections: exact(r.elections), Outsiders: c.outsiders, Knobs: c.cfg.Knobs.Enabled(), Trace: r.trace,
		ViolationsRaw: c.violations, End: res.End, Hash: res.TraceHash, Probes: res.Probes,
		Violations: []ViolationJSON{}, Stop: res.Stop, Faults: make([]FaultRecord, 0, len(res.Faults)),
	}
	ids := make([]protocol.ServerID, x.ServerCount())
	disks := make([]protocol.Disk, x.ServerCount())
	for i := range ids {
		v, _ := x.View(i)
		ids[i], disks[i] = v.ID, x.Disk(i)
	}
	rep.Writes = r.writes.records(ids, disks)
	for i, o := range res.Faults {
		f := &c.spec.Faults[i]
		rep.Faults = append(rep.Faults, FaultRecord{Kind: string(f.Kind), Server: f.Server, At: f.At, Happened: o.Happened, HappenedAt: o.At, Note: o.Note})
	}
	if rep.Established == nil {
		rep.Established = []Establishment{}
	}
	if rep.Knobs == nil {
		rep.Knobs = []string{}
	}
	for _, v := range c.violations {
		rep.Violations = append(rep.Violations, ViolationJSON{Invariant: v.Invariant, At: v.At,
			Servers: v.Servers, Detail: v.Detail, Count: c.Count(v.Invariant)})
	}
	rep.Servers = make([]ServerReport, 0, x.ServerCount())
	leaders := make([]protocol.ServerID, x.ServerCount())
	for i := 0; i < x.ServerCount(); i++ {
		v, up := x.View(i)
		d := x.Disk(i)
		s := ServerReport{ID: v.ID, Role: v.State.String(), AcceptedEpoch: d.AcceptedEpoch,
			CurrentEpoch: d.CurrentEpoch, LastZxid: d.LastZxid(), History: nonNil(slices.Clone(d.Txns))}
		if !up {
			s.Role = "DOWN"
			if x.Refused(i) != "" {
				s.Role = "REFUSED"
			}
		} else if v.Leader >= 0 {
			leaders[i] = v.Leader
			s.Leader = &leaders[i]
		}
		rep.Servers = append(rep.Servers, s)
	}
	return rep
}

// ProbeCounts counts how often each probe was reached; JSON prints the reached ones by name.
type ProbeCounts [protocol.ProbeCount]int

// MarshalJSON writes {"name": count} for every probe reached, in probe order.
func (p ProbeCounts) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i := protocol.Probe(1); i < protocol.ProbeCount; i++ {
		if p[i] == 0 {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, i.String())
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(p[i]), 10)
	}
	return append(b, '}'), nil
}

func hashString(h uint64) string {
	const hex = "0123456789abcdef"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = hex[h&15]
		h >>= 4
	}
	return string(b[:])
}

// HasViolation reports whether the run broke the named invariant.
func (r *Report) HasViolation(inv string) bool {
	for _, v := range r.ViolationsRaw {
		if v.Invariant == inv {
			return true
		}
	}
	return false
}

// ViolationNames returns the names of the broken invariants, sorted.
func (r *Report) ViolationNames() []string {
	var out []string
	for _, v := range r.ViolationsRaw {
		out = append(out, v.Invariant)
	}
	slices.Sort(out)
	return out
}

// Server returns the end-of-run record of server id.
func (r *Report) Server(id protocol.ServerID) (ServerReport, bool) {
	for _, s := range r.Servers {
		if s.ID == id {
			return s, true
		}
	}
	return ServerReport{}, false
}

// MarshalJSON prints the report with its seed as a JSON string (seeds above 2^53 would be
// rounded by jq and JavaScript, so a piped replay would run another seed) and every empty
// list as [] rather than null, so consumers need no null checks.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	p := plain(r)
	p.Violations = nonNil(p.Violations)
	p.Established = nonNil(p.Established)
	p.Servers = nonNil(p.Servers)
	p.Knobs = nonNil(p.Knobs)
	p.Syncs = nonNil(p.Syncs)
	p.Writes = nonNil(p.Writes)
	p.RoleEnds = nonNil(p.RoleEnds)
	p.Refusals = nonNil(p.Refusals)
	p.Elections = nonNil(p.Elections)
	p.Outsiders = nonNil(p.Outsiders)
	p.Faults = nonNil(p.Faults)
	for i := range p.Violations {
		p.Violations[i].Servers = nonNil(p.Violations[i].Servers)
	}
	for i := range p.Established {
		p.Established[i].Quorum = nonNil(p.Established[i].Quorum)
	}
	return json.Marshal(struct {
		plain
		Seed string `json:"seed"`
	}{p, strconv.FormatUint(r.Seed, 10)})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
