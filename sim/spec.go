// Package sim is the simulated world a run happens in: virtual time, one event queue with
// deterministic tie-breaks, one seeded PRNG split into per-subsystem streams, FIFO connections
// with latency, loss and partitions, and crashes and restarts in which the disk survives and
// memory does not. It contains no protocol logic: peers are protocol.QuorumPeer values stepped
// with inputs, and their effects are applied here in the order they were emitted.
package sim

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"zabsim/protocol"
)

// Ratio is a probability as an integer fraction, so no float decides anything in a run.
type Ratio struct {
	Num uint32
	Den uint32
}

// Options are the world's fault probabilities and network timing, all in one place.
type Options struct {
	_ struct{}
	// OneWayDelayMin is the smallest one-way network delay.
	OneWayDelayMin time.Duration
	// OneWayDelayJitter is added to OneWayDelayMin, drawn uniformly from [0, jitter].
	OneWayDelayJitter time.Duration
	// MessageLossProbability is the chance that one message is lost; as with TCP, a lost
	// message breaks its connection.
	MessageLossProbability Ratio
	// Processing is the time servers spend on their own work; zero (the default) is a
	// machine infinitely fast next to its network.
	Processing Processing
}

// Span is a duration drawn uniformly from [Min, Max] (Max 0: always 0).
type Span struct {
	Min, Max time.Duration
}

// IsZero reports whether the span always draws 0.
func (s Span) IsZero() bool { return s.Max == 0 }

// Processing is time a server's process spends on work of its own, drawn per occasion from the
// run's seed and recorded as "processing" decisions. While a server is busy it handles nothing:
// what reaches it waits in its sockets, in order, and its timers fire late.
type Processing struct {
	_ struct{}
	// Boot is a process's start-up (the JVM, class loading, loadDataBase) before its
	// QuorumPeer listens and looks for a leader: the server counts as down until it has
	// passed, so what is sent to it meanwhile is refused, as by a machine where nothing
	// listens yet.
	Boot Span
	// Step follows every input a server handles: a JVM's handling of one message or timer.
	Step Span
	// Lead is a new role's set-up after the election decides. A leader's learner port is
	// bound that long after its decision (QuorumPeer.run makes the Leader, whose constructor
	// binds it), so a learner that connects sooner is refused and retries; a learner makes
	// its Follower or Observer and connects that long after its decision.
	Lead Span
	// Snapshot is the leader's work in Leader.lead() once the port is bound: zk.loadData(),
	// which takes a snapshot, comes before the LearnerCnxAcceptor starts, so connects complete
	// in the kernel but no LearnerHandler reads one until it has passed.
	Snapshot Span
	// Sync is a learner's work when NEWLEADER reaches it: logging what the sync sent,
	// writing currentEpoch and starting its request processors before it acks.
	Sync Span
}

// IsZero reports whether no server ever spends time on its own work.
func (p Processing) IsZero() bool { return p == Processing{} }

// DefaultOptions is a LAN: 1 to 3 ms one way, no loss.
func DefaultOptions() Options {
	return Options{OneWayDelayMin: time.Millisecond, OneWayDelayJitter: 2 * time.Millisecond}
}

// ServerDisk is the initial disk of one server.
type ServerDisk struct {
	ID   protocol.ServerID
	Disk protocol.Disk
}

// RunSpec is everything a run needs: with the same RunSpec, two runs are identical.
type RunSpec struct {
	_        struct{}
	Scenario string
	Seed     uint64
	Config   protocol.Config
	// Disks gives initial disks; a server not listed starts with protocol.NewDisk().
	Disks  []ServerDisk
	Faults []Fault
	// Writes is the client workload: each write, in order, is asked of a server at its time;
	// the n-th write (from 1) carries value n, so every copy of its txn names it.
	Writes  []ClientWrite
	Options Options
	// Until ends the run at this virtual time.
	Until protocol.Time
	// StopWhenStable ends the run early once a leader is in BROADCAST with every running
	// server synced to it and no fault is still to come.
	StopWhenStable bool
	// MaxEvents ends a run that would never end in reasonable time (an election storm under
	// a bug knob, say) after this many events; 0 means DefaultMaxEvents.
	MaxEvents uint64
	// Decisions, when not nil, are followed instead of the seed's PRNG: every random choice
	// comes from here, in order, and a run that asks a different question stops with a
	// divergence (Result.Divergence).
	Decisions []Decision
	// DecisionsThenSeed lets a run that follows Decisions go on when a stream of them runs out
	// (the code now asks more questions than the file answers): the seed's PRNG answers the
	// rest. `zabsim replay -update` uses it to re-record a file after a change, keeping every
	// choice the file made. Never saved in a run file.
	DecisionsThenSeed bool
}

// ClientWrite is one client write: at At, a client connected to Server asks it for a write.
type ClientWrite struct {
	At     protocol.Time
	Server protocol.ServerID
}

// DefaultMaxEvents bounds a run: a healthy 7-server run for an hour of virtual time stays far
// below it.
const DefaultMaxEvents = 1_000_000

// Clone returns a copy of s that shares no slice with it (a windowed run appends the faults it
// injects to its spec; a shrink edits a copy's faults).
func (s *RunSpec) Clone() *RunSpec {
	c := *s
	c.Config.Servers = slices.Clone(s.Config.Servers)
	c.Config.Election.Changes = slices.Clone(s.Config.Election.Changes)
	c.Disks = slices.Clone(s.Disks)
	c.Faults = slices.Clone(s.Faults)
	c.Writes = slices.Clone(s.Writes)
	c.Decisions = slices.Clone(s.Decisions)
	return &c
}

// DiskOf returns the initial disk of id.
func (s *RunSpec) DiskOf(id protocol.ServerID) protocol.Disk {
	for _, d := range s.Disks {
		if d.ID == id {
			return d.Disk
		}
	}
	return protocol.NewDisk()
}

// Validate reports every problem with the spec at once.
func (s *RunSpec) Validate() error {
	var errs []error
	if err := s.Config.Validate(); err != nil {
		errs = append(errs, err)
	}
	if s.Until <= 0 {
		errs = append(errs, fmt.Errorf("run length (until) must be positive, got %v", s.Until))
	}
	if s.Options.OneWayDelayMin < 0 || s.Options.OneWayDelayJitter < 0 {
		errs = append(errs, errors.New("network delays must not be negative"))
	}
	if r := s.Options.MessageLossProbability; r.Num > 0 && (r.Den == 0 || r.Num > r.Den) {
		errs = append(errs, fmt.Errorf("message loss probability %d/%d is not a probability", r.Num, r.Den))
	}
	for _, sp := range [...]struct {
		name string
		span Span
	}{{"boot", s.Options.Processing.Boot}, {"step", s.Options.Processing.Step}, {"lead", s.Options.Processing.Lead},
		{"snapshot", s.Options.Processing.Snapshot}, {"sync", s.Options.Processing.Sync}} {
		if sp.span.Min < 0 || sp.span.Max < sp.span.Min || sp.span.Max > time.Hour {
			errs = append(errs, fmt.Errorf("processing %s time %v..%v: want 0 <= min <= max <= 1h", sp.name, sp.span.Min, sp.span.Max))
		}
	}
	seen := map[protocol.ServerID]bool{}
	for _, d := range s.Disks {
		if !s.Config.IsMember(d.ID) {
			errs = append(errs, fmt.Errorf("initial disk for server %d, which is not in the cluster", d.ID))
		}
		if seen[d.ID] {
			errs = append(errs, fmt.Errorf("two initial disks for server %d", d.ID))
		}
		seen[d.ID] = true
		for _, err := range validateDisk(d.Disk) {
			errs = append(errs, fmt.Errorf("initial disk of server %d: %w", d.ID, err))
		}
	}
	if s.Until > MaxTime {
		errs = append(errs, fmt.Errorf("run length (until) %v is above the limit of %v", s.Until, MaxTime))
	}
	for i, cw := range s.Writes {
		if !s.Config.IsMember(cw.Server) {
			errs = append(errs, fmt.Errorf("write %d: server %d is not in the cluster", i+1, cw.Server))
		}
		if cw.At < 0 || cw.At > MaxTime {
			errs = append(errs, fmt.Errorf("write %d: time %v is outside 0..%v", i+1, cw.At, MaxTime))
		}
	}
	for i := range s.Faults {
		for _, err := range s.validateFault(&s.Faults[i]) {
			errs = append(errs, fmt.Errorf("fault %d (%s): %w", i, s.Faults[i].Kind, err))
		}
	}
	return errors.Join(errs...)
}

// LastHeal is when the last fault ends: the latest fault time, or the end of a partition, a
// pause or a refusal. A run whose faults all heal (every crash restarted, every partition
// healed) is judged for liveness from here.
func (s *RunSpec) LastHeal() protocol.Time {
	var t protocol.Time
	for _, f := range s.Faults {
		if f.At > s.Until {
			continue // never happens in this run (a server that never starts, say)
		}
		t = max(t, f.At)
		if sc, _ := SchemaOf(f.Kind); sc.Ends {
			t = max(t, f.Heal)
		}
	}
	return t
}

// FaultsHeal reports whether every fault ends: each crashed server is restarted later, every
// partition heals, and no message loss is configured.
func (s *RunSpec) FaultsHeal() bool {
	if s.Options.MessageLossProbability.Num > 0 {
		return false
	}
	for _, f := range s.Faults {
		if f.Kind == FaultStart && f.At > s.Until {
			return false // a server that never starts in this run
		}
	}
	// down lists the servers whose last crash has no later restart, in configuration order.
	down := make([]bool, len(s.Config.Servers))
	index := func(id protocol.ServerID) int {
		for i, sc := range s.Config.Servers {
			if sc.ID == id {
				return i
			}
		}
		return -1
	}
	faults := slices.Clone(s.Faults)
	slices.SortStableFunc(faults, func(a, b Fault) int { return int(a.At - b.At) })
	for _, f := range faults {
		i := index(f.Server)
		switch f.Kind {
		case FaultCrash, FaultCrashPoint:
			if i >= 0 {
				down[i] = true
			}
		case FaultRestart:
			if i >= 0 {
				down[i] = false
			}
		case FaultPartition, FaultRefuseConnect:
			if f.Heal == 0 {
				return false
			}
		}
	}
	return !slices.Contains(down, true)
}
