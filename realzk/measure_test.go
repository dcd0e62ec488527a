package realzk

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zabsim/scenarios"
	"zabsim/sim"
)

// TestMeasureSpans measures the spans of real cold starts and of a late joiner, REALZK_MEASURE
// runs of each (it takes about 10 s a run; skipped without the variable):
//
//	REALZK_MEASURE=5 go test ./realzk -run TestMeasureSpans -v -timeout 30m
func TestMeasureSpans(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("REALZK_MEASURE"))
	if n <= 0 {
		t.Skip("set REALZK_MEASURE=N to measure N real runs of each case")
	}
	needReal(t)
	cases := []struct {
		name string
		spec *sim.RunSpec
	}{
		{"3 voters, cold start", scenarios.Cluster(3, 0).StopWhenStable().Spec("measure-cold-3", 1)},
		{"3 voters + 1 observer, cold start", scenarios.Cluster(3, 1).StopWhenStable().Spec("measure-cold-3+1", 1)},
		{"3 voters, server 3 starts at 5 s", scenarios.Cluster(3, 0).StartAt(3, 5*time.Second).StopWhenStable().Spec("measure-late-3", 1)},
	}
	for _, c := range cases {
		var (
			decided, role, toQuorum, joiner, joinerRole, spread, firstElection []time.Duration
			byRole                                                             = map[string][]time.Duration{}
		)
		for i := range n {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			res, err := Run(ctx, c.spec, Options{Timeout: 80 * time.Second})
			cancel()
			require.NoError(t, err)
			require.True(t, res.Stable, "%s run %d", c.name, i)
			sp := res.Spans(c.spec)
			toQuorum = append(toQuorum, sp.ToQuorum...)
			joiner = append(joiner, sp.Joiner...)
			lo, hi := time.Duration(1<<62), time.Duration(0)
			for _, s := range res.Servers {
				ne := s.FirstElection()
				lo, hi = min(lo, ne), max(hi, ne)
				firstElection = append(firstElection, ne-s.Launches[0])
				// The first round of each server: New election -> decided, -> role line.
				var ds, rs time.Duration = -1, -1
				var what string
				for _, st := range s.Steps {
					switch {
					case st.Kind == KindDecided && ds < 0:
						ds, what = st.At-ne, st.Detail
					case (st.Kind == KindLeading || st.Kind == KindFollowing || st.Kind == KindObserving) && rs < 0:
						rs = st.At - ne
					}
				}
				decided = append(decided, ds)
				role = append(role, rs)
				if s.ID == 3 && len(c.spec.Faults) > 0 {
					joinerRole = append(joinerRole, rs)
				}
				byRole[what] = append(byRole[what], ds)
			}
			if c.spec.Faults == nil {
				spread = append(spread, hi-lo)
			}
			t.Logf("%s run %d: leader %d epoch %d; %s", c.name, i+1, res.Established[0].Leader, res.Established[0].Epoch, spanLine(res))
		}
		t.Logf("== %s, %d runs", c.name, n)
		t.Logf("   launch -> first New election:            %s", StatOf(firstElection))
		if len(spread) > 0 {
			t.Logf("   spread of the servers' New election:     %s", StatOf(spread))
		}
		t.Logf("   New election -> decided (all servers):   %s", StatOf(decided))
		for _, r := range []string{"LEADING", "FOLLOWING", "OBSERVING"} {
			if len(byRole[r]) > 0 {
				t.Logf("     of which %-10s                   %s", r+":", StatOf(byRole[r]))
			}
		}
		t.Logf("   New election -> LEADING/FOLLOWING line:  %s", StatOf(role))
		t.Logf("   leader's decision -> Have quorum:        %s", StatOf(toQuorum))
		if len(joiner) > 0 {
			t.Logf("   late joiner New election -> decided:     %s", StatOf(joiner))
			t.Logf("   late joiner New election -> FOLLOWING:   %s", StatOf(joinerRole))
		}
	}
}

func spanLine(res *Result) string {
	s := ""
	for _, sv := range res.Servers {
		s += fmt.Sprintf(" s%d ne=%s", sv.ID, ms(sv.FirstElection()))
	}
	return s
}
