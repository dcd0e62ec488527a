// Package realzk runs a zabsim scenario (a sim.RunSpec) on a real Apache ZooKeeper 3.8.0
// ensemble (Debian's zookeeper package) on 127.0.0.1 and reports what happened, parsed from the
// servers' logs and data dirs: the real half of a comparison with the simulator.
//
// # What a run is
//
// Run makes a folder (Options.Dir/realzk-*) with one sub-folder per server: zoo.cfg, myid,
// log4j.properties, the data dir and one log file per process (log/1.log, 2.log after a
// restart). Every server binds 127.0.0.1 only, on free ports; the admin server is off, no JMX
// port is opened (-Dzookeeper.jmx.log4j.disable=true; 3.8.0 has no switch for its in-process
// MBeans, which open nothing), only the srvr four-letter word is enabled. JVMs run with
// -Xmx256m -Duser.timezone=UTC, a minimal environment, each in its own process group, killed by
// group id (SIGKILL) and reaped before Run returns, whatever happens.
//
// The scenario's configuration maps onto zoo.cfg (tickTime, initLimit, syncLimit,
// connectToLearnerMasterLimit, server.N lines with :observer, peerType) and onto system
// properties (zookeeper.fastleader.minNotificationInterval / maxNotificationInterval,
// zookeeper.leaderConnectDelayDuringRetryMs, zookeeper.observer.election.DelayMs,
// zookeeper.leader.maxTimeToWaitForEpoch, zookeeper.commitLogCount, zookeeper.snapCount,
// zookeeper.snapshotSizeFactor). finalizeWait is a constant 200 ms in 3.8.0. Runnable says what
// cannot be run, and why.
//
// # Txn histories
//
// A disk that holds txns (sim.RunSpec's initial disks and replaced disks) is made by real
// writes before time 0: see history.go. Every such history must be a prefix of the longest,
// numbered from 1 within each epoch, with no snapshot; historyRunnable says why not otherwise.
//
// # Time
//
// Time 0 is the moment the JVMs of the servers that start at 0 are launched (with
// Options.Lead > 0: Lead after that, every launch being Lead early). Faults happen at their
// scenario times on the wall clock from there. A JVM takes 0.6-3 s (on a cold page cache; about
// 0.3 s warm) before its first "New election", so the protocol runs that much behind the
// scenario's clock, and not by the same amount on every server: compare spans measured from a
// server's own "New election" (ServerResult.Elections, Result.Spans), not from time 0. Step
// times are log4j's, in milliseconds, from the same system clock.
//
// # The end of a run
//
// After the last scheduled action the run ends as soon as it has been stable for Options.Hold
// (a tickTime): every running server's log shows it synced to one leader that logged
// "Have quorum of supporters" (followers and observers read UPTODATE), and srvr agrees. A run
// that does not get there ends Options.Settle after the last action, at spec.Until +
// Options.StartSlack at the latest, and Options.Timeout cuts it. The final srvr answers are
// taken, then every process is killed; what the logs show after that moment (the survivors
// seeing the others die) is left out.
//
// # What the logs say
//
// ParseLog (and Parser, line by line) turns a log into Steps with the log lines of the table
// in docs/real-zookeeper.md: election rounds and decisions, each activation message on the
// leader's and on the learner's side (Step.Side), the sync mode, the quorum of NEWLEADER acks,
// the timeouts and refusals that end a role, and the load of a data dir that was refused.
// testdata/ holds excerpts of real logs this package produced, and the tests pin their parse.
package realzk
