// Package protocol models ZooKeeper's quorum start-up (leader activation: discovery and
// synchronization, spec §5 and §6) as a pure state machine. A QuorumPeer takes one Input at a
// time through Step and returns Effects; it never reads a clock, draws a random number, starts a
// goroutine or touches a disk. Names follow ZooKeeper's Java code so that a reader who knows
// Leader.java, LearnerHandler.java and Learner.java finds each counterpart by name.
package protocol

import (
	"fmt"
	"strconv"
	"time"
)

// ServerID is a server's myid (sid).
type ServerID int64

// Epoch is a ZAB epoch. -1 means "unknown" or "file missing", as in ZooKeeper.
type Epoch int64

// Zxid is a ZooKeeper transaction id: epoch<<32 | counter (spec §3).
type Zxid int64

// Time is virtual time in nanoseconds since the start of a run.
type Time int64

// MakeZxid builds epoch<<32 | counter (ZxidUtils.makeZxid).
func MakeZxid(e Epoch, counter uint32) Zxid { return Zxid(int64(e)<<32 | int64(counter)) }

// Epoch returns zxid>>32 (ZxidUtils.getEpochFromZxid); -1 stays -1.
func (z Zxid) Epoch() Epoch { return Epoch(int64(z) >> 32) }

// Counter returns the low 32 bits (ZxidUtils.getCounterFromZxid).
func (z Zxid) Counter() uint32 { return uint32(int64(z) & 0xffffffff) }

// String prints a zxid as ZooKeeper logs it: 0x followed by hex.
func (z Zxid) String() string {
	if z < 0 {
		return strconv.FormatInt(int64(z), 10)
	}
	return "0x" + strconv.FormatInt(int64(z), 16)
}

// Add returns t+d.
func (t Time) Add(d time.Duration) Time { return t + Time(d) }

// String prints virtual time in seconds with millisecond precision ("20.400s").
func (t Time) String() string { return FormatTime(t) }

// FormatTime prints virtual time as seconds with up to microsecond precision, trailing
// zeros trimmed, and an "s" suffix: 0s, 1.2s, 20.0004s.
func FormatTime(t Time) string {
	neg := t < 0
	if neg {
		t = -t
	}
	sec := int64(t) / 1e9
	us := (int64(t) % 1e9) / 1e3
	s := strconv.FormatInt(sec, 10)
	if us != 0 {
		frac := fmt.Sprintf("%06d", us)
		for frac[len(frac)-1] == '0' {
			frac = frac[:len(frac)-1]
		}
		s += "." + frac
	}
	if neg {
		s = "-" + s
	}
	return s + "s"
}

// ServerState is QuorumPeer.ServerState (spec §2.1).
type ServerState uint8

// The four server states, spelled as in QuorumPeer.ServerState.
const (
	LOOKING ServerState = iota
	FOLLOWING
	LEADING
	OBSERVING
)

var serverStateNames = [...]string{LOOKING: "LOOKING", FOLLOWING: "FOLLOWING", LEADING: "LEADING", OBSERVING: "OBSERVING"}

func (s ServerState) String() string {
	if int(s) < len(serverStateNames) {
		return serverStateNames[s]
	}
	return UnknownName("ServerState", int(s))
}

// ZabState is QuorumPeer.ZabState, the phase label ZooKeeper exposes for monitoring (spec §2.1).
type ZabState uint8

// Zab phases, spelled as in QuorumPeer.ZabState.
const (
	ELECTION ZabState = iota
	DISCOVERY
	SYNCHRONIZATION
	BROADCAST
)

var zabStateNames = [...]string{ELECTION: "ELECTION", DISCOVERY: "DISCOVERY", SYNCHRONIZATION: "SYNCHRONIZATION", BROADCAST: "BROADCAST"}

func (z ZabState) String() string {
	if int(z) < len(zabStateNames) {
		return zabStateNames[z]
	}
	return UnknownName("ZabState", int(z))
}

// LearnerType is QuorumPeer.LearnerType: voters are PARTICIPANTs.
type LearnerType uint8

// Learner types, spelled as in QuorumPeer.LearnerType.
const (
	PARTICIPANT LearnerType = iota
	OBSERVER
)

func (t LearnerType) String() string {
	if t == OBSERVER {
		return "OBSERVER"
	}
	return "PARTICIPANT"
}

// SyncMode is QuorumPeer.SyncMode: how a learner was synchronized (spec §5.6).
type SyncMode uint8

// Sync modes, spelled as in QuorumPeer.SyncMode.
const (
	NONE SyncMode = iota
	DIFF
	SNAP
	TRUNC
)

func (m SyncMode) String() string {
	switch m {
	case DIFF:
		return "DIFF"
	case SNAP:
		return "SNAP"
	case TRUNC:
		return "TRUNC"
	}
	return "NONE"
}

// ParseSyncMode is the inverse of SyncMode.String.
func ParseSyncMode(s string) (SyncMode, bool) {
	for m := NONE; m <= TRUNC; m++ {
		if m.String() == s {
			return m, true
		}
	}
	return NONE, false
}

// MarshalText prints a zxid as hex ("0x100000001"), so JSON reports read like ZooKeeper's logs.
func (z Zxid) MarshalText() ([]byte, error) { return []byte(z.String()), nil }

// UnmarshalText parses "0x..." hex or a decimal number.
func (z *Zxid) UnmarshalText(b []byte) error {
	s := string(b)
	var v int64
	var err error
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		var u uint64
		u, err = strconv.ParseUint(s[2:], 16, 64)
		v = int64(u)
	} else {
		v, err = strconv.ParseInt(s, 10, 64)
	}
	if err != nil {
		return fmt.Errorf("bad zxid %q: want hex like 0x100000001", s)
	}
	*z = Zxid(v)
	return nil
}

// MarshalText prints virtual time as FormatTime does ("20.4s").
func (t Time) MarshalText() ([]byte, error) { return []byte(FormatTime(t)), nil }

// UnmarshalText parses a Go duration ("20.4s", "150ms") as time since the start of the run.
func (t *Time) UnmarshalText(b []byte) error {
	d, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("bad time %q: want a duration such as 1.5s or 200ms", string(b))
	}
	*t = Time(d)
	return nil
}
