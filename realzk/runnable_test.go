package realzk

import (
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zabsim/protocol"
	"zabsim/scenarios"
	"zabsim/sim"
)

func TestRunnable(t *testing.T) {
	ok := []*sim.RunSpec{
		scenarios.Cluster(3, 0).StopWhenStable().Spec("cold", 1),
		scenarios.Cluster(3, 1).StartAt(3, 5*time.Second).Spec("late", 1),
		scenarios.Cluster(3, 0).Crash(3, 5*time.Second).Restart(3, 8*time.Second).Spec("crash", 1),
		scenarios.Cluster(3, 0).Crash(1, 3*time.Second).RestartWithDisk(1, 4*time.Second, protocol.Disk{AcceptedEpoch: 0, CurrentEpoch: 1, CurrentEpochTmp: -1}).Spec("disk", 1),
		scenarios.Cluster(3, 0).Disk(1, 7, 0).Spec("epochs", 1),
		scenarios.Cluster(3, 0).Pause(3, time.Second, 4*time.Second).Spec("pause", 1),
		scenarios.Cluster(3, 0).RefuseConnect(3, 0, 0, 1).Spec("refuse", 1),
		scenarios.Cluster(3, 0).Knob("CountObservers").Spec("knob", 1),
		scenarios.Cluster(3, 0).Disk(1, 1, 1, protocol.MakeZxid(1, 1)).Spec("history", 1),
	}
	for _, s := range ok {
		require.NoError(t, Runnable(s), s.Scenario)
	}
	no := []struct {
		spec *sim.RunSpec
		why  string
	}{
		{scenarios.AssignedCluster(3, 0).Spec("assigned", 1), "assigned roles"},
		{scenarios.Cluster(3, 0).Disk(1, 1, 1, protocol.MakeZxid(1, 1)).Disk(2, 2, 2, protocol.MakeZxid(2, 1)).Spec("forked", 1), "diverge"},
		{scenarios.Cluster(3, 0).Writes(1, time.Second).Spec("writes", 1), "client writes"},
		{scenarios.Cluster(3, 0).CrashPoint(1, 0, protocol.WriteAcceptedEpoch, 1, sim.CrashAfter).Spec("crash-point", 1), "crash at a chosen durable write"},
		{scenarios.Cluster(3, 0).DiskFault(1, 0, protocol.WriteAcceptedEpoch, 1).Spec("disk-write", 1), "failing durable write"},
		{scenarios.Cluster(3, 0).RefuseConnect(3, 0, 10*time.Second, 1).Spec("refuse-healed", 1), "only a refusal for the whole run"},
		{scenarios.Cluster(3, 0).RefuseConnect(3, time.Second, 0).Spec("refuse-late", 1), "only a refusal for the whole run"},
		{scenarios.Cluster(3, 0).SelfRegisterDelay(5*time.Millisecond).Spec("self-register", 1), "leaderSelfRegisterDelay"},
		{scenarios.Cluster(3, 0).LeaderThreadDelay(5*time.Millisecond).Spec("thread", 1), "leaderThreadDelay"},
		{scenarios.Cluster(3, 0).Timers(1500*time.Microsecond, 10, 5).Spec("tick", 1), "whole number of milliseconds"},
		{scenarios.Cluster(3, 0).Until(20*time.Millisecond).Spec("short", 1), "the run ends at 20ms"},
	}
	for _, c := range no {
		err := Runnable(c.spec)
		require.Error(t, err, c.spec.Scenario)
		require.Contains(t, err.Error(), c.why, c.spec.Scenario)
	}
	// A partition needs the run's own network namespaces.
	part := scenarios.Cluster(3, 0).Partition(time.Second, 2*time.Second, []protocol.ServerID{1}, []protocol.ServerID{2, 3}).Spec("partition", 1)
	if why := networkAvailable(); why != nil {
		require.ErrorContains(t, Runnable(part), "a partition needs network namespaces made by the run")
	} else {
		require.NoError(t, Runnable(part))
	}
	fw := scenarios.Cluster(3, 0).Spec("finalize", 1)
	fw.Config.Election.FinalizeWait = 100 * time.Millisecond
	require.ErrorContains(t, Runnable(fw), "finalizeWait 100ms")
	loss := scenarios.Cluster(3, 0).Spec("loss", 1)
	loss.Options.MessageLossProbability = sim.Ratio{Num: 1, Den: 100}
	require.ErrorContains(t, Runnable(loss), "message loss")
	upd := scenarios.Cluster(3, 0).RawDisk(1, protocol.Disk{AcceptedEpoch: 1, CurrentEpoch: 1, CurrentEpochTmp: -1, UpdatingEpoch: true}).Spec("marker", 1)
	require.ErrorContains(t, Runnable(upd), "updatingEpoch")
	bad := scenarios.Cluster(3, 0).Until(0).Spec("bad", 1)
	require.ErrorContains(t, Runnable(bad), "invalid run spec")
}

// TestRunnableCatalogue lists which catalogue scenarios a real ensemble can run (seed 1), and
// checks that every refusal names its reason.
func TestRunnableCatalogue(t *testing.T) {
	var yes []string
	for _, sc := range scenarios.All() {
		err := Runnable(sc.Build(1))
		if err == nil {
			yes = append(yes, sc.Name)
			continue
		}
		require.NotEmpty(t, err.Error())
		t.Logf("%-45s not runnable: %s", sc.Name, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	t.Logf("runnable (%d of %d): %s", len(yes), len(scenarios.All()), strings.Join(yes, ", "))
	require.NotEmpty(t, yes)
}

func TestSchedule(t *testing.T) {
	spec := scenarios.Cluster(3, 0).StartAt(3, 5*time.Second).StartAt(2, time.Hour).
		Crash(1, 2*time.Second).Restart(1, 2100*time.Millisecond).
		Pause(3, 6*time.Second, 7*time.Second).Until(30*time.Second).Spec("s", 1)
	got := func(lead time.Duration) []string {
		var out []string
		for _, a := range schedule(spec, lead) {
			out = append(out, a.kind+" "+string(rune('0'+a.server))+" "+a.at.String())
		}
		return out
	}
	require.Equal(t, []string{
		"launch 1 0s", "kill 1 2s", "launch 1 2.1s", "launch 3 5s", "pause 3 6s", "resume 3 7s",
	}, got(0), "server 2 starts after Until: never")
	require.Equal(t, []string{
		"launch 1 -1s", "kill 1 2s", "launch 1 2s", "launch 3 4s", "pause 3 6s", "resume 3 7s",
	}, got(time.Second), "with Lead, launches are early, a restart never before its crash")
}

func TestZooCfg(t *testing.T) {
	spec := scenarios.Cluster(3, 1).RefuseConnect(3, 0, 0, 1).Timers(500*time.Millisecond, 4, 2).Spec("cfg", 1)
	spec.Config.ConnectToLearnerMasterLimit = 3
	var ms []*member
	for i, sc := range spec.Config.Servers {
		ms = append(ms, &member{id: int(sc.ID), observer: sc.Type == protocol.OBSERVER, dataDir: "/d" + string(rune('1'+i)),
			host: "127.0.0.1", client: 1000 + i, quorum: 2000 + i, election: 3000 + i})
	}
	ref := refusals(spec)
	require.Equal(t, map[int][]int{1: {3}}, ref, "only the listed learner gets the wrong port")
	cfg1 := zooCfg(&spec.Config, ms, ms[0], map[int]int{3: 9999})
	cfg2 := zooCfg(&spec.Config, ms, ms[1], nil)
	cfg4 := zooCfg(&spec.Config, ms, ms[3], nil)
	for _, want := range []string{"tickTime=500\n", "initLimit=4\n", "syncLimit=2\n", "connectToLearnerMasterLimit=3\n",
		"dataDir=/d1\n", "clientPort=1000\n", "clientPortAddress=127.0.0.1\n", "admin.enableServer=false\n",
		"4lw.commands.whitelist=srvr\n", "server.1=127.0.0.1:2000:3000\n", "server.3=127.0.0.1:9999:3002\n",
		"server.4=127.0.0.1:2003:3003:observer\n"} {
		require.Contains(t, cfg1, want)
	}
	require.Contains(t, cfg2, "server.3=127.0.0.1:2002:3002\n")
	require.NotContains(t, cfg1, "peerType")
	require.Contains(t, cfg4, "peerType=observer\n")
	props := strings.Join(jvmProps(&spec.Config), " ")
	for _, want := range []string{"-Duser.timezone=UTC", "-Dzookeeper.jmx.log4j.disable=true", "-Dzookeeper.fastleader.minNotificationInterval=200",
		"-Dzookeeper.fastleader.maxNotificationInterval=60000", "-Dzookeeper.leaderConnectDelayDuringRetryMs=100",
		"-Dzookeeper.observer.election.DelayMs=200", "-Dzookeeper.leader.maxTimeToWaitForEpoch=-1"} {
		require.Contains(t, props, want)
	}
	require.NotContains(t, props, "jmxremote")
}

func TestWriteDisk(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, writeDisk(dir, protocol.Disk{AcceptedEpoch: 7, CurrentEpoch: 5, CurrentEpochTmp: 6}, ""))
	require.EqualValues(t, 7, readEpoch(dir+"/version-2/acceptedEpoch"))
	require.EqualValues(t, 5, readEpoch(dir+"/version-2/currentEpoch"))
	require.EqualValues(t, 6, readEpoch(dir+"/version-2/currentEpoch.tmp"))
	require.NoError(t, writeDisk(dir, protocol.NewDisk(), ""))
	require.EqualValues(t, -1, readEpoch(dir+"/version-2/acceptedEpoch"), "a fresh disk has no epoch files")
	require.EqualValues(t, -1, readEpoch(dir+"/version-2/currentEpoch.tmp"))
}

func TestReservePorts(t *testing.T) {
	ports, fds, err := reservePorts(12)
	require.NoError(t, err)
	defer func() {
		for _, fd := range fds {
			syscall.Close(fd)
		}
	}()
	require.Len(t, fds, 12)
	seen := map[int]bool{}
	for _, p := range ports {
		require.False(t, seen[p], "distinct")
		seen[p] = true
		require.Less(t, p, ephemeralLow(), "below the ephemeral range")
		require.GreaterOrEqual(t, p, 1024)
	}
	// A bound, not listening port refuses a connect at once: what a refused learner meets.
	_, err = net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])), time.Second)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
}

// Txn histories a one-voter ensemble can write: prefixes of one history, numbered from 1 in
// each epoch, no snapshot.
func TestHistoryRunnable(t *testing.T) {
	z := protocol.MakeZxid
	disk := func(zs ...protocol.Zxid) protocol.Disk {
		return protocol.Disk{AcceptedEpoch: 1, CurrentEpoch: 1, CurrentEpochTmp: -1, Txns: protocol.TxnsOf(zs...)}
	}
	require.NoError(t, historyRunnable(nil))
	require.NoError(t, historyRunnable([]protocol.Disk{disk(), disk(z(1, 1)), disk(z(1, 1), z(1, 2), z(3, 1)), disk(z(1, 1), z(1, 2))}),
		"prefixes, across epochs, in any order")
	for _, c := range []struct {
		disks []protocol.Disk
		why   string
	}{
		{[]protocol.Disk{disk(z(1, 1), z(1, 2)), disk(z(1, 1), z(2, 1))}, "histories [0x100000001 0x200000001] and [0x100000001 0x100000002] diverge"},
		{[]protocol.Disk{disk(z(1, 2))}, "numbered from 0x100000001 up without gaps"},
		{[]protocol.Disk{disk(z(1, 1), z(1, 3))}, "txn 0x100000003"},
		{[]protocol.Disk{disk(z(0, 1))}, "in epoch 0"},
	} {
		require.ErrorContains(t, historyRunnable(c.disks), c.why)
	}
	snap := disk(z(1, 1))
	snap.SnapshotZxid = z(1, 1)
	require.ErrorContains(t, diskRunnable(snap), "a snapshot labelled 0x100000001")
	// A replaced disk counts: its history must fit the others too.
	spec := scenarios.Cluster(3, 0).Disk(1, 1, 1, z(1, 1), z(1, 2)).Crash(2, time.Second).
		RestartWithDisk(2, 2*time.Second, disk(z(1, 1), z(1, 3))).Spec("replaced", 1)
	require.ErrorContains(t, Runnable(spec), "diverge")
}

// The pairs a partition cuts follow the simulator's rule: every pair across groups, one way
// only from the first group to the second.
func TestCutPairs(t *testing.T) {
	ids := func(v ...protocol.ServerID) []protocol.ServerID { return v }
	two := sim.Fault{Kind: sim.FaultPartition, Groups: [][]protocol.ServerID{ids(1), ids(2, 3)}}
	require.Equal(t, [][2]int{{1, 2}, {1, 3}, {2, 1}, {3, 1}}, cutPairs(&two))
	two.OneWay = true
	require.Equal(t, [][2]int{{1, 2}, {1, 3}}, cutPairs(&two))
	three := sim.Fault{Kind: sim.FaultPartition, Groups: [][]protocol.ServerID{ids(1), ids(2), ids(3)}}
	require.Len(t, cutPairs(&three), 6)
	require.Equal(t, 0, cutPort(&three))
	three.Port = sim.PortLearner
	require.Equal(t, nsQuorumPort, cutPort(&three))
	three.Port = sim.PortElection
	require.Equal(t, nsElectionPort, cutPort(&three))
}
