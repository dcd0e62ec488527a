package checker

import (
	"encoding/json"
	"fmt"

	"zabsim/protocol"
	"zabsim/sim"
)

// Liveness is how a run was judged for liveness; it prints itself only when asked.
type Liveness struct {
	// Judged is false when the faults never heal or the run ended before the bound.
	Judged bool
	// OK: a leader with a synced voter quorum existed at At, within Bound.
	OK    bool
	At    protocol.Time
	Bound protocol.Time
	Why   string
}

func (l Liveness) String() string {
	switch {
	case !l.Judged:
		return "not judged: " + l.Why
	case l.OK:
		return "ok: leader with a synced quorum at " + protocol.FormatTime(l.At) + " (bound " + protocol.FormatTime(l.Bound) + ")"
	}
	return "violated: " + l.Why
}

// MarshalText prints the verdict as String does.
func (l Liveness) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// MarshalJSON prints the verdict as an object, for machines: checked (whether liveness was
// judged at all), ok, the times (seconds, as every report time) and the detail in words.
func (l Liveness) MarshalJSON() ([]byte, error) {
	v := struct {
		Checked bool   `json:"checked"`
		OK      bool   `json:"ok"`
		At      string `json:"at,omitempty"`
		Bound   string `json:"bound,omitempty"`
		Detail  string `json:"detail"`
	}{Checked: l.Judged, OK: l.Judged && l.OK, Detail: l.String()}
	if l.Judged && l.OK {
		v.At = protocol.FormatTime(l.At)
	}
	if l.Bound != 0 {
		v.Bound = protocol.FormatTime(l.Bound)
	}
	return json.Marshal(v)
}

// Finish judges liveness at the end of a run that ended at end: when every fault heals, a leader
// with a synced voter quorum must exist within LivenessBound of the last heal.
func (c *Checker) Finish(w *sim.World, end protocol.Time, truncated bool) Liveness {
	x := &c.env
	x.view = view{w}
	judgeWrites(x, end)
	if truncated {
		return Liveness{Why: "the run hit its event budget"}
	}
	if !c.t.heals {
		return Liveness{Why: "faults do not heal"}
	}
	for i := 0; i < x.ServerCount(); i++ {
		if c.t.learners[i].booted && !x.Up(i) {
			return Liveness{Why: fmt.Sprintf("server %d is down at the end (a crash point fired after its restart)", x.ServerAt(i))}
		}
	}
	deadline := c.t.healAt.Add(LivenessBound(c.cfg))
	switch {
	case c.t.livenessMet && c.t.livenessAt <= deadline:
		if !c.cfg.Election.Assigned {
			c.outsiders = judgeJoiners(x, end)
		}
		return Liveness{Judged: true, OK: true, At: c.t.livenessAt, Bound: deadline}
	case c.t.livenessMet:
		x.fail(ElectionTerminates, c.t.livenessAt, fmt.Sprintf("a leader with a synced quorum only at %s, after the bound %s", c.t.livenessAt, deadline))
		return Liveness{Judged: true, At: c.t.livenessAt, Bound: deadline, Why: "leader established after the bound"}
	case end >= deadline:
		x.fail(ElectionTerminates, deadline, fmt.Sprintf("no leader with a synced voter quorum within %v of the last heal at %s", LivenessBound(c.cfg), c.t.healAt))
		return Liveness{Judged: true, Bound: deadline, Why: "no leader with a synced voter quorum"}
	}
	return Liveness{Bound: deadline, Why: "the run ended before the bound"}
}
