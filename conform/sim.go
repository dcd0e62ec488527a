package conform

import (
	"time"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/sim"
)

// FromReport reduces a simulated run (its report, with the trace kept) to an Outcome.
func FromReport(spec *sim.RunSpec, rep *checker.Report) Outcome {
	var o Outcome
	for _, e := range rep.Established {
		o.Established = append(o.Established, Ensemble{Leader: int(e.Leader), Epoch: int64(e.Epoch), At: time.Duration(e.At)})
	}
	for _, s := range rep.Syncs {
		o.Syncs = append(o.Syncs, Sync{Leader: int(s.Leader), Learner: int(s.Learner), Epoch: int64(s.Epoch), Mode: s.Mode})
	}
	last := map[protocol.ServerID]sim.TraceEvent{} // each server's last state change
	for _, e := range rep.Trace {
		if e.Kind == sim.TrState {
			last[e.Server] = e
		}
	}
	for _, s := range rep.Servers {
		role := "down"
		if s.Role != "DOWN" && s.Role != "REFUSED" {
			role = "looking"
			if st, ok := last[s.ID]; ok && st.Zab == protocol.BROADCAST {
				role = map[protocol.ServerState]string{protocol.LEADING: "leader", protocol.FOLLOWING: "follower", protocol.OBSERVING: "observer"}[st.State]
			}
		}
		o.Servers = append(o.Servers, Server{ID: int(s.ID), AcceptedEpoch: int64(s.AcceptedEpoch), CurrentEpoch: int64(s.CurrentEpoch), Role: role})
	}
	o.Ends, o.Refused, o.Spans = simSteps(spec, rep.Trace)
	o.Steps, o.StepTimes = SimSteps(spec, rep.Trace)
	return o
}

// simSteps walks the trace for the role ends, the refused connects and the spans.
func simSteps(spec *sim.RunSpec, trace []sim.TraceEvent) ([]End, []Count, Spans) {
	type server struct {
		looking, decided, restarted protocol.Time
		lookingSeen, decidedSeen    bool
		refusedSince                protocol.Time
		refusedOpen, restartOpen    bool
		lateStart, firstElection    bool
		refused                     int
	}
	srv := map[protocol.ServerID]*server{}
	for _, sc := range spec.Config.Servers {
		srv[sc.ID] = &server{}
	}
	for _, f := range spec.Faults {
		if f.Kind == sim.FaultStart {
			if s := srv[f.Server]; s != nil {
				s.lateStart = true
			}
		}
	}
	var ends []End
	var sp Spans
	for _, e := range trace {
		s := srv[e.Server]
		if s == nil {
			continue
		}
		switch e.Kind {
		case sim.TrStart:
			if e.Fault > 0 && spec.Faults[e.Fault-1].Kind == sim.FaultRestart {
				// From the restart's time, as the real side measures from the launch: a
				// Processing.Boot lies between the two.
				s.restarted, s.restartOpen = spec.Faults[e.Fault-1].At, true
			}
		case sim.TrState:
			if e.State == protocol.LOOKING {
				s.looking, s.lookingSeen = e.At, true
			}
		case sim.TrNote:
			n := &e.Note
			switch n.Kind {
			case protocol.NoteElected:
				if s.lookingSeen {
					d := time.Duration(e.At - s.looking)
					sp.Decision = append(sp.Decision, d)
					if s.lateStart && !s.firstElection {
						sp.Joiner = append(sp.Joiner, d)
					}
				}
				s.firstElection = true
				s.decided, s.decidedSeen = e.At, true
			case protocol.NoteNewLeaderQuorum:
				if s.decidedSeen {
					sp.ToQuorum = append(sp.ToQuorum, time.Duration(e.At-s.decided))
				}
			case protocol.NoteLeaderShutdown, protocol.NoteLearnerLeft:
				if k := EndKind(n.Reason); k != "" {
					ends = append(ends, End{Server: int(e.Server), Kind: k, SinceLeading: time.Duration(e.At - s.decided)})
				}
			case protocol.NoteSynced:
				if s.restartOpen {
					sp.Rejoin = append(sp.Rejoin, time.Duration(e.At-s.restarted))
					s.restartOpen = false
				}
			}
		case sim.TrConnectFailed:
			if e.Detail == "refused" {
				s.refused++
				if !s.refusedOpen && s.decidedSeen {
					s.refusedSince, s.refusedOpen = s.decided, true
				}
			}
		case sim.TrConnected:
			if s.refusedOpen {
				sp.RefusedRetry = append(sp.RefusedRetry, time.Duration(e.At-s.refusedSince))
				s.refusedOpen = false
			}
		case sim.TrCrash:
			s.refusedOpen, s.restartOpen = false, false
		}
	}
	var refused []Count
	for _, sc := range spec.Config.Servers {
		if n := srv[sc.ID].refused; n > 0 {
			refused = append(refused, Count{Server: int(sc.ID), N: n})
		}
	}
	return ends, refused, sp
}
