// Package conform compares a scenario run on a real ZooKeeper ensemble with the same scenario in
// the simulator: both runs are reduced to an Outcome (what either side can observe: who led
// which epoch, the epoch files, the sync modes, the timeouts and refusals) and to the spans
// between protocol steps, and the real outcome is judged against the outcomes the simulator
// produces over many seeds.
package conform

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Outcome is what one run did, in the terms both a real ensemble's logs and disks and the
// simulator's report can give.
type Outcome struct {
	// Established lists, in time order, every leader a voter quorum acknowledged ("Have quorum
	// of supporters").
	Established []Ensemble `json:"established"`
	// Servers is every server at the end: its epoch files and its role.
	Servers []Server `json:"servers"`
	// Syncs is every sync choice a leader made for a learner.
	Syncs []Sync `json:"syncs"`
	// Ends is every role that ended for a reason both sides name: a timeout, an epoch refused,
	// a quorum lost.
	Ends []End `json:"ends"`
	// Refused counts, per learner, connects to a leader's port that were refused.
	Refused []Count `json:"refusedConnects"`
	// Spans are the times between protocol steps, for calibration; they are shown, not judged.
	Spans Spans `json:"spans"`
	// Steps are each server's protocol steps, for trace validation (Validate); StepTimes when
	// the simulator took them.
	Steps     Steps                   `json:"steps,omitempty"`
	StepTimes map[int][]time.Duration `json:"-"`
	// End is when a real run ended, from its time 0 (0 for a simulated one).
	End time.Duration `json:"end,omitempty"`
}

// Ensemble is one established leader.
type Ensemble struct {
	Leader int   `json:"leader"`
	Epoch  int64 `json:"epoch"`
	// At is when the quorum of NEWLEADER acks came, from the scenario's time 0.
	At time.Duration `json:"at"`
}

// Server is one server at the end of the run.
type Server struct {
	ID            int   `json:"id"`
	AcceptedEpoch int64 `json:"acceptedEpoch"`
	CurrentEpoch  int64 `json:"currentEpoch"`
	// Role is leader, follower, observer, looking or down.
	Role string `json:"role"`
}

// Sync is one sync choice.
type Sync struct {
	Leader  int    `json:"leader"`
	Learner int    `json:"learner"`
	Epoch   int64  `json:"epoch"`
	Mode    string `json:"mode"` // DIFF, TRUNC or SNAP
}

// End is one role that ended for a reason of EndKinds.
type End struct {
	Server int    `json:"server"`
	Kind   string `json:"kind"`
	// SinceLeading is the time from the server's last LEADING (for a leader) or from its
	// last decision (for a learner) to the end.
	SinceLeading time.Duration `json:"sinceLeading"`
}

// Count is a number per server.
type Count struct {
	Server int `json:"server"`
	N      int `json:"n"`
}

// Spans are durations between protocol steps.
type Spans struct {
	// Decision: a server's FLE round, from "New election" to its decision.
	Decision []time.Duration `json:"decision"`
	// ToQuorum: a leader's decision to its quorum of NEWLEADER acks.
	ToQuorum []time.Duration `json:"toQuorum"`
	// Joiner: a server that starts late, from its first "New election" to its decision (from
	// the LEADING/FOLLOWING replies of the running ensemble).
	Joiner []time.Duration `json:"joiner"`
	// RefusedRetry: a learner whose connect was refused, from its decision to its connection.
	RefusedRetry []time.Duration `json:"refusedRetry"`
	// Rejoin: a restarted server, from its restart to its UPTODATE.
	Rejoin []time.Duration `json:"rejoin"`
}

// EndKinds are the role ends an outcome records, each with the log text (ZooKeeper's exception
// message, which the simulator's reasons repeat) that names it.
var EndKinds = []struct{ Kind, Text string }{
	{"epoch-wait-timeout", "Timeout while waiting for epoch from quorum"},
	{"epoch-ack-timeout", "Timeout while waiting for epoch to be acked by quorum"},
	{"newleader-ack-timeout", "Timeout while waiting for NEWLEADER to be acked by quorum"},
	{"newleader-ack-timeout", "Waiting for a quorum of followers, only synced with"},
	{"quorum-lost", "Not sufficient followers synced"},
	{"epoch-refused", "is less than accepted epoch"},
}

// EndKind classifies a reason text; "" if it is none of EndKinds.
func EndKind(reason string) string {
	for _, k := range EndKinds {
		if strings.Contains(reason, k.Text) {
			return k.Kind
		}
	}
	return ""
}

// Key is the part of an outcome a verdict compares, as one line: the established leaders in
// order, every server's epochs and role, the sync modes, and the kinds of role ends per server.
// Times and counts of refused connects are left out: they are timing, shown beside it.
func (o *Outcome) Key() string {
	var b strings.Builder
	b.WriteString("leaders")
	for _, e := range o.Established {
		fmt.Fprintf(&b, " %d@%d", e.Leader, e.Epoch)
	}
	b.WriteString("; servers")
	for _, s := range o.Servers {
		fmt.Fprintf(&b, " %d:%s:%d/%d", s.ID, s.Role, s.AcceptedEpoch, s.CurrentEpoch)
	}
	b.WriteString("; syncs")
	syncs := make([]string, 0, len(o.Syncs))
	for _, s := range o.Syncs {
		syncs = append(syncs, fmt.Sprintf(" %d<-%d@%d:%s", s.Learner, s.Leader, s.Epoch, s.Mode))
	}
	slices.Sort(syncs)
	syncs = slices.Compact(syncs)
	b.WriteString(strings.Join(syncs, ""))
	b.WriteString("; ends")
	ends := make([]string, 0, len(o.Ends))
	for _, e := range o.Ends {
		ends = append(ends, fmt.Sprintf(" %d:%s", e.Server, e.Kind))
	}
	slices.Sort(ends)
	ends = slices.Compact(ends)
	b.WriteString(strings.Join(ends, ""))
	return b.String()
}
