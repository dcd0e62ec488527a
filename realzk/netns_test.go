package realzk

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// hang is how long a dial during a cut must go on without an answer.
const hang = 300 * time.Millisecond

// testNetwork makes a network of ids for one test, or skips the test where this machine
// cannot make network namespaces.
func testNetwork(t *testing.T, ids ...int) *network {
	t.Helper()
	if err := networkAvailable(); err != nil {
		t.Skipf("no network namespaces here: %v", err)
	}
	n, err := newNetwork(ids)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, n.close()) })
	return n
}

// listenIn listens on id's address:port inside id's namespace; accepted connections come on
// the channel.
func listenIn(t *testing.T, n *network, id, port int) chan net.Conn {
	t.Helper()
	var l net.Listener
	require.NoError(t, n.do(id, func() (err error) {
		l, err = net.Listen("tcp", hostPort(n, id, port))
		return err
	}))
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		l.Close()
		for {
			select {
			case c := <-accepted:
				c.Close()
			default:
				return
			}
		}
	})
	return accepted
}

func hostPort(n *network, id, port int) string {
	return net.JoinHostPort(n.addr(id), strconv.Itoa(port))
}

// connect dials to:port from from and returns both ends.
func connect(t *testing.T, n *network, accepted chan net.Conn, from, to, port int) (client, server net.Conn) {
	t.Helper()
	c, err := n.dial(from, hostPort(n, to, port), 2*time.Second)
	require.NoError(t, err, "dial %d→%d:%d", from, to, port)
	t.Cleanup(func() { c.Close() })
	select {
	case s := <-accepted:
		return c, s
	case <-time.After(2 * time.Second):
		t.Fatalf("%d→%d:%d: connected but not accepted", from, to, port)
	}
	return nil, nil
}

// hangs checks that a dial from→to:port neither connects nor fails within hang: its SYNs
// (or SYN-ACKs) are lost, nothing refuses it. Each of dials is a {from, to, port}; they run
// at the same time.
func hangs(t *testing.T, n *network, dials ...[3]int) {
	t.Helper()
	errs := make(chan error, len(dials))
	for _, d := range dials {
		go func(from, to, port int) {
			start := time.Now()
			c, err := n.dial(from, hostPort(n, to, port), hang)
			took := time.Since(start)
			var ne net.Error
			switch {
			case err == nil:
				c.Close()
				err = fmt.Errorf("dial %d→%d:%d connected during the cut", from, to, port)
			case !errors.As(err, &ne) || !ne.Timeout():
				err = fmt.Errorf("dial %d→%d:%d: want a timeout, got %w", from, to, port, err)
			case took < hang-20*time.Millisecond:
				err = fmt.Errorf("dial %d→%d:%d ended after %v: %w", from, to, port, took, err)
			default:
				err = nil
			}
			errs <- err
		}(d[0], d[1], d[2])
	}
	for range dials {
		require.NoError(t, <-errs)
	}
}

// arrivals reads c in the background and sends each read's text with its time.
type arrival struct {
	text string
	at   time.Time
}

func arrivals(c net.Conn) chan arrival {
	ch := make(chan arrival, 16)
	go func() {
		defer close(ch)
		buf := make([]byte, 256)
		for {
			k, err := c.Read(buf)
			if k > 0 {
				ch <- arrival{string(buf[:k]), time.Now()}
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	_, err := c.Write([]byte(s))
	require.NoError(t, err)
}

func expect(t *testing.T, ch chan arrival, want string, within time.Duration) arrival {
	t.Helper()
	select {
	case a, ok := <-ch:
		require.True(t, ok, "connection ended, want %q", want)
		require.Equal(t, want, a.text)
		return a
	case <-time.After(within):
		t.Fatalf("%q did not arrive within %v", want, within)
	}
	return arrival{}
}

func expectNothing(t *testing.T, ch chan arrival) {
	t.Helper()
	select {
	case a := <-ch:
		t.Fatalf("%q arrived during the cut", a.text)
	default:
	}
}

func hubRules(t *testing.T, n *network) int {
	t.Helper()
	out, err := n.run(n.hubPath(), "", n.ip, "rule", "show")
	require.NoError(t, err)
	return strings.Count(string(out), "blackhole")
}

// A two-way cut: connects hang, what an established connection sends is held and arrives
// after the heal.
func TestNetnsCutHoldsAndHeals(t *testing.T) {
	t.Parallel()
	n := testNetwork(t, 1, 2)
	acc2, acc1 := listenIn(t, n, 2, 2888), listenIn(t, n, 1, 2888)
	c, s := connect(t, n, acc2, 1, 2, 2888)
	atServer, atClient := arrivals(s), arrivals(c)
	write(t, c, "before")
	expect(t, atServer, "before", time.Second)

	require.NoError(t, n.cut(1, 2, 0))
	require.NoError(t, n.cut(2, 1, 0))
	cutAt := time.Now()
	write(t, c, "held")
	write(t, s, "held back")
	hangs(t, n, [3]int{1, 2, 2888}, [3]int{2, 1, 2888})
	expectNothing(t, atServer)
	expectNothing(t, atClient)

	require.NoError(t, n.heal(1, 2, 0))
	require.NoError(t, n.heal(2, 1, 0))
	healed := time.Now()
	a := expect(t, atServer, "held", 3*time.Second)
	b := expect(t, atClient, "held back", 3*time.Second)
	t.Logf("after a %v cut, held data arrived %v and %v after the heal", healed.Sub(cutAt).Round(time.Millisecond),
		a.at.Sub(healed).Round(time.Millisecond), b.at.Sub(healed).Round(time.Millisecond))
	connect(t, n, acc2, 1, 2, 2888)
	connect(t, n, acc1, 2, 1, 2888)
}

// A one-way cut 1→2: what 2 sends still reaches 1, what 1 sends is held. A new connection
// either way hangs, as TCP's handshake needs both directions.
func TestNetnsOneWay(t *testing.T) {
	t.Parallel()
	n := testNetwork(t, 1, 2)
	acc2, acc1 := listenIn(t, n, 2, 3888), listenIn(t, n, 1, 3888)
	c, s := connect(t, n, acc2, 1, 2, 3888)
	atServer, atClient := arrivals(s), arrivals(c)

	require.NoError(t, n.cut(1, 2, 0))
	write(t, c, "up")
	write(t, s, "down")
	expect(t, atClient, "down", time.Second)
	hangs(t, n, [3]int{1, 2, 3888}, [3]int{2, 1, 3888})
	expectNothing(t, atServer)

	require.NoError(t, n.heal(1, 2, 0))
	expect(t, atServer, "up", 3*time.Second)
	connect(t, n, acc2, 1, 2, 3888)
	connect(t, n, acc1, 2, 1, 3888)
}

// A cut of one port (both ways, as a learner partition with the same quorum port on every
// server) leaves another port's connections, new and established, working.
func TestNetnsPortCut(t *testing.T) {
	t.Parallel()
	n := testNetwork(t, 1, 2)
	q2, e2 := listenIn(t, n, 2, 2888), listenIn(t, n, 2, 3888)
	q1, e1 := listenIn(t, n, 1, 2888), listenIn(t, n, 1, 3888)
	qc, qs := connect(t, n, q2, 1, 2, 2888)
	ec, es := connect(t, n, e2, 1, 2, 3888)
	atQ, atE, atEc := arrivals(qs), arrivals(es), arrivals(ec)

	require.NoError(t, n.cut(1, 2, 2888))
	require.NoError(t, n.cut(2, 1, 2888))
	write(t, qc, "learner")
	write(t, ec, "election")
	write(t, es, "election back")
	expect(t, atE, "election", time.Second)
	expect(t, atEc, "election back", time.Second)
	connect(t, n, e2, 1, 2, 3888)
	connect(t, n, e1, 2, 1, 3888)
	hangs(t, n, [3]int{1, 2, 2888}, [3]int{2, 1, 2888})
	expectNothing(t, atQ)

	require.NoError(t, n.heal(1, 2, 2888))
	require.NoError(t, n.heal(2, 1, 2888))
	expect(t, atQ, "learner", 3*time.Second)
	connect(t, n, q2, 1, 2, 2888)
	connect(t, n, q1, 2, 1, 2888)

	// One way only, 1→2 on 2888: it drops 1's segments to 2:2888 (destination port) and 1's
	// answers from its own 2888 to 2 (source port), so both connects hang.
	require.NoError(t, n.cut(1, 2, 2888))
	hangs(t, n, [3]int{1, 2, 2888}, [3]int{2, 1, 2888})
	connect(t, n, e1, 2, 1, 3888)
	require.NoError(t, n.heal(1, 2, 2888))
}

// Cuts are counted: the rules go with the last heal. Bad arguments are refused.
func TestNetnsCutCounted(t *testing.T) {
	t.Parallel()
	n := testNetwork(t, 1, 2, 3)
	require.Equal(t, 0, hubRules(t, n))
	require.NoError(t, n.cut(1, 2, 0))
	require.NoError(t, n.cut(1, 2, 0))
	require.NoError(t, n.cut(1, 2, 2888))
	require.NoError(t, n.cut(3, 1, 3888))
	require.Equal(t, 1+2+2, hubRules(t, n))
	require.NoError(t, n.heal(1, 2, 0))
	require.Equal(t, 5, hubRules(t, n))
	hangs(t, n, [3]int{1, 2, 2888})
	require.NoError(t, n.heal(1, 2, 0))
	require.NoError(t, n.heal(1, 2, 2888))
	require.NoError(t, n.heal(3, 1, 3888))
	require.Equal(t, 0, hubRules(t, n))
	connect(t, n, listenIn(t, n, 2, 2888), 1, 2, 2888)

	require.Error(t, n.heal(1, 2, 0), "a heal without its cut")
	require.Error(t, n.cut(1, 1, 0))
	require.Error(t, n.cut(1, 4, 0))
	require.Error(t, n.cut(1, 2, 70000))
	_, err := newNetwork([]int{0})
	require.Error(t, err)
	_, err = newNetwork([]int{1, 1})
	require.Error(t, err)
}

// A command started with network.command runs in the server's namespace with the pid that
// Start returned; the namespaces have lo and no route out; close kills and reaps the holders.
func TestNetnsCommandAndClose(t *testing.T) {
	t.Parallel()
	if err := networkAvailable(); err != nil {
		t.Skipf("no network namespaces here: %v", err)
	}
	n, err := newNetwork([]int{1, 2})
	require.NoError(t, err)
	defer n.close()

	sleep, err := exec.LookPath("sleep")
	require.NoError(t, err)
	cmd := n.command(1, sleep, "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	want, err := os.Readlink(n.netnsPath(1))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		return err == nil && filepath.Base(exe) == "sleep"
	}, 2*time.Second, 5*time.Millisecond, "nsenter did not become sleep in the same process")
	ns, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/net")
	require.NoError(t, err)
	require.Equal(t, want, ns)
	self, err := os.Readlink("/proc/self/ns/net")
	require.NoError(t, err)
	require.NotEqual(t, self, ns)
	require.NoError(t, syscall.Kill(-pid, syscall.SIGKILL))
	require.Error(t, cmd.Wait())

	// 127.0.0.1 inside a server's namespace is its own.
	var l net.Listener
	require.NoError(t, n.do(2, func() (err error) { l, err = net.Listen("tcp", "127.0.0.1:2181"); return err }))
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := n.dial(2, "127.0.0.1:2181", time.Second)
	require.NoError(t, err)
	c.Close()
	_, err = n.dial(2, "localhost:2181", time.Second)
	require.Error(t, err, "a name would be looked up outside the namespace")
	// No route leaves the 10.213/16 network (checked by a route lookup: no packet is sent).
	out, err := n.run(n.netnsPath(1), "", n.ip, "route", "get", "192.0.2.1")
	require.Error(t, err)
	require.Contains(t, string(out), "unreachable")

	holders := []*exec.Cmd{n.hub, n.holders[1], n.holders[2]}
	require.NoError(t, n.close())
	require.NoError(t, n.close())
	for _, h := range holders {
		require.NotNil(t, h.ProcessState, "holder %d not reaped", h.Process.Pid)
		require.ErrorIs(t, syscall.Kill(h.Process.Pid, 0), syscall.ESRCH, "holder %d still there", h.Process.Pid)
	}
	require.Error(t, n.cut(1, 2, 0))
	require.Equal(t, "", n.netnsPath(3))
}
