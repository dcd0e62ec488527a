package realzk

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"zabsim/protocol"
	"zabsim/sim"
)

// Paths of Debian's ZooKeeper 3.8.0 (package zookeeper / libzookeeper-java).
const (
	ZooKeeperJar = "/usr/share/java/zookeeper.jar"
	// The jar's manifest lists slf4j-api without a binding; these two give it log4j 1.2.
	Slf4jLog4jJar = "/usr/share/java/slf4j-log4j12.jar"
	Log4jJar      = "/usr/share/java/log4j-1.2.jar"
)

// DefaultClassPath runs QuorumPeerMain with log4j 1.2 behind slf4j. /etc/zookeeper/conf is left
// out on purpose: its log4j.properties must not compete with each server's own.
var DefaultClassPath = strings.Join([]string{ZooKeeperJar, Slf4jLog4jJar, Log4jJar}, ":")

// Available reports why a real ensemble cannot be started on this machine (nil if it can): the
// jars of Debian's zookeeper package and a java binary (java "" looks it up on PATH).
func Available(java string) error {
	for _, f := range []string{ZooKeeperJar, Slf4jLog4jJar, Log4jJar} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%s is missing (apt-get install -y zookeeper): %w", f, err)
		}
	}
	if _, err := findJava(java); err != nil {
		return err
	}
	return nil
}

// member is one server of the ensemble as this package runs it.
type member struct {
	id       int
	observer bool
	dir      string // s<id>/
	dataDir  string
	host     string // 127.0.0.1, or its own address in the run's network (partitions)
	client   int    // ports, on host
	quorum   int
	election int
}

// log4jProperties raises exactly the loggers whose lines mark the protocol steps (see parse.go)
// and writes ISO8601 timestamps, in milliseconds, to the file named by -Dzk.log.
const log4jProperties = `# written by zabsim/realzk
log4j.rootLogger=INFO, F
log4j.appender.F=org.apache.log4j.FileAppender
log4j.appender.F.File=${zk.log}
log4j.appender.F.Append=true
log4j.appender.F.ImmediateFlush=true
log4j.appender.F.layout=org.apache.log4j.PatternLayout
log4j.appender.F.layout.ConversionPattern=%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n
log4j.logger.org.apache.zookeeper.server.quorum.FastLeaderElection=DEBUG
log4j.logger.org.apache.zookeeper.server.quorum.Leader=DEBUG
log4j.logger.org.apache.zookeeper.server.quorum.LearnerHandler=DEBUG
log4j.logger.org.apache.zookeeper.server.quorum.QuorumPeer=DEBUG
log4j.logger.org.apache.zookeeper.server.quorum.Observer=DEBUG
log4j.logger.org.apache.zookeeper.server.quorum.Learner=TRACE
log4j.logger.org.apache.zookeeper.util.CircularBlockingQueue=DEBUG
`

// refusals returns, per learner, the targets whose learner port its zoo.cfg gets wrong.
func refusals(spec *sim.RunSpec) map[int][]int {
	out := map[int][]int{}
	for _, f := range spec.Faults {
		if f.Kind != sim.FaultRefuseConnect {
			continue
		}
		for _, s := range spec.Config.Servers {
			if s.ID == f.Server || (len(f.Peers) > 0 && !slices.Contains(f.Peers, s.ID)) {
				continue
			}
			if !slices.Contains(out[int(s.ID)], int(f.Server)) {
				out[int(s.ID)] = append(out[int(s.ID)], int(f.Server))
			}
		}
	}
	return out
}

// zooCfg is server self's zoo.cfg. wrong maps a target sid to the port self's view names for
// its learner port (a refused connect); every other line is the same for every server.
func zooCfg(c *protocol.Config, members []*member, self *member, wrong map[int]int) string {
	var b strings.Builder
	w := func(k string, v any) { fmt.Fprintf(&b, "%s=%v\n", k, v) }
	b.WriteString("# written by zabsim/realzk\n")
	w("tickTime", c.TickTime.Milliseconds())
	w("initLimit", c.InitLimit)
	w("syncLimit", c.SyncLimit)
	if c.ConnectToLearnerMasterLimit > 0 {
		w("connectToLearnerMasterLimit", c.ConnectToLearnerMasterLimit)
	}
	w("dataDir", self.dataDir)
	w("clientPort", self.client)
	w("clientPortAddress", self.host)
	w("admin.enableServer", "false")
	w("4lw.commands.whitelist", "srvr")
	// A single voter runs as a quorum peer too, as the model's does.
	w("standaloneEnabled", "false")
	w("reconfigEnabled", "false")
	w("quorumListenOnAllIPs", "false")
	if self.observer {
		w("peerType", "observer")
	}
	for _, m := range members {
		q := m.quorum
		if p, ok := wrong[m.id]; ok {
			q = p
		}
		line := fmt.Sprintf("%s:%d:%d", m.host, q, m.election)
		if m.observer {
			line += ":observer"
		}
		w("server."+strconv.Itoa(m.id), line)
	}
	return b.String()
}

// jvmProps are the system properties that carry the rest of the configuration.
func jvmProps(c *protocol.Config) []string {
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	props := []string{
		"-Duser.timezone=UTC",
		"-Djava.net.preferIPv4Stack=true",
		// No JMX beyond the in-process platform MBean server (3.8.0 has no switch for that;
		// it opens no port without -Dcom.sun.management.jmxremote.port, never given here).
		"-Dzookeeper.jmx.log4j.disable=true",
		"-Dzookeeper.admin.enableServer=false",
		"-Dzookeeper.fastleader.minNotificationInterval=" + ms(c.Election.MinNotificationInterval),
		"-Dzookeeper.fastleader.maxNotificationInterval=" + ms(c.Election.MaxNotificationInterval),
		"-Dzookeeper.leaderConnectDelayDuringRetryMs=" + ms(c.LeaderConnectDelayDuringRetry),
		"-Dzookeeper.observer.election.DelayMs=" + ms(c.ObserverElectionDelay),
		"-Dzookeeper.commitLogCount=" + strconv.Itoa(c.CommitLogCount),
	}
	if c.MaxTimeToWaitForEpoch > 0 {
		props = append(props, "-Dzookeeper.leader.maxTimeToWaitForEpoch="+ms(c.MaxTimeToWaitForEpoch))
	} else {
		props = append(props, "-Dzookeeper.leader.maxTimeToWaitForEpoch=-1")
	}
	if c.SnapCount > 0 {
		props = append(props, "-Dzookeeper.snapCount="+strconv.Itoa(c.SnapCount))
	}
	switch f := c.SnapshotSizeFactor; {
	case f < 0:
		props = append(props, "-Dzookeeper.snapshotSizeFactor=-1")
	case f > 0:
		props = append(props, "-Dzookeeper.snapshotSizeFactor="+strconv.FormatFloat(float64(f)/1000, 'f', -1, 64))
	}
	return props
}

// writeDisk empties dataDir/version-2, copies in the txn logs and snapshot in folder history
// ("" for none: d has no txns), and writes the epoch files of d (-1: no file), as
// QuorumPeer.writeLongToFile does: the decimal value, no newline.
func writeDisk(dataDir string, d protocol.Disk, history string) error {
	v2 := filepath.Join(dataDir, "version-2")
	if err := os.RemoveAll(v2); err != nil {
		return err
	}
	if err := os.MkdirAll(v2, 0o755); err != nil {
		return err
	}
	if history != "" {
		if err := copyHistory(history, v2); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		v    protocol.Epoch
	}{{"acceptedEpoch", d.AcceptedEpoch}, {"currentEpoch", d.CurrentEpoch}, {"currentEpoch.tmp", d.CurrentEpochTmp}} {
		if f.v < 0 {
			continue
		}
		if err := os.WriteFile(filepath.Join(v2, f.name), []byte(strconv.FormatInt(int64(f.v), 10)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// readEpoch reads an epoch file; -1 when it is missing or unreadable.
func readEpoch(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return -1
	}
	return v
}

// reservePorts binds n distinct free TCP ports on 127.0.0.1 and returns them with their
// sockets, still bound (not listening), for the caller to close. The ports are below the
// kernel's ephemeral range, so that no outgoing connection's local port can take one between
// their release and the moment their server binds them (a late start binds seconds after the
// run began).
func reservePorts(n int) (ports, fds []int, err error) {
	defer func() {
		if err != nil {
			for _, fd := range fds {
				syscall.Close(fd)
			}
			ports, fds = nil, nil
		}
	}()
	lo, hi := 10000, ephemeralLow()
	if hi-lo < 1000 {
		lo, hi = 1024, 0 // no room below the ephemeral range: let the kernel choose
	}
	for try := 0; len(ports) < n; try++ {
		port := 0
		if hi > 0 {
			if try >= hi-lo {
				return nil, fds, fmt.Errorf("no %d free ports in %d..%d on 127.0.0.1", n, lo, hi-1)
			}
			port = lo + (try+int(rand.Uint32()%uint32(hi-lo)))%(hi-lo)
		}
		fd, got, err := bindPort(port)
		if err != nil {
			if port != 0 {
				continue // taken
			}
			return nil, fds, err
		}
		fds = append(fds, fd)
		ports = append(ports, got)
	}
	return ports, fds, nil
}

// ephemeralLow is the first port of /proc/sys/net/ipv4/ip_local_port_range (32768 if unknown).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	v, err := strconv.Atoi(f[0])
	if err != nil || v <= 1024 {
		return 32768
	}
	return v
}

// bindPort binds a TCP socket, without listening; while it stays open, a connect to the port
// is refused at once (RST) and no other process can take the port. It binds 127.0.0.1:port
// (0: a port the kernel chooses).
func bindPort(port int) (fd, got int, err error) {
	fd, err = syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, 0, fmt.Errorf("socket: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		return -1, 0, fmt.Errorf("bind 127.0.0.1:%d: %w", port, err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return -1, 0, fmt.Errorf("getsockname: %w", err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		syscall.Close(fd)
		return -1, 0, fmt.Errorf("getsockname: not IPv4")
	}
	return fd, in4.Port, nil
}
