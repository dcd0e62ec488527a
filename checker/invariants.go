package checker

import (
	"fmt"
	"slices"

	"zabsim/protocol"
	"zabsim/sim"
)

// How the invariants are organised. Each invariant lives in its own file, inv_<name>.go: its
// name, its number in docs/invariants.md, what it checks and why, and a judge. The table below
// lists them in that numbering; the dispatcher (OnTrace, AfterStep in checker.go) calls a judge
// only for the trace kinds its entry asks for. Judges read the world through env (a value view)
// and the ghosts the tracker keeps (tracker.go), and change neither; a judge may keep state of
// its own in its own struct. Adding an invariant costs its file, one line here and one test that
// makes it fire (mutation_test.go or a knob scenario).

// invariant is one entry of the table.
type invariant struct {
	name string
	num  int   // its number in docs/invariants.md
	on   kinds // the trace kinds its judge wants (0: none)
	// notes and msgs narrow TrNote and TrSend/TrRecv to the note kinds and packet types the
	// judge looks at (nil: every one), so that the others are not dispatched to it at all.
	notes []protocol.NoteKind
	msgs  []protocol.PacketType
	// after: its judge also runs after every step (it implements afterStepper).
	after bool
	// first: on an event it is judged before the others, whatever its number. The checker
	// judged these two first before the table existed, and the order of first violations on
	// one event is part of recorded reports.
	first bool
	// judge makes its judge, once per Checker (nil: judged only at the end of the run, in
	// Finish).
	judge func() judge
}

// judge is an invariant's check of the trace events its table entry asks for. It runs before
// the tracker applies the event: it sees the world as the event left it and the ghosts as they
// were before it.
type judge interface {
	event(x *env, e *sim.TraceEvent)
}

// afterStepper is a judge that also checks after every step, once the tracker has brought its
// time-dependent ghosts up to date.
type afterStepper interface {
	afterStep(x *env)
}

// resetter is a judge with private state to clear for a new run.
type resetter interface {
	reset(servers int)
}

// stateless is embedded by judges without private state.
type stateless struct{}

// table lists every invariant in the numbering of docs/invariants.md; 10-20 are about client
// transactions.
var table = [...]invariant{
	{name: EpochFileOrder, num: 1, on: on(sim.TrPersist), judge: func() judge { return epochFileOrder{} }},
	{name: EpochMonotone, num: 2, on: on(sim.TrPersist), judge: func() judge { return epochMonotone{} }},
	{name: FreshEpoch, num: 3, on: on(sim.TrNote), notes: []protocol.NoteKind{protocol.NoteEpochDecided}, judge: func() judge { return freshEpoch{} }},
	{name: AcceptedBeforeAnnounced, num: 4, on: on(sim.TrSend), msgs: []protocol.PacketType{protocol.LEADERINFO}, judge: func() judge { return acceptedBeforeAnnounced{} }},
	{name: OneLeaderPerEpoch, num: 5, on: on(sim.TrState), judge: func() judge { return oneLeaderPerEpoch{} }},
	{name: ActivationNeedsVoterQuorum, num: 6, on: on(sim.TrPersist, sim.TrSend), msgs: []protocol.PacketType{protocol.UPTODATE}, judge: func() judge { return new(activationNeedsVoterQuorum) }},
	{name: LeaderNotBehind, num: 7, on: on(sim.TrNote), notes: []protocol.NoteKind{protocol.NoteEpochAcked}, judge: func() judge { return leaderNotBehind{} }},
	{name: FollowerEpochGate, num: 8, on: on(sim.TrNote, sim.TrSend), notes: []protocol.NoteKind{protocol.NoteSynced}, msgs: []protocol.PacketType{protocol.ACKEPOCH}, judge: func() judge { return followerEpochGate{} }},
	{name: AckImpliesDurable, num: 9, on: on(sim.TrSend), msgs: []protocol.PacketType{protocol.ACK}, judge: func() judge { return ackImpliesDurable{} }},
	{name: FirstAckIsNewLeaderAck, num: 10, on: on(sim.TrSend), msgs: []protocol.PacketType{protocol.ACK}, judge: func() judge { return firstAckIsNewLeaderAck{} }},
	{name: CommitInSyncWellFormed, num: 11, on: on(sim.TrRecv), msgs: []protocol.PacketType{protocol.COMMIT}, judge: func() judge { return commitInSyncWellFormed{} }},
	{name: UptodateFresh, num: 12, on: on(sim.TrRecv), msgs: []protocol.PacketType{protocol.ACK}, judge: func() judge { return uptodateFresh{} }},
	{name: ReportedZxidIsTrue, num: 13, on: on(sim.TrSend, sim.TrNote), notes: []protocol.NoteKind{protocol.NoteProposal}, msgs: []protocol.PacketType{protocol.ACKEPOCH}, judge: func() judge { return reportedZxidIsTrue{} }},
	{name: SyncChoiceSound, num: 14, on: on(sim.TrNote, sim.TrSend), notes: []protocol.NoteKind{protocol.NoteSyncChosen}, msgs: []protocol.PacketType{protocol.ACK}, judge: func() judge { return syncChoiceSound{} }},
	{name: ContiguousDiff, num: 15, on: on(sim.TrRecv), msgs: []protocol.PacketType{protocol.PROPOSAL}, judge: func() judge { return contiguousDiff{} }},
	{name: SnapshotLabelExact, num: 16, on: on(sim.TrPersist), judge: func() judge { return snapshotLabelExact{} }},
	{name: CommittedDurability, num: 17, on: on(sim.TrPersist, sim.TrNote), notes: []protocol.NoteKind{protocol.NoteCommitted, protocol.NoteNewLeaderQuorum}, judge: func() judge { return committedDurability{} }},
	{name: LeaderCompleteness, num: 18, on: on(sim.TrNote), notes: []protocol.NoteKind{protocol.NoteNewLeaderQuorum}, judge: func() judge { return leaderCompleteness{} }},
	{name: ZabOrder, num: 19, on: on(sim.TrNote), notes: []protocol.NoteKind{protocol.NoteApplied}, judge: func() judge { return zabOrder{} }},
	{name: HistoryConsistency, num: 20, on: on(sim.TrPersist, sim.TrNote), notes: []protocol.NoteKind{protocol.NoteApplied}, judge: func() judge { return historyConsistency{} }},
	{name: MessageLegal, num: 21, on: on(sim.TrSend, sim.TrRecv), msgs: quorumPackets, first: true, judge: func() judge { return new(messageLegal) }},
	{name: VoteMonotone, num: 22, on: on(sim.TrNote), notes: []protocol.NoteKind{protocol.NoteProposal}, judge: func() judge { return voteMonotone{} }},
	{name: SelfElectionRoundCheck, num: 23, on: on(sim.TrNote), notes: []protocol.NoteKind{protocol.NoteElected}, judge: func() judge { return selfElectionRoundCheck{} }},
	{name: NonVotersNeverLead, num: 24, on: on(sim.TrState, sim.TrNote), notes: []protocol.NoteKind{protocol.NoteElected, protocol.NoteEpochDecided, protocol.NoteEpochAcked, protocol.NoteNewLeaderQuorum, protocol.NoteTickSynced}, first: true, judge: func() judge { return nonVotersNeverLead{} }},
	{name: ElectionTerminates, num: 25},
	{name: JoinerFollows, num: 26},
	{name: FalseLeaderAbdicates, num: 27, on: on(sim.TrRecv, sim.TrState), msgs: []protocol.PacketType{protocol.NOTIFICATION}, after: true, judge: func() judge { return new(falseLeaderAbdicates) }},
	{name: RestartAlwaysPossible, num: 28, on: on(sim.TrRefused), judge: func() judge { return restartAlwaysPossible{} }},
}

// quorumPackets are the learner port's packet types: every one but NOTIFICATION, which the
// election port carries.
var quorumPackets = []protocol.PacketType{protocol.REQUEST, protocol.PROPOSAL, protocol.ACK, protocol.COMMIT,
	protocol.PING, protocol.INFORM, protocol.NEWLEADER, protocol.FOLLOWERINFO, protocol.UPTODATE, protocol.DIFFPKT,
	protocol.TRUNCPKT, protocol.SNAPPKT, protocol.OBSERVERINFO, protocol.LEADERINFO, protocol.ACKEPOCH}

// Invariants lists every invariant this checker evaluates, in spec order.
var Invariants = func() []string {
	out := make([]string, len(table))
	for i, inv := range table {
		out[i] = inv.name
	}
	return out
}()

// kinds is a set of sim.TraceKind.
type kinds uint64

func on(ks ...sim.TraceKind) kinds {
	var s kinds
	for _, k := range ks {
		if k >= 64 {
			panic(fmt.Sprintf("checker: trace kind %s does not fit in a kinds set", k))
		}
		s |= 1 << k
	}
	return s
}

// byKind lists, per trace kind, the table indexes of the judges that want it, in the order they
// are judged: the entries marked first, then the others in table order. afterSteps lists those
// that check after every step, in table order.
// byNote, bySend and byRecv do the same per note kind and per packet type.
var byKind, byNote, bySend, byRecv, afterSteps = dispatch()

// packetTypes bounds the packet types byKind's narrower tables hold (NOTIFICATION is 100).
const packetTypes = int(protocol.NOTIFICATION) + 1

func dispatch() (by [64][]uint8, notes [64][]uint8, sends, recvs [packetTypes][]uint8, after []uint8) {
	// want lists, in judging order, the judges of kind k that pass keep.
	want := func(k int, keep func(*invariant) bool) []uint8 {
		var out []uint8
		for _, first := range []bool{true, false} {
			for i := range table {
				if inv := &table[i]; inv.on&(1<<k) != 0 && inv.first == first && keep(inv) {
					out = append(out, uint8(i))
				}
			}
		}
		return out
	}
	all := func(*invariant) bool { return true }
	for k := range by {
		by[k] = want(k, all)
	}
	for n := range notes {
		notes[n] = want(int(sim.TrNote), func(inv *invariant) bool {
			return inv.notes == nil || slices.Contains(inv.notes, protocol.NoteKind(n))
		})
	}
	for t := range sends {
		msg := func(inv *invariant) bool { return inv.msgs == nil || slices.Contains(inv.msgs, protocol.PacketType(t)) }
		sends[t] = want(int(sim.TrSend), msg)
		recvs[t] = want(int(sim.TrRecv), msg)
	}
	for i, inv := range table {
		if inv.after {
			after = append(after, uint8(i))
		}
	}
	return by, notes, sends, recvs, after
}
