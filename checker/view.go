package checker

import (
	"slices"

	"zabsim/protocol"
	"zabsim/sim"
)

// view is what the checker sees of the world: values read through sim.World's accessors, built
// at the door of each sim.Observer call (OnTrace, AfterStep, Finish). Judges never hold a
// *sim.World or a peer; view hands out copies, and is itself a value, so building it costs
// nothing.
type view struct{ w *sim.World }

// Now is the virtual time.
func (v view) Now() protocol.Time { return v.w.Now() }

// ServerCount is the number of servers; they are indexed 0..ServerCount()-1.
func (v view) ServerCount() int { return v.w.ServerCount() }

// ServerAt is the id of the i-th server.
func (v view) ServerAt(i int) protocol.ServerID { return v.w.ServerAt(i) }

// Index is the index of server id, or -1.
func (v view) Index(id protocol.ServerID) int { return v.w.Index(id) }

// Up: server i's process runs.
func (v view) Up(i int) bool { return v.w.Up(i) }

// View is server i's peer view; ok is false while it is down.
func (v view) View(i int) (protocol.View, bool) { return v.w.View(i) }

// Role is the small part of View; ok is false while it is down.
func (v view) Role(i int) (protocol.Role, bool) { return v.w.Role(i) }

// Disk is a copy of server i's durable disk; its Txns share the world's array and are read
// only.
func (v view) Disk(i int) protocol.Disk { return *v.w.Disk(i) }

// Blocked: a learner-port message from a to b would be held by a partition now.
func (v view) Blocked(a, b protocol.ServerID) bool { return v.w.Blocked(a, b) }

// Refused is why server i refused to start, or "".
func (v view) Refused(i int) string { return v.w.Refused(i) }

// env is what a judge judges with: the view of the world, the run, the ghosts the tracker keeps
// (read only: only the tracker writes them) and where violations go.
type env struct {
	view
	// srv is the index of the server of the trace event being judged (e.Server; -1 for an
	// event of no server).
	srv  int
	cfg  *protocol.Config
	spec *sim.RunSpec
	t    *tracker
	rec  *record
}

func (x *env) fail(inv string, at protocol.Time, detail string, servers ...protocol.ServerID) {
	x.rec.fail(inv, at, detail, servers...)
}

// voterQuorum: a majority of the voters, each counted once, observers never.
func (x *env) voterQuorum(set []protocol.ServerID) bool { return voterQuorum(x.cfg, set) }

func voterQuorum(cfg *protocol.Config, set []protocol.ServerID) bool {
	n := 0
	for i, id := range set {
		if cfg.IsParticipant(id) && !slices.Contains(set[:i], id) {
			n++
		}
	}
	return 2*n > cfg.Voters()
}

func voters(cfg *protocol.Config, set []protocol.ServerID) []protocol.ServerID {
	var out []protocol.ServerID
	for _, id := range set {
		if cfg.IsParticipant(id) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// replacedDisk: the event is a restart from a disk the run put in place (sim.Fault.Disk).
func replacedDisk(spec *sim.RunSpec, e *sim.TraceEvent) bool {
	return e.Fault > 0 && spec.Faults[e.Fault-1].Disk != nil
}

// record is the violations found so far.
type record struct {
	violations []Violation
	counts     []int // by table index
	// traced counts the trace events seen, to place each violation in the trace.
	traced int
}

func (r *record) fail(inv string, at protocol.Time, detail string, servers ...protocol.ServerID) {
	i := slices.Index(Invariants, inv)
	r.counts[i]++
	if r.counts[i] > 1 {
		return
	}
	ids := slices.Clone(servers)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	r.violations = append(r.violations, Violation{Invariant: inv, At: at, Servers: ids, Detail: detail, TraceIndex: r.traced - 1})
}

// Database is server i's applied history (nil while it is down); read only.
func (v view) Database(i int) []protocol.Txn {
	if !v.w.Up(i) {
		return nil
	}
	return v.w.Peer(i).Database()
}

// LeaderTxn finds zxid z in leader i's history: applied or outstanding (ok false when i is
// down, does not lead, or has no such txn).
func (v view) LeaderTxn(i int, z protocol.Zxid) (protocol.Txn, bool) {
	if !v.w.Up(i) {
		return protocol.Txn{}, false
	}
	return v.w.Peer(i).LeaderTxn(z)
}

// Outstanding is leader i's k-th outstanding proposal.
func (v view) Outstanding(i, k int) (protocol.Txn, bool) {
	if !v.w.Up(i) {
		return protocol.Txn{}, false
	}
	return v.w.Peer(i).Outstanding(k)
}

// NextToCommit is the zxid learner i's next COMMIT should name (see protocol).
func (v view) NextToCommit(i int) (protocol.Zxid, bool) {
	if !v.w.Up(i) {
		return 0, false
	}
	return v.w.Peer(i).NextToCommit()
}
