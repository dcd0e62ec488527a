package conform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"zabsim/realzk"
	"zabsim/sim"
)

// RealVersion is the ZooKeeper a real run starts: Debian's package.
const RealVersion = "3.8.0 (Debian's zookeeper package)"

// Runnable reports why spec cannot run on a real ensemble, nil if it can.
func Runnable(spec *sim.RunSpec) error { return realzk.Runnable(spec) }

// Available reports what this machine lacks to start a real ensemble, nil if nothing.
func Available() error {
	if _, err := os.Stat(realzk.ZooKeeperJar); err != nil {
		return fmt.Errorf("ZooKeeper is not installed (%s is missing): apt-get install -y zookeeper", realzk.ZooKeeperJar)
	}
	if _, err := exec.LookPath("java"); err != nil {
		return errors.New("java is not on PATH: apt-get install -y zookeeper brings it")
	}
	return nil
}

// RealOptions tune a real run.
type RealOptions struct {
	// Dir is where the run's folder is made ("" is the system's temp folder).
	Dir string
	// Keep keeps the folder after a run that worked; it is always kept when a run fails.
	Keep bool
	// Timeout bounds the run.
	Timeout time.Duration
}

// RealRun is one real run reduced to an Outcome.
type RealRun struct {
	Outcome Outcome
	// Dir is the run's folder, "" when it was removed.
	Dir    string
	Result *realzk.Result
}

// RunReal runs spec on a real ensemble.
func RunReal(ctx context.Context, spec *sim.RunSpec, opt RealOptions) (*RealRun, error) {
	res, err := realzk.Run(ctx, spec, realzk.Options{Dir: opt.Dir, Keep: opt.Keep, Timeout: opt.Timeout, Lead: RealLead})
	if err != nil {
		return nil, err
	}
	return &RealRun{Outcome: FromReal(spec, res), Dir: res.Dir, Result: res}, nil
}

// RealLead is how long before its scenario time each JVM is launched, so that its "New
// election" falls near that time: a JVM spends 0.6-3 s starting before it (measured here).
var RealLead = 0 * time.Second

// realEnds maps realzk's role-end steps onto EndKinds.
var realEnds = map[string]string{
	realzk.KindEpochTimeout:           "epoch-wait-timeout",
	realzk.KindEpochAckTimeout:        "epoch-ack-timeout",
	realzk.KindNewLeaderAckTimeout:    "newleader-ack-timeout",
	realzk.KindNotSufficientFollowers: "quorum-lost",
	realzk.KindLeadersEpochLess:       "epoch-refused",
}

// FromReal reduces a real run to an Outcome.
func FromReal(spec *sim.RunSpec, res *realzk.Result) Outcome {
	var o Outcome
	for _, e := range res.Established {
		o.Established = append(o.Established, Ensemble{Leader: e.Leader, Epoch: e.Epoch, At: e.At})
	}
	for _, s := range res.Syncs {
		o.Syncs = append(o.Syncs, Sync{Leader: s.Leader, Learner: s.Learner, Epoch: s.Epoch, Mode: s.Mode})
	}
	for i := range res.Servers {
		s := &res.Servers[i]
		role := s.Mode
		switch {
		case !s.Running:
			role = "down"
		case s.Mode != "leader" && s.Mode != "follower" && s.Mode != "observer":
			// Up but not serving, or its srvr went unanswered (a flooded log slows it).
			role = "looking"
		}
		o.Servers = append(o.Servers, Server{ID: s.ID, AcceptedEpoch: s.AcceptedEpoch, CurrentEpoch: s.CurrentEpoch, Role: role})
		if n := len(s.StepsOf(realzk.KindConnectRefused)); n > 0 {
			o.Refused = append(o.Refused, Count{Server: s.ID, N: n})
		}
		decided := time.Duration(-1)
		seen := map[string]bool{}
		for _, st := range s.StepsOf(realzk.KindDecided, realzk.KindEpochTimeout, realzk.KindEpochAckTimeout,
			realzk.KindNewLeaderAckTimeout, realzk.KindNotSufficientFollowers, realzk.KindLeadersEpochLess) {
			if st.Kind == realzk.KindDecided {
				decided = st.At
				continue
			}
			// One end can log more than one line (the leader's thread and each handler's).
			k := realEnds[st.Kind]
			if key := fmt.Sprintf("%s@%d", k, decided); !seen[key] {
				seen[key] = true
				o.Ends = append(o.Ends, End{Server: s.ID, Kind: k, SinceLeading: st.At - decided})
			}
		}
	}
	rs := res.Spans(spec)
	o.Spans = Spans{Decision: rs.Decision, ToQuorum: rs.ToQuorum, Joiner: rs.Joiner, RefusedRetry: rs.RefusedRetry, Rejoin: rs.Rejoin}
	o.Steps, o.End = RealSteps(res), res.End
	return o
}

// JVM is the processing time that makes the simulator's spans fall in the ranges a real
// ensemble shows (calibrated with conform; see the README).
var JVM = sim.Processing{
	Boot:     sim.Span{Min: 650 * time.Millisecond, Max: 900 * time.Millisecond},
	Step:     sim.Span{Min: time.Millisecond, Max: 3 * time.Millisecond},
	Lead:     sim.Span{Min: 20 * time.Millisecond, Max: 70 * time.Millisecond},
	Snapshot: sim.Span{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond},
	Sync:     sim.Span{Min: 5 * time.Millisecond, Max: 15 * time.Millisecond},
}
