package harness

import (
	"fmt"
	"io"
	"strings"

	"zabsim/checker"
)

// WriteReport prints a report for a person: the run, what broke, who established what, and
// where every server ended.
func WriteReport(w io.Writer, r *checker.Report) {
	fmt.Fprintf(w, "scenario %s  seed %d  simulated %s  events %d  trace %s\n", r.Scenario, r.Seed, r.SimulatedTime, r.Events, r.TraceHash)
	if len(r.Knobs) > 0 {
		fmt.Fprintf(w, "bug knobs on: %s\n", strings.Join(r.Knobs, ", "))
	}
	if len(r.Violations) == 0 {
		fmt.Fprintf(w, "invariants: all held\n")
	}
	for _, v := range r.Violations {
		fmt.Fprintf(w, "VIOLATION %s at %s servers %v (x%d): %s\n", v.Invariant, v.At, v.Servers, v.Count, v.Detail)
	}
	fmt.Fprintf(w, "liveness: %s\n", r.Liveness)
	if r.Truncated {
		fmt.Fprintf(w, "TRUNCATED: the run hit its event budget at %s\n", r.SimulatedTime)
	}
	for _, e := range r.Established {
		fmt.Fprintf(w, "established: leader %d epoch %d quorum %v at %s\n", e.Leader, e.Epoch, e.Quorum, e.At)
	}
	for _, s := range r.Syncs {
		fmt.Fprintf(w, "sync: leader %d -> learner %d %s %s (epoch %d) at %s\n", s.Leader, s.Learner, s.Mode, s.Zxid, s.Epoch, s.At)
	}
	if len(r.Writes) > 0 {
		writeWrites(w, r.Writes)
	}
	for _, e := range r.RoleEnds {
		who := fmt.Sprintf("%d %s", e.Server, e.Role)
		if e.Role == "LearnerHandler" {
			who = fmt.Sprintf("%d handler for %d", e.Server, e.Peer)
		}
		fmt.Fprintf(w, "role end: %s at %s: %s\n", who, e.At, e.Reason)
	}
	for i, f := range r.Faults {
		what := "happened at " + f.HappenedAt.String()
		if !f.Happened {
			what = "DID NOT HAPPEN"
		}
		fmt.Fprintf(w, "fault %d: %s", i, f.Kind)
		if f.Server != 0 {
			fmt.Fprintf(w, " of %d", f.Server)
		}
		fmt.Fprintf(w, " due %s: %s: %s\n", f.At, what, f.Note)
	}
	if r.Stop != "" {
		fmt.Fprintf(w, "run ended: %s\n", r.Stop)
	}
	for _, e := range r.Refusals {
		fmt.Fprintf(w, "refused start: server %d at %s: %s\n", e.Server, e.At, e.Reason)
	}
	fmt.Fprintf(w, "servers:\n")
	for _, s := range r.Servers {
		leader := "-"
		if s.Leader != nil {
			leader = fmt.Sprint(*s.Leader)
		}
		fmt.Fprintf(w, "  %3d  %-10s leader %-3s acceptedEpoch %-3d currentEpoch %-3d lastZxid %s\n", s.ID, s.Role, leader, s.AcceptedEpoch, s.CurrentEpoch, s.LastZxid)
	}
}

// writeWrites prints a summary of the client writes and one line per write.
func writeWrites(w io.Writer, ws []checker.WriteRecord) {
	answers := map[string]int{}
	for _, x := range ws {
		answers[x.Answer]++
	}
	fmt.Fprintf(w, "writes: %d asked, %d ok, %d connection-loss, %d not-serving, %d unanswered\n",
		len(ws), answers["ok"], answers["connection-loss"], answers["not-serving"], answers[""])
	for _, x := range ws {
		fmt.Fprintf(w, "  %s\n", x.Line())
	}
}
