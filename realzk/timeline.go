package realzk

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Timeline prints every server's steps in one time order, one line each: time, server, kind,
// side, peer, and what the step carries. Without all it leaves out the "state" steps (ZAB phase
// changes) and notification timeouts.
func (r *Result) Timeline(all bool) string {
	type row struct {
		st Step
		id int
	}
	var rows []row
	for _, s := range r.Servers {
		for _, st := range s.Steps {
			if !all && (st.Kind == KindState || st.Kind == KindNotificationTimeout || st.Kind == KindElectionTook) {
				continue
			}
			rows = append(rows, row{st, s.ID})
		}
	}
	slices.SortStableFunc(rows, func(a, b row) int { return int(a.st.At - b.st.At) })
	var b strings.Builder
	for _, x := range rows {
		st := x.st
		fmt.Fprintf(&b, "%9.3fs  s%d  %-22s", st.At.Seconds(), x.id, st.Kind)
		if st.Side != "" {
			fmt.Fprintf(&b, " %-7s", st.Side)
		}
		if st.Peer != 0 {
			fmt.Fprintf(&b, " peer=%d", st.Peer)
		}
		if st.Epoch != 0 {
			fmt.Fprintf(&b, " epoch=%d", st.Epoch)
		}
		if st.Zxid != 0 {
			fmt.Fprintf(&b, " zxid=0x%x", uint64(st.Zxid))
		}
		if st.Value != 0 {
			fmt.Fprintf(&b, " value=%d", st.Value)
		}
		if len(st.Sids) > 0 {
			fmt.Fprintf(&b, " sids=%v", st.Sids)
		}
		if st.Detail != "" {
			fmt.Fprintf(&b, " %q", st.Detail)
		}
		if strings.HasPrefix(st.Line, "realzk: ") {
			fmt.Fprintf(&b, " (%s)", strings.TrimPrefix(st.Line, "realzk: "))
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%9.3fs  end (stable=%v cut=%v)\n", r.End.Seconds(), r.Stable, r.Cut)
	return b.String()
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond)) }
