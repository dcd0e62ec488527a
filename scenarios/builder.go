// Package scenarios is the catalogue of named runs. Each scenario is a Go function that builds
// a sim.RunSpec and states the outcome it expects; the builder below keeps them short.
package scenarios

import (
	"time"

	"zabsim/protocol"
	"zabsim/sim"
)

// Builder assembles a RunSpec. Servers are numbered 1..participants, then the observers.
type Builder struct {
	spec sim.RunSpec
}

// Cluster starts a builder for n participants and m observers with ZooKeeper's sample timers
// (tickTime 2 s, initLimit 10, syncLimit 5), Fast Leader Election, a 1-3 ms LAN, and a run
// length of two minutes.
func Cluster(participants, observers int) *Builder {
	var ps, os []protocol.ServerID
	for i := 1; i <= participants; i++ {
		ps = append(ps, protocol.ServerID(i))
	}
	for i := 1; i <= observers; i++ {
		os = append(os, protocol.ServerID(participants+i))
	}
	b := &Builder{}
	b.spec.Config = protocol.DefaultConfig(ps, os)
	b.spec.Options = sim.DefaultOptions()
	b.spec.Until = at(120 * time.Second)
	return b
}

func at(d time.Duration) protocol.Time { return protocol.Time(d) }

// AssignedCluster is Cluster with assigned roles instead of Fast Leader Election: every
// election decides for the highest participant (change it with Leader) after 200 ms.
func AssignedCluster(participants, observers int) *Builder {
	return Cluster(participants, observers).Assigned()
}

// Assigned switches Fast Leader Election off: roles are assigned (focused scenarios).
func (b *Builder) Assigned() *Builder { b.spec.Config.Election.Assigned = true; return b }

// Leader assigns the leader every election decides for (and switches to assigned roles).
func (b *Builder) Leader(id protocol.ServerID) *Builder {
	b.spec.Config.Election.Assigned = true
	b.spec.Config.Election.Leader = id
	return b
}

// LeaderChange re-assigns the leader from time t on (assigned roles).
func (b *Builder) LeaderChange(t time.Duration, id protocol.ServerID) *Builder {
	b.spec.Config.Election.Assigned = true
	b.spec.Config.Election.Changes = append(b.spec.Config.Election.Changes, protocol.LeaderChange{At: at(t), Leader: id})
	return b
}

// Timers sets tickTime, initLimit and syncLimit.
func (b *Builder) Timers(tick time.Duration, initLimit, syncLimit int) *Builder {
	b.spec.Config.TickTime, b.spec.Config.InitLimit, b.spec.Config.SyncLimit = tick, initLimit, syncLimit
	return b
}

// ExactTiming removes every random delay: fixed 1 ms links, no thread-scheduling jitter. Use it
// when a scenario asserts times to the millisecond.
func (b *Builder) ExactTiming() *Builder {
	b.spec.Options.OneWayDelayJitter = 0
	b.spec.Config.LeaderSelfRegisterJitter = 0
	return b
}

// SelfRegisterDelay holds the leader's own getEpochToPropose back by d after its acceptor
// starts, so learners can register first.
func (b *Builder) SelfRegisterDelay(d time.Duration) *Builder {
	b.spec.Config.LeaderSelfRegisterDelay = d
	return b
}

// Knob turns a bug knob on; an unknown name panics, because scenarios are code.
func (b *Builder) Knob(name string) *Builder {
	if err := b.spec.Config.Knobs.Set(name); err != nil {
		panic(err)
	}
	return b
}

// Disk gives server id existing epoch files and a txn log.
func (b *Builder) Disk(id protocol.ServerID, acceptedEpoch, currentEpoch protocol.Epoch, txns ...protocol.Zxid) *Builder {
	d := protocol.Disk{AcceptedEpoch: acceptedEpoch, CurrentEpoch: currentEpoch, CurrentEpochTmp: -1, Txns: protocol.TxnsOf(txns...)}
	return b.RawDisk(id, d)
}

// RawDisk gives server id exactly this disk.
func (b *Builder) RawDisk(id protocol.ServerID, d protocol.Disk) *Builder {
	if cur := b.diskOf(id); cur != nil {
		*cur = d
		return b
	}
	b.spec.Disks = append(b.spec.Disks, sim.ServerDisk{ID: id, Disk: d})
	return b
}

// diskOf is server id's initial disk in the spec, or nil when it has none (a fresh disk).
func (b *Builder) diskOf(id protocol.ServerID) *protocol.Disk {
	for i := range b.spec.Disks {
		if b.spec.Disks[i].ID == id {
			return &b.spec.Disks[i].Disk
		}
	}
	return nil
}

func (b *Builder) fault(f sim.Fault) *Builder { b.spec.Faults = append(b.spec.Faults, f); return b }

// StartAt delays server id's first start to t.
func (b *Builder) StartAt(id protocol.ServerID, t time.Duration) *Builder {
	return b.fault(sim.Fault{Kind: sim.FaultStart, At: at(t), Server: id})
}

// Crash kills server id at t.
func (b *Builder) Crash(id protocol.ServerID, t time.Duration) *Builder {
	return b.fault(sim.Fault{Kind: sim.FaultCrash, At: at(t), Server: id})
}

// Restart starts server id again at t.
func (b *Builder) Restart(id protocol.ServerID, t time.Duration) *Builder {
	return b.fault(sim.Fault{Kind: sim.FaultRestart, At: at(t), Server: id})
}

// RestartWithDisk starts server id again at t from disk instead of the one that survived (an
// operator restored a backup, edited a file, or swapped the disk).
func (b *Builder) RestartWithDisk(id protocol.ServerID, t time.Duration, disk protocol.Disk) *Builder {
	return b.fault(sim.Fault{Kind: sim.FaultRestart, At: at(t), Server: id, Disk: &disk})
}

// Pause stops server id's process from t until end (SIGSTOP; a GC pause).
func (b *Builder) Pause(id protocol.ServerID, t, end time.Duration) *Builder {
	return b.fault(sim.Fault{Kind: sim.FaultPause, At: at(t), Heal: at(end), Server: id})
}

// RefuseConnect makes connects to server id's learner port fail at once from t until end (0:
// never), for connects from peers only (none: from every learner).
func (b *Builder) RefuseConnect(id protocol.ServerID, t, end time.Duration, peers ...protocol.ServerID) *Builder {
	return b.fault(sim.Fault{Kind: sim.FaultRefuseConnect, At: at(t), Heal: at(end), Server: id, Peers: peers})
}

// MaxTimeToWaitForEpoch sets zookeeper.leader.maxTimeToWaitForEpoch (0: disabled).
func (b *Builder) MaxTimeToWaitForEpoch(d time.Duration) *Builder {
	b.spec.Config.MaxTimeToWaitForEpoch = d
	return b
}

// LeaderThreadDelay makes the leader's own thread run d after the handlers woken with it.
func (b *Builder) LeaderThreadDelay(d time.Duration) *Builder {
	b.spec.Config.LeaderThreadDelay = d
	return b
}

// Partition cuts the groups apart from t until heal (0: never).
func (b *Builder) Partition(t, heal time.Duration, groups ...[]protocol.ServerID) *Builder {
	return b.fault(sim.Fault{Kind: sim.FaultPartition, At: at(t), Heal: at(heal), Groups: groups})
}

// OneWay cuts messages from `from` to `to` from t until heal (0: never).
func (b *Builder) OneWay(t, heal time.Duration, from, to []protocol.ServerID) *Builder {
	return b.fault(sim.Fault{Kind: sim.FaultPartition, At: at(t), Heal: at(heal), OneWay: true, Groups: [][]protocol.ServerID{from, to}})
}

// CrashPoint crashes server id at its n-th write of kind w after t, before, inside (torn) or
// after the write.
func (b *Builder) CrashPoint(id protocol.ServerID, t time.Duration, w protocol.WriteKind, n int, point sim.CrashPoint) *Builder {
	return b.fault(sim.Fault{Kind: sim.FaultCrashPoint, At: at(t), Server: id, Write: w, Occurrence: n, Point: point})
}

// DiskFault makes server id's n-th write of kind w after t fail.
func (b *Builder) DiskFault(id protocol.ServerID, t time.Duration, w protocol.WriteKind, n int) *Builder {
	return b.fault(sim.Fault{Kind: sim.FaultDiskWrite, At: at(t), Server: id, Write: w, Occurrence: n})
}

// Writes has a client of server id ask it for a write at each time.
func (b *Builder) Writes(id protocol.ServerID, times ...time.Duration) *Builder {
	for _, t := range times {
		b.spec.Writes = append(b.spec.Writes, sim.ClientWrite{At: at(t), Server: id})
	}
	return b
}

// Until sets the run length.
func (b *Builder) Until(d time.Duration) *Builder { b.spec.Until = at(d); return b }

// StopWhenStable ends the run once everything that runs is synced to one leader.
func (b *Builder) StopWhenStable() *Builder { b.spec.StopWhenStable = true; return b }

// Spec returns the RunSpec for one seed.
func (b *Builder) Spec(name string, seed uint64) *sim.RunSpec {
	s := b.spec
	s.Scenario, s.Seed = name, seed
	s.Config.Servers = append([]protocol.ServerConfig(nil), b.spec.Config.Servers...)
	s.Config.Election.Changes = append([]protocol.LeaderChange(nil), b.spec.Config.Election.Changes...)
	s.Disks = append([]sim.ServerDisk(nil), b.spec.Disks...)
	s.Faults = append([]sim.Fault(nil), b.spec.Faults...)
	return &s
}

// z is a zxid: epoch e, counter n.
func z(e protocol.Epoch, n uint32) protocol.Zxid { return protocol.MakeZxid(e, n) }
