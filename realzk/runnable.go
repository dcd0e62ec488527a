package realzk

import (
	"errors"
	"fmt"
	"time"

	"zabsim/protocol"
	"zabsim/sim"
)

// finalizeWait is FastLeaderElection.finalizeWait in 3.8.0: a static final 200 ms no property
// changes.
const finalizeWait = 200 * time.Millisecond

// minUntil is the shortest scenario a real ensemble can run: longer than a JVM's start.
const minUntil = 5 * time.Second

// Runnable reports why spec cannot run on a real ensemble, every reason at once (nil if it can).
//
// Runnable: the cluster (participants and observers, up to 64 ids in 1..255), the timers that
// zoo.cfg or a system property of 3.8.0 sets (see Options and zooCfg), initial disks and
// replaced disks (epoch files, and txn histories that one writer can make: see history.go),
// a run at least minUntil long, and the faults start (a late start), crash (SIGKILL), restart (a new process; with Disk, the
// data dir is emptied and the epoch files written first), pause (SIGSTOP at At, SIGCONT at
// Heal) and refuse-connect for the whole run (At 0 and Heal 0: the learners' zoo.cfg names a
// port nobody listens on for the target's learner port).
//
// Ignored, because they describe the simulated world rather than ask anything of it: the seed
// and recorded decisions, the bug knobs (the real ensemble is 3.8.0 as it is), network delays
// (loopback is what it is), processing times, SyncDelay/SyncJitter, DatabaseBytes and
// LeaderSelfRegisterJitter (a bound on a random draw; the JVM's threads draw their own).
func Runnable(spec *sim.RunSpec) error {
	if spec == nil {
		return errors.New("no run spec")
	}
	if err := spec.Validate(); err != nil {
		return fmt.Errorf("invalid run spec: %w", err)
	}
	var errs []error
	no := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	c := &spec.Config
	if c.Election.Assigned {
		no("assigned roles (Election.Assigned): a real ensemble elects with Fast Leader Election and cannot be told who leads")
	}
	if !c.Election.Assigned && c.Election.FinalizeWait != finalizeWait {
		no("finalizeWait %v: 3.8.0's FastLeaderElection.finalizeWait is a constant 200ms", c.Election.FinalizeWait)
	}
	for _, d := range [...]struct {
		name string
		v    time.Duration
	}{
		{"tickTime", c.TickTime},
		{"leaderConnectDelayDuringRetry", c.LeaderConnectDelayDuringRetry},
		{"observerElectionDelay", c.ObserverElectionDelay},
		{"maxTimeToWaitForEpoch", c.MaxTimeToWaitForEpoch},
		{"minNotificationInterval", c.Election.MinNotificationInterval},
		{"maxNotificationInterval", c.Election.MaxNotificationInterval},
	} {
		if d.v%time.Millisecond != 0 {
			no("%s %v is not a whole number of milliseconds (ZooKeeper takes milliseconds)", d.name, d.v)
		}
	}
	if c.TickTime > 0 && c.TickTime < time.Millisecond {
		no("tickTime %v is below ZooKeeper's 1 ms unit", c.TickTime)
	}
	if c.LeaderSelfRegisterDelay > 0 {
		no("leaderSelfRegisterDelay %v forces a thread-scheduling gap in the leader that a real JVM cannot be made to take", c.LeaderSelfRegisterDelay)
	}
	if c.LeaderThreadDelay > 0 {
		no("leaderThreadDelay %v forces the order of the leader's threads, which a real JVM cannot be made to follow", c.LeaderThreadDelay)
	}
	if r := spec.Options.MessageLossProbability; r.Num > 0 {
		no("message loss %d/%d: loopback TCP loses nothing, and nothing here breaks connections at random", r.Num, r.Den)
	}
	if u := time.Duration(spec.Until); u < minUntil {
		no("the run ends at %v: a JVM takes 0.6-3 s before its first election, so a real ensemble would show only what comes after the scenario's end (at least %v is needed)", u, minUntil)
	}
	if len(spec.Writes) > 0 {
		no("%d client writes during the run (Writes): not implemented (a ZooKeeperMain client takes about a second to start, so the write's time could not be kept)", len(spec.Writes))
	}
	for _, d := range spec.Disks {
		if err := diskRunnable(d.Disk); err != nil {
			no("initial disk of server %d: %w", d.ID, err)
		}
	}
	if err := historyRunnable(histories(spec)); err != nil {
		no("txn histories: %w", err)
	}
	for i, f := range spec.Faults {
		if err := faultRunnable(&f); err != nil {
			no("fault %d (%s at %v): %w", i, f.Kind, time.Duration(f.At), err)
		}
	}
	return errors.Join(errs...)
}

// diskRunnable: a disk this package can write is epoch files and no history.
func diskRunnable(d protocol.Disk) error {
	var errs []error
	if d.SnapshotZxid != 0 {
		errs = append(errs, fmt.Errorf("a snapshot labelled %s: the histories written by real client writes keep only the empty snapshot, so that a load replays every txn", d.SnapshotZxid))
	}
	if d.LogStart != 0 && len(d.Txns) > 0 && d.LogStart != d.Txns[0].Zxid {
		errs = append(errs, fmt.Errorf("txn logs purged below %s: not implemented", d.LogStart))
	}
	if len(d.Superseded) > 0 {
		errs = append(errs, fmt.Errorf("%d superseded txn log entries are not implemented", len(d.Superseded)))
	}
	if d.UpdatingEpoch {
		errs = append(errs, errors.New("the updatingEpoch marker does not exist in 3.8.0 (it has currentEpoch.tmp instead)"))
	}
	return errors.Join(errs...)
}

func faultRunnable(f *sim.Fault) error {
	switch f.Kind {
	case sim.FaultStart, sim.FaultCrash, sim.FaultPause:
		return nil
	case sim.FaultRestart:
		if f.Disk != nil {
			if err := diskRunnable(*f.Disk); err != nil {
				return fmt.Errorf("replaced disk: %w", err)
			}
		}
		return nil
	case sim.FaultRefuseConnect:
		if f.At != 0 || f.Heal != 0 {
			return fmt.Errorf("a refusal from %v until %v: only a refusal for the whole run (at 0, no heal) can be made, by a wrong port in the learners' zoo.cfg; changing it mid-run would need a restart", time.Duration(f.At), time.Duration(f.Heal))
		}
		return nil
	case sim.FaultPartition:
		// Each server in a network namespace of the run's own, a hub dropping the cut packets.
		if err := networkAvailable(); err != nil {
			return fmt.Errorf("a partition needs network namespaces made by the run, which this machine does not allow: %w", err)
		}
		return nil
	case sim.FaultCrashPoint:
		return errors.New("a crash at a chosen durable write cannot be placed in a real process (it would need instrumenting ZooKeeper's writes)")
	case sim.FaultDiskWrite:
		return errors.New("a failing durable write cannot be injected into a real process (it would need a faulty filesystem)")
	}
	return fmt.Errorf("unknown fault kind %q", f.Kind)
}
