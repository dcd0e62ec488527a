package realzk

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"zabsim/protocol"
	"zabsim/sim"
)

// Options configure a real run. The zero value is usable.
type Options struct {
	// Dir is where the run's folder (realzk-*) is made; "" is os.TempDir(). The folder holds
	// every server's zoo.cfg, data dir and logs. It is removed after a successful run unless
	// Keep, and kept (and named in the error) when Run fails.
	Dir string
	// Java is the java binary; "" looks up "java" on PATH.
	Java string
	// ClassPath overrides DefaultClassPath.
	ClassPath string
	// JavaArgs are added to every JVM's command line before the main class.
	JavaArgs []string
	// Timeout bounds the whole run, from the call of Run to the last process reaped; 0 is
	// 3 minutes. A run that reaches it is cut: its processes are killed and the result says
	// Cut (it is not an error).
	Timeout time.Duration
	// Keep keeps the run's folder after a successful run too.
	Keep bool
	// Lead launches every JVM this long before its scenario time, so that its "New election"
	// falls near that time (a JVM spends 0.6-3 s before it). 0, the default, launches each at
	// its scenario time. A restart is launched Lead early too, but never before the crash
	// that precedes it.
	Lead time.Duration
	// StartSlack is added to spec.Until for the latest end of the run (the JVMs' start-up
	// delays the protocol by that much); 0 is 5 s.
	StartSlack time.Duration
	// Hold is how long the ensemble must stay stable, after the last scheduled action, before
	// the run ends (a resumed process's late timers fire within a tick); 0 is tickTime.
	Hold time.Duration
	// Settle bounds how long the run goes on after the last scheduled action when the
	// ensemble does not become stable; 0 is initLimit*tickTime + 10 s (time for an activation
	// wait to time out and a new round to follow).
	Settle time.Duration
	// Progress, when not nil, receives one line per action and at the end.
	Progress io.Writer
}

const (
	defaultTimeout    = 3 * time.Minute
	defaultStartSlack = 5 * time.Second
	pollEvery         = 50 * time.Millisecond
	srvrTimeout       = time.Second
	reapTimeout       = 10 * time.Second
)

// Result is what a real run did.
type Result struct {
	// Dir is the run's folder when it was kept, else "".
	Dir string
	// Zero is the wall-clock time of the scenario's time 0 (with Lead 0: the moment the first
	// JVM was launched). Every At is from here.
	Zero time.Time
	// End is when the run was stopped (its processes killed), from Zero.
	End time.Duration
	// Stable: the run ended because, after the last scheduled action, every running server
	// was synced to one established leader (its log and its srvr answer say so).
	Stable bool
	// Cut: Options.Timeout ended the run before it ended on its own.
	Cut bool
	// Servers is every server of the configuration, in its order.
	Servers []ServerResult
	// Established lists, in time order, every "Have quorum of supporters" a leader logged.
	Established []Ensemble
	// Syncs lists every sync a learner received (or, when its log shows none, the leader
	// sent), in time order.
	Syncs []Sync
}

// Ensemble is one leader that reached a quorum of NEWLEADER acks.
type Ensemble struct {
	Leader int
	// Epoch is the high 32 bits of the zxid the leader starts from.
	Epoch      int64
	Supporters []int
	At         time.Duration
}

// Sync is one synchronization of a learner by a leader.
type Sync struct {
	Leader, Learner int
	// Epoch is the epoch of the LEADERINFO the learner read before it (on the leader's side
	// only: the epoch of the leader's next have-quorum, 0 if none).
	Epoch int64
	// Mode is DIFF, TRUNC or SNAP; "TRUNC|DIFF" when only the leader's ambiguous line
	// (KindSyncTruncOrDiff) shows it.
	Mode string
	Zxid int64
	At   time.Duration
}

// ServerResult is one server's run.
type ServerResult struct {
	ID       int
	Observer bool
	// AcceptedEpoch and CurrentEpoch are read from the data dir's version-2 files after the
	// processes are stopped; -1 when the file does not exist.
	AcceptedEpoch, CurrentEpoch int64
	// Mode is what srvr answered just before the end: leader, follower or observer;
	// "not-serving" when the process ran but did not serve (LOOKING, or syncing); "" when
	// it was down (never started, crashed, exited) or paused.
	Mode string
	// Zxid is srvr's Zxid; -1 when it did not answer.
	Zxid int64
	// Running: the process was alive at the end.
	Running bool
	// Launches are the times the process was started; Elections the times of every
	// "New election" line (the start of each FLE round). Spans are best measured from an
	// election, since a JVM's start-up takes 0.6-3 s.
	Launches  []time.Duration
	Elections []time.Duration
	// Steps are the parsed protocol steps and this package's actions, in time order.
	Steps []Step
	// Dir is the server's folder inside the run's folder; ClientPort, QuorumPort and
	// ElectionPort its ports on Host: 127.0.0.1, or with partitions its own address in the
	// run's network namespaces (reachable only from inside them).
	Dir                                  string
	Host                                 string
	ClientPort, QuorumPort, ElectionPort int
}

// FirstElection is the time of the server's first "New election", -1 if it never logged one.
func (s *ServerResult) FirstElection() time.Duration {
	if len(s.Elections) == 0 {
		return -1
	}
	return s.Elections[0]
}

// StepsOf returns the server's steps of the given kinds.
func (s *ServerResult) StepsOf(kinds ...string) []Step {
	var out []Step
	for _, st := range s.Steps {
		if slices.Contains(kinds, st.Kind) {
			out = append(out, st)
		}
	}
	return out
}

// Server returns the result of server id, nil if there is none.
func (r *Result) Server(id int) *ServerResult {
	for i := range r.Servers {
		if r.Servers[i].ID == id {
			return &r.Servers[i]
		}
	}
	return nil
}

func findJava(java string) (string, error) {
	if java == "" {
		java = "java"
	}
	p, err := exec.LookPath(java)
	if err != nil {
		return "", fmt.Errorf("no java binary (%s): %w", java, err)
	}
	return p, nil
}

// action is one thing to do to a process at a scenario time.
type action struct {
	at     time.Duration // scenario time it is due (Lead already taken off launches)
	kind   string        // KindLaunch, KindKill, KindPause, KindResume
	server int
	disk   *protocol.Disk // a launch from a replaced disk
	why    string
	until  time.Duration // pause: its heal
	fault  int           // cut, heal: the partition's index in spec.Faults
	order  int
}

// schedule turns the spec's start and faults into process actions, in time order.
func schedule(spec *sim.RunSpec, lead time.Duration) []action {
	until := time.Duration(spec.Until)
	late := map[int]time.Duration{}
	for _, f := range spec.Faults {
		if f.Kind == sim.FaultStart {
			if _, ok := late[int(f.Server)]; !ok {
				late[int(f.Server)] = time.Duration(f.At)
			}
		}
	}
	var acts []action
	add := func(a action) {
		a.order = len(acts)
		acts = append(acts, a)
	}
	for _, s := range spec.Config.Servers {
		id := int(s.ID)
		t, isLate := late[id]
		if t > until {
			continue // never starts in this run
		}
		why := "start"
		if isLate {
			why = "late start"
		}
		add(action{at: t - lead, kind: KindLaunch, server: id, why: why})
	}
	// Faults in time order (ties: spec order), so a restart can be held after its crash.
	order := make([]int, len(spec.Faults))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(spec.Faults[a].At - spec.Faults[b].At) })
	lastCrash := map[int]time.Duration{}
	for _, fi := range order {
		f := spec.Faults[fi]
		t, id := time.Duration(f.At), int(f.Server)
		if t > until {
			continue
		}
		switch f.Kind {
		case sim.FaultCrash:
			add(action{at: t, kind: KindKill, server: id, why: "crash"})
			lastCrash[id] = t
		case sim.FaultRestart:
			at := t - lead
			if c, ok := lastCrash[id]; ok && at < c {
				at = c
			}
			why := "restart"
			if f.Disk != nil {
				why = "restart from a replaced disk"
			}
			add(action{at: at, kind: KindLaunch, server: id, disk: f.Disk, why: why})
		case sim.FaultPartition:
			add(action{at: t, kind: KindCut, fault: fi, why: "partition"})
			if h := time.Duration(f.Heal); f.Heal != 0 && h <= until {
				add(action{at: h, kind: KindHealed, fault: fi, why: "partition heals"})
			}
		case sim.FaultPause:
			add(action{at: t, kind: KindPause, server: id, why: "pause", until: time.Duration(f.Heal)})
			if h := time.Duration(f.Heal); h <= until {
				add(action{at: h, kind: KindResume, server: id, why: "pause ends"})
			}
		}
	}
	slices.SortStableFunc(acts, func(a, b action) int {
		if a.at != b.at {
			return int(a.at - b.at)
		}
		return a.order - b.order
	})
	return acts
}

// startProc starts cmd in dir with a minimal environment, its output to out, as its own
// process group that dies with this process; out is closed once the process is reaped.
func startProc(cmd *exec.Cmd, dir string, out *os.File) (*proc, error) {
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "TZ=UTC", "LC_ALL=C", "HOME=" + dir}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("starting java: %w", err)
	}
	p := &proc{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{}), out: out}
	go func() {
		p.err = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	return p, nil
}

// proc is one process of a server.
type proc struct {
	cmd  *exec.Cmd
	pid  int
	life int
	done chan struct{} // closed when reaped
	err  error         // Wait's error, set before done closes
	out  *os.File
}

// srv is one server during the run.
type srv struct {
	member
	cfg, log4j string
	life       int
	proc       *proc // the live process, nil when down
	paused     bool
	pauseUntil time.Duration
	logs       []string // log file per life
	actions    []Step
	// live view, from tailing the current log
	tail tailer
	view view
}

// view is what the server's current log says it is doing now.
type view struct {
	role     string // "", LEADING, FOLLOWING, OBSERVING
	leader   int
	quorum   bool // leader: have-quorum since its decision
	uptodate bool // learner: UPTODATE since its decision
}

func (v *view) apply(st Step) {
	switch st.Kind {
	case KindLooking, KindNewElection, KindLeaderShutdown, KindLearnerException:
		*v = view{}
	case KindDecided:
		*v = view{role: st.Detail, leader: st.Peer}
	case KindHaveQuorum:
		v.quorum = true
	case KindUptodate:
		if st.Side == "learner" {
			v.uptodate = true
		}
	}
}

// tailer reads a growing log file line by line.
type tailer struct {
	path    string
	off     int64
	partial []byte
	p       *Parser
}

func (t *tailer) poll(fn func(Step)) {
	if t.path == "" {
		return
	}
	f, err := os.Open(t.path)
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.Seek(t.off, io.SeekStart); err != nil {
		return
	}
	buf, err := io.ReadAll(io.LimitReader(f, 16<<20))
	if err != nil || len(buf) == 0 {
		return
	}
	t.off += int64(len(buf))
	data := append(t.partial, buf...)
	i := bytes.LastIndexByte(data, '\n')
	if i < 0 {
		t.partial = data
		return
	}
	t.partial = append([]byte(nil), data[i+1:]...)
	for _, line := range strings.Split(string(data[:i]), "\n") {
		for _, st := range t.p.Line(line) {
			fn(st)
		}
	}
}

// runner is one run in progress.
type runner struct {
	spec    *sim.RunSpec
	opt     Options
	java    string
	cp      string
	dir     string
	zero    time.Time
	servers []*srv
	wrong   []int      // fds of the bound sockets behind the wrong ports
	net     *network   // the run's own network namespaces, when it has partitions
	mu      sync.Mutex // guards Progress writes
}

func (r *runner) progress(format string, args ...any) {
	if r.opt.Progress == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.opt.Progress, "realzk %8.3fs "+format+"\n", append([]any{time.Since(r.zero).Seconds()}, args...)...)
}

func (r *runner) server(id int) *srv {
	for _, s := range r.servers {
		if s.id == id {
			return s
		}
	}
	return nil
}

// Run runs spec on a real ZooKeeper 3.8.0 ensemble on 127.0.0.1 and returns what its logs and
// disks show. It refuses a spec Runnable refuses. Every process it starts is its own process
// group, killed (SIGKILL, by group id) and reaped before Run returns, on errors and panics
// too; a process outlives Run only if Run's own process dies, and then PR_SET_PDEATHSIG kills
// it.
//
// Time 0 of the scenario is the moment the JVMs of the servers that start at 0 are launched
// (with Options.Lead, Lead after that). Every fault is applied at its scenario time on the wall
// clock from there: a late start launches the JVM then, a crash SIGKILLs it, a restart
// launches a new one (from a replaced disk: version-2 emptied and the epoch files written
// first), a pause SIGSTOPs and its heal SIGCONTs it. Since a JVM spends 0.6-3 s before its
// first "New election", the protocol runs that much behind the scenario's clock; each
// server's Elections say when its rounds began.
//
// The run ends, after the last scheduled action, once it has been stable for Hold (every
// running server's log shows it synced to one leader that logged "Have quorum of supporters";
// srvr then confirms it), whether or not spec.StopWhenStable; otherwise Settle after the last
// action, and at the latest at spec.Until + StartSlack; Timeout cuts it.
func Run(ctx context.Context, spec *sim.RunSpec, opt Options) (res *Result, err error) {
	started := time.Now()
	if err := Runnable(spec); err != nil {
		return nil, fmt.Errorf("realzk: not runnable: %w", err)
	}
	java, err := findJava(opt.Java)
	if err != nil {
		return nil, fmt.Errorf("realzk: %w", err)
	}
	if opt.ClassPath == "" {
		if err := Available(java); err != nil {
			return nil, fmt.Errorf("realzk: %w", err)
		}
		opt.ClassPath = DefaultClassPath
	}
	if opt.Timeout <= 0 {
		opt.Timeout = defaultTimeout
	}
	if opt.StartSlack <= 0 {
		opt.StartSlack = defaultStartSlack
	}
	if opt.Hold <= 0 {
		opt.Hold = spec.Config.TickTime
	}
	if opt.Settle <= 0 {
		opt.Settle = spec.Config.InitLimitTime() + 10*time.Second
	}
	dir, err := os.MkdirTemp(opt.Dir, "realzk-")
	if err != nil {
		return nil, fmt.Errorf("realzk: %w", err)
	}
	r := &runner{spec: spec, opt: opt, java: java, cp: opt.ClassPath, dir: dir}
	panicking := true
	defer func() {
		// Whatever happened, no process of ours survives Run.
		kerr := r.stopAll()
		for _, fd := range r.wrong {
			syscall.Close(fd)
		}
		if panicking {
			fmt.Fprintf(os.Stderr, "realzk: panic during a run; its processes are stopped, its logs and data kept in %s\n", dir)
			return
		}
		if err == nil && kerr != nil {
			err = kerr
		}
		if err != nil {
			res = nil
			err = fmt.Errorf("realzk: %w (logs and data kept in %s)", err, dir)
			return
		}
		if opt.Keep {
			res.Dir = dir
			return
		}
		os.RemoveAll(dir)
	}()
	res, err = r.prepareAndRun(ctx, started.Add(opt.Timeout))
	panicking = false
	return res, err
}

func (r *runner) prepareAndRun(ctx context.Context, deadline time.Time) (*Result, error) {
	r.zero = time.Now() // for progress lines until time 0 is set
	if err := r.buildHistories(ctx, deadline); err != nil {
		return nil, err
	}
	if err := r.prepare(); err != nil {
		return nil, err
	}
	return r.run(ctx, deadline)
}

// prepare makes every server's folder, config and initial disk.
func (r *runner) prepare() error {
	spec := r.spec
	n := len(spec.Config.Servers)
	// Each refused target gets one port nobody listens on, held for the run.
	ref := refusals(spec)
	var targets []int
	for _, sc := range spec.Config.Servers {
		for _, ts := range ref {
			if slices.Contains(ts, int(sc.ID)) && !slices.Contains(targets, int(sc.ID)) {
				targets = append(targets, int(sc.ID))
			}
		}
	}
	var members []*member
	wrongPort := map[int]int{}
	if hasPartitions(spec) {
		// Each server in a network namespace of its own, with its own address: ZooKeeper's
		// usual ports for all (below the ephemeral range, which a port-restricted cut must
		// not match on the connecting side), and a wrong learner port nobody listens on there.
		var ids []int
		for _, sc := range spec.Config.Servers {
			ids = append(ids, int(sc.ID))
		}
		nw, err := newNetwork(ids)
		if err != nil {
			return err
		}
		r.net = nw
		for _, t := range targets {
			wrongPort[t] = nsWrongPort
		}
		for _, sc := range spec.Config.Servers {
			d := filepath.Join(r.dir, fmt.Sprintf("s%d", sc.ID))
			members = append(members, &member{id: int(sc.ID), observer: sc.Type == protocol.OBSERVER, dir: d, dataDir: filepath.Join(d, "data"),
				host: nw.addr(int(sc.ID)), client: nsClientPort, quorum: nsQuorumPort, election: nsElectionPort})
		}
	} else {
		ports, fds, err := reservePorts(3*n + len(targets))
		if err != nil {
			return err
		}
		// The servers' ports are released now (they bind them when they start); the wrong
		// ones stay bound.
		for _, fd := range fds[:3*n] {
			syscall.Close(fd)
		}
		r.wrong = fds[3*n:]
		for i, t := range targets {
			wrongPort[t] = ports[3*n+i]
		}
		for i, sc := range spec.Config.Servers {
			d := filepath.Join(r.dir, fmt.Sprintf("s%d", sc.ID))
			members = append(members, &member{id: int(sc.ID), observer: sc.Type == protocol.OBSERVER, dir: d, dataDir: filepath.Join(d, "data"),
				host: "127.0.0.1", client: ports[3*i], quorum: ports[3*i+1], election: ports[3*i+2]})
		}
	}
	for _, m := range members {
		if err := os.MkdirAll(filepath.Join(m.dir, "log"), 0o755); err != nil {
			return err
		}
		if err := os.MkdirAll(m.dataDir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(m.dataDir, "myid"), []byte(strconv.Itoa(m.id)+"\n"), 0o644); err != nil {
			return err
		}
		if err := r.writeDisk(m.dataDir, spec.DiskOf(protocol.ServerID(m.id))); err != nil {
			return err
		}
		wrong := map[int]int{}
		for _, t := range ref[m.id] {
			wrong[t] = wrongPort[t]
		}
		s := &srv{member: *m, cfg: filepath.Join(m.dir, "zoo.cfg"), log4j: filepath.Join(m.dir, "log4j.properties")}
		if err := os.WriteFile(s.cfg, []byte(zooCfg(&spec.Config, members, m, wrong)), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(s.log4j, []byte(log4jProperties), 0o644); err != nil {
			return err
		}
		r.servers = append(r.servers, s)
	}
	return nil
}

// launch starts server s's next process.
func (r *runner) launch(s *srv, a action) error {
	if s.proc != nil {
		s.actions = append(s.actions, r.actionStep(s, KindLaunch, a.why+": skipped, already running"))
		return nil
	}
	if a.disk != nil {
		if err := r.writeDisk(s.dataDir, *a.disk); err != nil {
			return fmt.Errorf("server %d: replacing the disk: %w", s.id, err)
		}
	}
	s.life++
	logPath := filepath.Join(s.dir, "log", fmt.Sprintf("%d.log", s.life))
	out, err := os.Create(filepath.Join(s.dir, "log", fmt.Sprintf("%d.out", s.life)))
	if err != nil {
		return err
	}
	args := []string{"-Xmx256m", "-XX:-UsePerfData"}
	args = append(args, jvmProps(&r.spec.Config)...)
	args = append(args, "-Dzk.log="+logPath, "-Dlog4j.configuration=file:"+s.log4j)
	args = append(args, r.opt.JavaArgs...)
	args = append(args, "-cp", r.cp, "org.apache.zookeeper.server.quorum.QuorumPeerMain", s.cfg)
	cmd := exec.Command(r.java, args...)
	if r.net != nil {
		cmd = r.net.command(s.id, r.java, args...) // nsenter execs java: the pid is java's
	}
	s.logs = append(s.logs, logPath)
	s.tail = tailer{path: logPath, p: NewParser(r.zero, s.life)}
	s.view = view{}
	p, err := startProc(cmd, s.dir, out)
	if err != nil {
		return fmt.Errorf("server %d: %w", s.id, err)
	}
	p.life = s.life
	s.proc, s.paused = p, false
	s.actions = append(s.actions, r.actionStep(s, KindLaunch, fmt.Sprintf("%s: pid %d", a.why, p.pid)))
	r.progress("server %d: %s (pid %d, life %d)", s.id, a.why, p.pid, s.life)
	return nil
}

func (r *runner) actionStep(s *srv, kind, what string) Step {
	return Step{At: time.Since(r.zero), Kind: kind, Life: s.life, Line: "realzk: " + what}
}

// signal sends sig to s's process group (the group is the JVM, made with Setpgid).
func (s *srv) signal(sig syscall.Signal) error {
	if s.proc == nil {
		return nil
	}
	select {
	case <-s.proc.done:
		return nil
	default:
	}
	if err := syscall.Kill(-s.proc.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("server %d: kill -%d -%d: %w", s.id, sig, s.proc.pid, err)
	}
	return nil
}

// kill SIGKILLs s's process and waits until it is reaped.
func (r *runner) kill(s *srv) error {
	p := s.proc
	if p == nil {
		return nil
	}
	if err := s.signal(syscall.SIGKILL); err != nil {
		return err
	}
	select {
	case <-p.done:
	case <-time.After(reapTimeout):
		return fmt.Errorf("server %d: pid %d not reaped %v after SIGKILL", s.id, p.pid, reapTimeout)
	}
	s.proc, s.paused = nil, false
	r.pollLog(s)
	return nil
}

// stopAll kills every process still running, all at once, and reaps them.
func (r *runner) stopAll() error {
	var errs []error
	for _, s := range r.servers {
		if err := s.signal(syscall.SIGKILL); err != nil {
			errs = append(errs, err)
		}
	}
	for _, s := range r.servers {
		if err := r.kill(s); err != nil {
			errs = append(errs, err)
		}
	}
	if r.net != nil {
		// After the JVMs: a live process keeps its namespace.
		if err := r.net.close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *runner) do(a action) error {
	s := r.server(a.server)
	if s == nil && a.kind != KindCut && a.kind != KindHealed {
		return nil
	}
	switch a.kind {
	case KindCut, KindHealed:
		return r.partition(a)
	case KindLaunch:
		return r.launch(s, a)
	case KindKill:
		if s.proc == nil {
			s.actions = append(s.actions, r.actionStep(s, KindKill, a.why+": skipped, not running"))
			return nil
		}
		pid := s.proc.pid
		st := r.actionStep(s, KindKill, fmt.Sprintf("%s: SIGKILL pid %d", a.why, pid))
		if err := r.kill(s); err != nil {
			return err
		}
		s.actions = append(s.actions, st)
		r.progress("server %d: %s (SIGKILL pid %d)", s.id, a.why, pid)
	case KindPause:
		if s.proc == nil {
			s.actions = append(s.actions, r.actionStep(s, KindPause, a.why+": skipped, not running"))
			return nil
		}
		s.pauseUntil = max(s.pauseUntil, a.until)
		if s.paused {
			return nil
		}
		r.pollLog(s)
		if err := s.signal(syscall.SIGSTOP); err != nil {
			return err
		}
		s.paused = true
		s.actions = append(s.actions, r.actionStep(s, KindPause, fmt.Sprintf("SIGSTOP pid %d until %v", s.proc.pid, a.until)))
		r.progress("server %d: SIGSTOP pid %d", s.id, s.proc.pid)
	case KindResume:
		if s.proc == nil || !s.paused || a.at < s.pauseUntil {
			return nil
		}
		if err := s.signal(syscall.SIGCONT); err != nil {
			return err
		}
		s.paused = false
		s.actions = append(s.actions, r.actionStep(s, KindResume, fmt.Sprintf("SIGCONT pid %d", s.proc.pid)))
		r.progress("server %d: SIGCONT pid %d", s.id, s.proc.pid)
	}
	return nil
}

func (r *runner) pollLog(s *srv) {
	s.tail.poll(func(st Step) { s.view.apply(st) })
}

// reap notices the processes that ended on their own (not by our SIGKILL, which reaps).
func (r *runner) reap() {
	for _, s := range r.servers {
		p := s.proc
		if p == nil {
			continue
		}
		select {
		case <-p.done:
		default:
			continue
		}
		code := -1
		if p.cmd.ProcessState != nil {
			code = p.cmd.ProcessState.ExitCode()
		}
		r.pollLog(s)
		st := r.actionStep(s, KindExit, fmt.Sprintf("pid %d exited on its own: %v", p.pid, p.err))
		st.Value = int64(code)
		s.actions = append(s.actions, st)
		s.proc, s.paused = nil, false
		r.progress("server %d: pid %d exited (%v)", s.id, p.pid, p.err)
	}
}

// stable reports whether every running server is synced to one established leader, by the
// logs; the leader's id, or 0.
func (r *runner) stable() int {
	leader, running := 0, 0
	for _, s := range r.servers {
		if s.proc == nil {
			continue
		}
		if s.paused {
			return 0
		}
		running++
		if s.view.role == "LEADING" {
			if leader != 0 || !s.view.quorum {
				return 0
			}
			leader = s.id
		}
	}
	if leader == 0 || running == 0 {
		return 0
	}
	for _, s := range r.servers {
		if s.proc == nil || s.id == leader {
			continue
		}
		v := s.view
		if (v.role != "FOLLOWING" && v.role != "OBSERVING") || v.leader != leader || !v.uptodate {
			return 0
		}
	}
	return leader
}

// srvrAll asks every running, unpaused server for srvr, in parallel.
func (r *runner) srvrAll() map[int]srvrAnswer {
	out := map[int]srvrAnswer{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, s := range r.servers {
		if s.proc == nil || s.paused {
			continue
		}
		wg.Add(1)
		go func(s *srv) {
			defer wg.Done()
			a := srvr(r.dialer(s), net.JoinHostPort(s.host, strconv.Itoa(s.client)))
			mu.Lock()
			out[s.id] = a
			mu.Unlock()
		}(s)
	}
	wg.Wait()
	return out
}

// srvrAnswer is the part of a srvr answer this package reads.
type srvrAnswer struct {
	ok   bool   // it answered
	mode string // leader, follower, observer, standalone; "not-serving"
	zxid int64
}

// dialFunc makes a TCP connection to address.
type dialFunc func(address string, timeout time.Duration) (net.Conn, error)

func dialTCP(address string, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", address, timeout)
}

// dialer dials as a process beside server s would: from inside its namespace, if it has one.
func (r *runner) dialer(s *srv) dialFunc {
	if r.net == nil {
		return dialTCP
	}
	return func(address string, timeout time.Duration) (net.Conn, error) {
		return r.net.dial(s.id, address, timeout)
	}
}

// srvr sends the srvr four-letter word to address, up to three times: a busy server now and
// then closes the connection without an answer.
func srvr(dial dialFunc, address string) srvrAnswer {
	var a srvrAnswer
	for try := range 3 {
		if try > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		if a = srvrOnce(dial, address); a.ok {
			break
		}
	}
	return a
}

func srvrOnce(dial dialFunc, address string) srvrAnswer {
	a := srvrAnswer{zxid: -1}
	c, err := dial(address, srvrTimeout)
	if err != nil {
		return a
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(srvrTimeout))
	if _, err := c.Write([]byte("srvr")); err != nil {
		return a
	}
	b, _ := io.ReadAll(io.LimitReader(c, 1<<16))
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Mode: "):
			a.ok, a.mode = true, strings.TrimSpace(strings.TrimPrefix(line, "Mode: "))
		case strings.HasPrefix(line, "Zxid: "):
			a.zxid = hex(strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(line, "Zxid: ")), "0x"))
		case strings.Contains(line, "not currently serving requests"):
			a.ok, a.mode = true, "not-serving"
		}
	}
	return a
}

// run executes the schedule and collects the result.
func (r *runner) run(ctx context.Context, deadline time.Time) (*Result, error) {
	acts := schedule(r.spec, r.opt.Lead)
	var lastAt time.Duration
	for _, a := range acts {
		lastAt = max(lastAt, a.at)
	}
	hardEnd := time.Duration(r.spec.Until) + r.opt.StartSlack
	settleEnd := lastAt + r.opt.Settle
	end := min(hardEnd, settleEnd)
	res := &Result{}
	// Time 0: with Lead, the first launches (at -Lead) are due at once.
	r.zero = time.Now().Add(r.opt.Lead)
	next := 0
	var lastSrvr time.Time
	stableSince, stableLeader := time.Duration(-1), 0
	timer := time.NewTimer(0)
	defer timer.Stop()
loop:
	for {
		now := time.Since(r.zero)
		for next < len(acts) && acts[next].at <= now {
			if err := r.do(acts[next]); err != nil {
				return nil, err
			}
			next++
		}
		r.reap()
		for _, s := range r.servers {
			r.pollLog(s)
		}
		now = time.Since(r.zero)
		if next == len(acts) {
			leader := r.stable()
			if leader == 0 || leader != stableLeader {
				stableSince, stableLeader = now, leader
			}
			if leader != 0 && now-stableSince >= r.opt.Hold && time.Since(lastSrvr) > 200*time.Millisecond {
				lastSrvr = time.Now()
				if r.confirm(leader) {
					res.Stable = true
					r.progress("stable since %.3fs: leader %d", stableSince.Seconds(), leader)
					break loop
				}
			}
			if now >= end {
				r.progress("end: %v after the last action without a stable ensemble", now-lastAt)
				break loop
			}
		}
		if time.Now().After(deadline) {
			res.Cut = true
			r.progress("cut by the timeout")
			break loop
		}
		wait := pollEvery
		if next < len(acts) {
			wait = min(wait, max(0, acts[next].at-time.Since(r.zero)))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
	// The end: every running server's srvr, then stop them all. What the logs show after End
	// is the stop itself (the survivors see the others die) and is left out.
	answers := r.srvrAll()
	res.End = time.Since(r.zero)
	running := map[int]bool{}
	for _, s := range r.servers {
		running[s.id] = s.proc != nil
	}
	if err := r.stopAll(); err != nil {
		return nil, err
	}
	res.Zero = r.zero
	for _, s := range r.servers {
		sr := ServerResult{ID: s.id, Observer: s.observer, Running: running[s.id], Zxid: -1, Dir: s.dir,
			Host: s.host, ClientPort: s.client, QuorumPort: s.quorum, ElectionPort: s.election}
		if a, ok := answers[s.id]; ok && a.ok {
			sr.Mode, sr.Zxid = a.mode, a.zxid
		}
		v2 := filepath.Join(s.dataDir, "version-2")
		sr.AcceptedEpoch, sr.CurrentEpoch = readEpoch(filepath.Join(v2, "acceptedEpoch")), readEpoch(filepath.Join(v2, "currentEpoch"))
		for i, path := range s.logs {
			steps, err := parseFile(path, r.zero, i+1)
			if err != nil {
				return nil, fmt.Errorf("server %d: %w", s.id, err)
			}
			for _, st := range steps {
				if st.At <= res.End {
					sr.Steps = append(sr.Steps, st)
				}
			}
		}
		sr.Steps = append(sr.Steps, s.actions...)
		slices.SortStableFunc(sr.Steps, func(a, b Step) int { return int(a.At - b.At) })
		for _, st := range sr.Steps {
			switch st.Kind {
			case KindLaunch:
				if !strings.Contains(st.Line, "skipped") {
					sr.Launches = append(sr.Launches, st.At)
				}
			case KindNewElection:
				sr.Elections = append(sr.Elections, st.At)
			}
		}
		res.Servers = append(res.Servers, sr)
	}
	res.Established = established(res.Servers)
	res.Syncs = syncs(res.Servers)
	r.progress("done: %d established, stable=%v cut=%v", len(res.Established), res.Stable, res.Cut)
	return res, nil
}

// confirm asks srvr whether the ensemble the logs show is what the servers answer.
func (r *runner) confirm(leader int) bool {
	answers := r.srvrAll()
	for _, s := range r.servers {
		if s.proc == nil {
			continue
		}
		a := answers[s.id]
		want := "follower"
		switch {
		case s.id == leader:
			want = "leader"
		case s.observer:
			want = "observer"
		}
		if !a.ok || a.mode != want {
			return false
		}
	}
	return true
}

func parseFile(path string, zero time.Time, life int) ([]Step, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // the JVM died before log4j made the file
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseLog(f, zero, life)
}

// established collects every have-quorum, in time order.
func established(servers []ServerResult) []Ensemble {
	var out []Ensemble
	for _, s := range servers {
		for _, st := range s.Steps {
			if st.Kind == KindHaveQuorum {
				out = append(out, Ensemble{Leader: s.ID, Epoch: st.Epoch, Supporters: st.Sids, At: st.At})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Ensemble) int { return int(a.At - b.At) })
	return out
}

// syncs collects every sync: what each learner read, and the leader's sends no learner's log
// shows (the learner died, say).
func syncs(servers []ServerResult) []Sync {
	var out []Sync
	mode := map[string]string{KindSyncDiff: "DIFF", KindSyncTrunc: "TRUNC", KindSyncSnap: "SNAP", KindSyncTruncOrDiff: "TRUNC|DIFF"}
	type key struct{ leader, learner int }
	got := map[key][]time.Duration{}
	for _, s := range servers {
		var epoch int64
		for _, st := range s.Steps {
			switch {
			case st.Kind == KindLeaderInfo:
				epoch = st.Epoch
			case st.Side == "learner" && mode[st.Kind] != "":
				out = append(out, Sync{Leader: st.Peer, Learner: s.ID, Epoch: epoch, Mode: mode[st.Kind], Zxid: st.Zxid, At: st.At})
				got[key{st.Peer, s.ID}] = append(got[key{st.Peer, s.ID}], st.At)
			}
		}
	}
	for _, s := range servers {
		for i, st := range s.Steps {
			if st.Side != "leader" || mode[st.Kind] == "" {
				continue
			}
			seen := slices.ContainsFunc(got[key{s.ID, st.Peer}], func(t time.Duration) bool {
				return t >= st.At-50*time.Millisecond && t <= st.At+5*time.Second
			})
			if seen {
				continue
			}
			var epoch int64
			for _, later := range s.Steps[i:] {
				if later.Kind == KindHaveQuorum && later.Life == st.Life {
					epoch = later.Epoch
					break
				}
			}
			out = append(out, Sync{Leader: s.ID, Learner: st.Peer, Epoch: epoch, Mode: mode[st.Kind], Zxid: st.Zxid, At: st.At})
		}
	}
	slices.SortStableFunc(out, func(a, b Sync) int { return int(a.At - b.At) })
	return out
}
