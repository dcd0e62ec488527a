package checker

import (
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// ReportedZxidIsTrue (13): the last zxid a server reports (its own FLE proposal, ACKEPOCH) is the
// last txn of its database or a new epoch's label above it, and no logged txn lies above it. A server
// that claims txns it lacks can win an election or get a DIFF that skips them; one that hides
// logged txns gets a sync that leaves them behind. Sources: ZOOKEEPER-2355, 2845, 3642, 4712,
// 5094.
const ReportedZxidIsTrue = "ReportedZxidIsTrue"

type reportedZxidIsTrue struct{ stateless }

func (reportedZxidIsTrue) event(x *env, e *sim.TraceEvent) { // TrSend ACKEPOCH, TrNote self-proposal
	var reported protocol.Zxid
	what := ""
	switch {
	case e.Kind == sim.TrSend && e.Msg.Type == protocol.ACKEPOCH:
		reported, what = e.Msg.Zxid, "ACKEPOCH"
	case e.Kind == sim.TrNote && e.Note.Kind == protocol.NoteProposal && e.Note.Peer == e.Server:
		// A vote for itself is its own report only when it carries its lastProcessedZxid
		// (getInitLastLoggedZxid). One adopted from a notification may carry a zxid another
		// server saw it claim earlier: FLE takes any better vote, for itself too.
		if v, _ := x.View(x.srv); e.Note.Zxid != v.LastZxid {
			return
		}
		reported, what = e.Note.Zxid, "its election vote"
	default:
		return
	}
	i := x.srv
	d := x.Disk(i)
	db := x.Database(i)
	// The claim must be in memory (a new epoch's label e<<32 names no txn and claims none
	// above the database), and nothing logged may lie above it. A database holding txns not
	// yet durable is ZooKeeper's own state after a learner leaves a sync (its server never
	// ran, so nothing reloads it; Learner.shutdown, ZooKeeperServer.shutdown).
	switch {
	case reported.Counter() != 0 && reported != lastOf(db) || reported.Counter() == 0 && reported < lastOf(db):
		x.fail(ReportedZxidIsTrue, e.At, fmt.Sprintf("server %d reports %s in %s; its database holds %d txns through %s", e.Server, reported, what, len(db), lastOf(db)), e.Server)
	case lastOf(d.Txns) > reported:
		x.fail(ReportedZxidIsTrue, e.At, fmt.Sprintf("server %d reports %s in %s; its durable history holds txns through %s", e.Server, reported, what, lastOf(d.Txns)), e.Server)
	}
}
func lastOf(txns []protocol.Txn) protocol.Zxid {
	if len(txns) == 0 {
		return 0
	}
	return txns[len(txns)-1].Zxid
}
