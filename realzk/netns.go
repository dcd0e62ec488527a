package realzk

// Network namespaces, so that partitions can be made between real servers.
//
// The simulator's partition (sim/network.go) holds what one server sends to another while it
// lasts, as a network that loses packets does under TCP: nothing is refused, a connect hangs
// while its SYNs are lost, and what an established connection sends gets through, by TCP's
// retransmissions, after the heal. So a cut here is a silent drop of IPv4 packets, per
// (sender, receiver) pair and optionally per TCP port, in a network that no other process
// uses: each server gets its own network namespace, with one veth link to a hub namespace
// that routes between them. Nothing is made in, or changed in, the namespace this process
// runs in.
//
// Why a routing hub and policy rules, and not a bridge with a packet filter:
//   - This kernel has no tc drop action (CONFIG_NET_ACT_GACT and CONFIG_NET_CLS_FLOWER are
//     off; `tc filter ... action drop` fails with "Failed to load TC action module"), and
//     neither iptables nor nft is installed: a filter would need a package.
//   - A blackhole route or rule in the sender's own namespace fails the sender's send at once
//     (EINVAL), and REJECT or unreachable answer with an error: none of these is a lost packet.
//   - A packet that the hub forwards is looked up in the hub's policy rules packet by packet,
//     and an `ip rule ... blackhole` there drops it silently (the forwarding path frees it
//     without an ICMP error, ip_error with EINVAL). The sender's kernel saw its packet go out,
//     so its TCP behaves exactly as with a lossy network: retransmission timers, no error.
//     `ip rule` matches ipproto, sport and dport (kernel 4.17+, iproute2 4.17+), which gives
//     the port-restricted cuts. It needs only iproute2 and util-linux (nsenter), no package.
//
// Addresses: server id has 10.213.<id>.2/24 on its eth0, the hub 10.213.<id>.1 on its end
// (s<id>) of that link; a server's only route beyond its link is 10.213.0.0/16 via the hub, so
// anything else (a DNS query, say) fails at once with ENETUNREACH inside the server's own
// namespace and goes nowhere. Each namespace has lo up, so 127.0.0.1 works inside it.
//
// Lifetimes: each namespace is held by a `sleep infinity` made with CLONE_NEWNET and
// Pdeathsig SIGKILL, a child of this process that is reaped only by close. Until then its pid
// cannot be reused, so /proc/<pid>/ns/net names that namespace or, if the holder died, names
// nothing (it is a zombie whose ns links cannot be opened): it never falls back to another
// namespace. A namespace ends when its holder and every process inside it are gone, and the
// veth links and rules with it; a java still running in a server's namespace keeps that one
// alive until it dies.

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// network is the run's own set of network namespaces: one per server, joined by veth links to
// a hub namespace that routes between them and drops what a cut cuts.
type network struct {
	ip, nsenter string // resolved paths of the tools
	hub         *exec.Cmd
	holders     map[int]*exec.Cmd // server id -> holder of its namespace

	mu     sync.Mutex
	cuts   map[cutKey]*cutRules
	prefs  map[int]bool // ip rule priorities in use in the hub
	closed bool
}

// cutKey names one cut: what from sends to to, on port (0: all of it).
type cutKey struct{ from, to, port int }

// cutRules is one cut's rules in the hub, shared by the callers that made the same cut.
type cutRules struct {
	refs  int
	prefs []int
}

const (
	netPrefix = "10.213." // 10.213.<id>.2 is server id, 10.213.<id>.1 the hub's end of its link
	// firstPref is the first ip rule priority a cut takes: before the "lookup main" rule (32766).
	firstPref = 1000
	lastPref  = 32000
)

// netnsTools finds ip and nsenter, also where PATH lacks /usr/sbin.
func netnsTools() (ip, nsenter string, err error) {
	find := func(name string, dirs ...string) (string, error) {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
		for _, d := range dirs {
			p := d + "/" + name
			if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return p, nil
			}
		}
		return "", fmt.Errorf("%s not found (in PATH or %s)", name, strings.Join(dirs, ", "))
	}
	if ip, err = find("ip", "/usr/sbin", "/sbin", "/usr/bin", "/bin"); err != nil {
		return "", "", fmt.Errorf("%w: it is in Debian's iproute2", err)
	}
	if nsenter, err = find("nsenter", "/usr/bin", "/bin", "/usr/sbin", "/sbin"); err != nil {
		return "", "", fmt.Errorf("%w: it is in Debian's util-linux", err)
	}
	return ip, nsenter, nil
}

var networkProbe = sync.OnceValue(func() error {
	if runtime.GOOS != "linux" {
		return errors.New("network namespaces need Linux")
	}
	if setnsTrap() == 0 {
		return fmt.Errorf("setns: syscall number unknown on %s", runtime.GOARCH)
	}
	n, err := newNetwork([]int{1, 2})
	if err != nil {
		return err
	}
	err = n.cut(1, 2, 0)
	if err == nil {
		err = n.heal(1, 2, 0)
	}
	return errors.Join(err, n.close())
})

// networkAvailable returns nil if this machine lets a run make its network namespaces (root,
// or CAP_SYS_ADMIN and CAP_NET_ADMIN; iproute2 and nsenter), else the reason. It makes a
// network of two servers, cuts and heals it and closes it (some 30 ms), once per process.
func networkAvailable() error { return networkProbe() }

// tcpTuning is written into each server's namespace's own TCP settings (they are per
// namespace), so that TCP over a cut behaves more like the simulator's partition, which
// delivers what it held at the heal and never gives up on a connection by itself:
//
//   - tcp_rto_max_ms=1000 (kernel 6.15+, skipped where it is missing) caps the retransmission
//     backoff at 1 s. Measured here with the default 120 s cap, data written at the start of
//     a cut arrived 0.1-1.3 s after heals of 0.3-2 s cuts, 1.6 s after a 5 s one and 5.4 s
//     after an 8 s one (retransmissions at about 0.2, 0.6, 1.4, 3, 6.2, 12.6 s...); with the
//     1 s cap, 0.1-0.93 s after any heal.
//   - With that cap the default retry counts would end a connection after 15 s of cut
//     (ETIMEDOUT, tcp_retries2=15) and a connect after 7 s (tcp_syn_retries=6), both
//     measured: raised to 255 (a connection with data in flight then lasts 4 min 15 s of cut
//     before ETIMEDOUT, measured) and 127 (the kernel's maximum, some 2 min), so that java's
//     own timeouts decide, as in the simulator; a listener's SYN-ACKs (tcp_synack_retries)
//     likewise.
const tcpTuning = `set -e
cd /proc/sys/net/ipv4
echo 255 > tcp_retries2
echo 127 > tcp_syn_retries
echo 127 > tcp_synack_retries
if [ -e tcp_rto_max_ms ]; then echo 1000 > tcp_rto_max_ms; fi`

// newNetwork makes a namespace for each of ids (1..254), and the hub that joins them. On error
// what was made is closed again, and the error names the failing command and its output.
func newNetwork(ids []int) (_ *network, err error) {
	n := &network{holders: map[int]*exec.Cmd{}, cuts: map[cutKey]*cutRules{}, prefs: map[int]bool{}}
	if n.ip, n.nsenter, err = netnsTools(); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if id < 1 || id > 254 {
			return nil, fmt.Errorf("server id %d: a network namespace needs an id in 1..254 (it is the address's third byte)", id)
		}
		if n.holders[id] != nil {
			return nil, fmt.Errorf("server id %d given twice", id)
		}
		n.holders[id] = nil
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, n.close())
		}
	}()
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{self: true}
	hold := func() (*exec.Cmd, error) {
		cmd := exec.Command("sleep", "infinity")
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("starting a namespace holder (sleep infinity with CLONE_NEWNET): %w", err)
		}
		// A namespace shared with this process or another holder would be a bug that touches
		// what is not ours: refuse to go on.
		ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid))
		if err == nil && seen[ns] {
			err = fmt.Errorf("holder pid %d is in network namespace %s, which is not a new one", cmd.Process.Pid, ns)
		}
		seen[ns] = true
		return cmd, err
	}
	if n.hub, err = hold(); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if n.holders[id], err = hold(); err != nil {
			return nil, err
		}
	}
	// The hub forwards: ip_forward is per namespace, and it is written by a shell that nsenter
	// put in the hub's namespace (nsenter fails rather than run it anywhere else).
	if _, err := n.run(n.hubPath(), "", "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"); err != nil {
		return nil, err
	}
	var hub strings.Builder
	hub.WriteString("link set lo up\n")
	for _, id := range ids {
		// The hub's end gets ifindex 1000+id, never its peer's (eth0 is 2 in a new
		// namespace): the kernel applies a carrier change at once only to a link whose
		// ifindex differs from its peer's (linkwatch_urgent_event), else up to 1 s later.
		fmt.Fprintf(&hub, "link add s%d index %d type veth peer name eth0 netns %d\n", id, 1000+id, n.holders[id].Process.Pid)
		fmt.Fprintf(&hub, "addr add %s%d.1/24 dev s%d\n", netPrefix, id, id)
		fmt.Fprintf(&hub, "link set s%d up\n", id)
	}
	if err := n.ipBatch(n.hubPath(), hub.String()); err != nil {
		return nil, err
	}
	for _, id := range ids {
		cmds := fmt.Sprintf("link set lo up\nlink set eth0 up\naddr add %s/24 dev eth0\nroute add %s0.0/16 via %s%d.1\n",
			n.addr(id), netPrefix, netPrefix, id)
		if err := n.ipBatch(n.netnsPath(id), cmds); err != nil {
			return nil, err
		}
		if _, err := n.run(n.netnsPath(id), "", "sh", "-c", tcpTuning); err != nil {
			return nil, err
		}
	}
	if err := n.waitUp(ids); err != nil {
		return nil, err
	}
	return n, nil
}

// waitUp waits until every link is operationally up at both ends. The kernel gives a veth end
// its real queue when it handles the carrier change (linkwatch, a few ms to some tens after
// `link set up`); until then that end drops what it sends. Without this wait, a dial with a
// 1 s timeout right after setup failed about once in 25 networks here: its SYN-ACK was lost
// and TCP resends one only after 1 s.
func (n *network) waitUp(ids []int) error {
	deadline := time.Now().Add(3 * time.Second)
	for {
		out, err := n.run(n.hubPath(), "", n.ip, "-o", "link", "show")
		if err != nil {
			return err
		}
		down := []string{}
		for _, id := range ids {
			if !linkUp(out, fmt.Sprintf("s%d@", id)) {
				down = append(down, fmt.Sprintf("hub's s%d", id))
			}
			o, err := n.run(n.netnsPath(id), "", n.ip, "-o", "link", "show", "dev", "eth0")
			if err != nil {
				return err
			}
			if !linkUp(o, "eth0@") {
				down = append(down, fmt.Sprintf("server %d's eth0", id))
			}
		}
		if len(down) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("links not up 3 s after setup: %s", strings.Join(down, ", "))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// linkUp reports whether `ip -o link show` output has the link named name (with its "@")
// in state UP.
func linkUp(out []byte, name string) bool {
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 1 && strings.HasPrefix(f[1], name) {
			return strings.Contains(l, " state UP ")
		}
	}
	return false
}

func (n *network) hubPath() string { return fmt.Sprintf("/proc/%d/ns/net", n.hub.Process.Pid) }

// run runs name args inside the namespace at path (by nsenter), with stdin, and returns its
// output; the error names the command and holds its output.
func (n *network) run(path, stdin string, name string, args ...string) ([]byte, error) {
	if !strings.HasPrefix(path, "/proc/") {
		return nil, fmt.Errorf("%s: no namespace to run it in (the network is closed?)", name)
	}
	cmd := exec.Command(n.nsenter, append([]string{"--net=" + path, "--", name}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		what := strings.Join(cmd.Args, " ")
		if stdin != "" {
			what += " <<" + strings.ReplaceAll(strings.TrimSpace(stdin), "\n", "; ")
		}
		return out.Bytes(), fmt.Errorf("`%s`: %w: %s", what, err, strings.TrimSpace(out.String()))
	}
	return out.Bytes(), nil
}

// ipBatch runs ip's commands, one a line, in the namespace at path; ip stops at the first
// that fails and says which.
func (n *network) ipBatch(path, cmds string) error {
	_, err := n.run(path, cmds, n.ip, "-batch", "-")
	return err
}

// addr is server id's IPv4 address, on its eth0 in its namespace.
func (n *network) addr(id int) string { return fmt.Sprintf("%s%d.2", netPrefix, id) }

// netnsPath is /proc/<holder>/ns/net of server id's namespace, or "" for an unknown id.
//
// To run java there and keep java's pid as the process to wait on and signal, launch
// `nsenter --net=PATH -- java args...` (see command): nsenter joins the namespace and execs
// java in the same process (no fork for a network namespace alone), so cmd.Process.Pid is
// java's pid, and Setpgid and Pdeathsig carry over the exec.
func (n *network) netnsPath(id int) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	h := n.holders[id]
	if n.closed || h == nil || h.Process == nil {
		return "" // after close the pid may be another process's
	}
	return fmt.Sprintf("/proc/%d/ns/net", h.Process.Pid)
}

// command is exec.Command(name, args...) run inside server id's namespace by nsenter: the
// process that Start makes is nsenter, which becomes name by exec (same pid). The caller sets
// Dir, Env, SysProcAttr and the rest as usual. name should be an absolute path, as the
// caller's Env does not reach nsenter's own lookup of it.
// For an id not in the network, or after close, Start fails (cmd.Err).
func (n *network) command(id int, name string, args ...string) *exec.Cmd {
	path := n.netnsPath(id)
	cmd := exec.Command(n.nsenter, append([]string{"--net=" + path, "--", name}, args...)...)
	if path == "" {
		cmd.Err = fmt.Errorf("server %d: no such server in the network, or the network is closed", id)
	}
	return cmd
}

// setnsTrap is the setns(2) syscall number, which package syscall does not export on every
// arch (not on amd64), or 0 where it is not known here.
func setnsTrap() uintptr {
	switch runtime.GOARCH {
	case "amd64":
		return 308
	case "386":
		return 346
	case "arm64", "riscv64", "loong64":
		return 268
	case "arm":
		return 375
	case "ppc64", "ppc64le":
		return 350
	case "s390x":
		return 339
	}
	return 0
}

func setns(f *os.File) error {
	if _, _, e := syscall.RawSyscall(setnsTrap(), f.Fd(), syscall.CLONE_NEWNET, 0); e != 0 {
		return e
	}
	return nil
}

// do runs fn on an OS thread that is inside server id's namespace, and waits for it: a socket
// that fn makes (net.Listen, net.Dial of an IP literal: both make theirs on the calling
// thread) stays in that namespace for its whole life, whichever thread uses it later. fn must
// not start goroutines that make sockets, nor look names up (that would run elsewhere). The
// thread moves back before it is unlocked, and is ended with its goroutine if it cannot.
func (n *network) do(id int, fn func() error) error {
	path := n.netnsPath(id)
	if path == "" {
		return fmt.Errorf("server %d: no such server in the network", id)
	}
	if setnsTrap() == 0 {
		return fmt.Errorf("setns: syscall number unknown on %s", runtime.GOARCH)
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		back, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		defer back.Close()
		target, err := os.Open(path)
		if err == nil {
			err = setns(target)
			target.Close()
		}
		if err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("server %d: entering %s: %w", id, path, err)
			return
		}
		err = fn()
		if err2 := setns(back); err2 == nil {
			runtime.UnlockOSThread()
		} // else the thread stays locked, and Go ends it with this goroutine
		done <- err
	}()
	return <-done
}

// dial makes a TCP connection from inside server id's namespace, as a process there would:
// for the srvr four-letter word to a server's client port, say. address must be an IP
// literal with a port, as a name would be looked up outside the namespace.
func (n *network) dial(id int, address string, timeout time.Duration) (net.Conn, error) {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if _, err := netip.ParseAddr(host); err != nil {
		return nil, fmt.Errorf("dial %s from server %d: an IP literal is needed: %w", address, id, err)
	}
	var c net.Conn
	err = n.do(id, func() (err error) {
		c, err = net.DialTimeout("tcp", address, timeout)
		return err
	})
	return c, err
}

// cut starts dropping, silently, IPv4 packets that server from sends to server to, in the hub:
//
//   - port 0: all of them (TCP of every port, ICMP too);
//   - port > 0: only TCP segments whose source port or destination port is port, that is the
//     from→to half of every connection whose server (listening) side is to's port (from's
//     segments carry it as destination) or from's port (as source).
//
// A partition of kind learner between A and B, with the same quorum port Q on every server
// (possible here, as each server has its own address), is cut(A,B,Q) and cut(B,A,Q): both
// halves of A's connections to B:Q and of B's to A:Q. With a port per server it is cut(A,B,QA),
// cut(A,B,QB), cut(B,A,QA), cut(B,A,QB). A one-way partition A→B is the cuts with from=A only;
// note that TCP's handshake needs both ways, so under it B's new connections to A hang too
// (A's SYN-ACKs are lost), while on established ones what B sends still reaches A.
// Server ports should lie outside the namespaces' ephemeral range (32768-60999), or a
// connection whose client side happened to get that port number would match too.
//
// Cuts are counted: cutting the same (from, to, port) again adds a reference, and it holds
// until as many heals. Different cuts of one pair (port 0 and port Q, say) are separate rules
// and each drops what it matches. A cut acts on the next packet, also on established
// connections: nothing in flight is kept elsewhere.
func (n *network) cut(from, to, port int) error {
	if err := n.checkCut(from, to, port); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("cut: the network is closed")
	}
	k := cutKey{from, to, port}
	if r := n.cuts[k]; r != nil {
		r.refs++
		return nil
	}
	sel := fmt.Sprintf("from %s/32 to %s/32", n.addr(from), n.addr(to))
	var sels []string
	if port == 0 {
		sels = []string{sel}
	} else {
		sels = []string{fmt.Sprintf("%s ipproto tcp dport %d", sel, port), fmt.Sprintf("%s ipproto tcp sport %d", sel, port)}
	}
	r := &cutRules{refs: 1}
	var cmds strings.Builder
	for _, s := range sels {
		p, err := n.freePref()
		if err != nil {
			return err
		}
		n.prefs[p] = true
		r.prefs = append(r.prefs, p)
		fmt.Fprintf(&cmds, "rule add pref %d %s blackhole\n", p, s)
	}
	if err := n.ipBatch(n.hubPath(), cmds.String()); err != nil {
		// ip -batch stops at the failing line: take back whatever went in before it.
		n.delRules(r.prefs)
		return fmt.Errorf("cut %d→%d port %d: %w", from, to, port, err)
	}
	n.cuts[k] = r
	return nil
}

// heal undoes one cut(from, to, port); the rules go when its last reference does.
func (n *network) heal(from, to, port int) error {
	if err := n.checkCut(from, to, port); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("heal: the network is closed")
	}
	k := cutKey{from, to, port}
	r := n.cuts[k]
	if r == nil {
		return fmt.Errorf("heal %d→%d port %d: no such cut", from, to, port)
	}
	if r.refs--; r.refs > 0 {
		return nil
	}
	delete(n.cuts, k)
	if err := n.delRules(r.prefs); err != nil {
		return fmt.Errorf("heal %d→%d port %d: %w", from, to, port, err)
	}
	return nil
}

func (n *network) checkCut(from, to, port int) error {
	if n.holders[from] == nil || n.holders[to] == nil || from == to {
		return fmt.Errorf("cut %d→%d: both must be distinct servers of the network", from, to)
	}
	if port < 0 || port > 65535 {
		return fmt.Errorf("cut %d→%d: port %d out of range", from, to, port)
	}
	return nil
}

// delRules deletes the hub's rules of these priorities, each by its own command so that one
// missing (a failed add) does not keep the others.
func (n *network) delRules(prefs []int) error {
	var errs []error
	for _, p := range prefs {
		out, err := n.run(n.hubPath(), "", n.ip, "rule", "del", "pref", strconv.Itoa(p))
		if err != nil && !bytes.Contains(out, []byte("No such file or directory")) {
			errs = append(errs, err)
			continue // keep it marked as taken
		}
		delete(n.prefs, p)
	}
	return errors.Join(errs...)
}

func (n *network) freePref() (int, error) {
	for p := firstPref; p <= lastPref; p++ {
		if !n.prefs[p] {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free ip rule priority in %d..%d", firstPref, lastPref)
}

// close kills the holders (SIGKILL, by pid) and reaps them. The namespaces end with them,
// unless a process the caller started inside one still runs (or a socket made by do is still
// open): that is the caller's to end. After close, netnsPath is "" and cut, heal, do and dial
// fail. It can be called more than once; not while another method is still using a path.
func (n *network) close() error {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	var errs []error
	cmds := []*exec.Cmd{n.hub}
	ids := make([]int, 0, len(n.holders))
	for id := range n.holders {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		cmds = append(cmds, n.holders[id])
	}
	for _, c := range cmds {
		if c == nil || c.Process == nil || c.ProcessState != nil {
			continue
		}
		if err := c.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			errs = append(errs, fmt.Errorf("kill holder pid %d: %w", c.Process.Pid, err))
		}
	}
	for _, c := range cmds {
		if c == nil || c.Process == nil || c.ProcessState != nil {
			continue
		}
		_ = c.Wait() // "signal: killed" is the expected end
	}
	return errors.Join(errs...)
}
