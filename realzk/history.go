package realzk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"zabsim/protocol"
	"zabsim/sim"
)

// A scenario's txn histories are made for real before its own start: a one-voter ensemble
// (QuorumPeerMain, standaloneEnabled=false, so its zxids carry epochs as a quorum's do) takes
// the writes of ZooKeeper's own CLI (ZooKeeperMain reading commands on stdin), and after the
// k-th write the data dir is copied: every disk that holds k txns starts from that copy, with
// its own epoch files written over it. Two settings make the real zxids the scenario's:
//   - localSessionsEnabled: the CLI's session is local, and PrepRequestProcessor gives
//     createSession and closeSession of a local session no zxid (3.8.0's pRequest, "if
//     (!request.isLocalSession())"), so each create is exactly one txn, counters 1, 2, 3...
//   - acceptedEpoch and currentEpoch written as E-1 before the builder starts: its own epoch
//     proposal is lastAcceptedEpoch+1 (Leader.getEpochToPropose), so its first txn is E<<32|1.
//     A history that moves to a later epoch restarts the builder with the files rewritten.
// The builder's own restarts take snapshots (ZooKeeperServer.loadData ends with takeSnapshot);
// the copies keep only snapshot.0, the empty tree, so a load replays every txn from the logs,
// as the scenario's disks (SnapshotZxid 0, LogStart 0) say.

// histories returns every disk the run starts a server from: the initial ones and the ones a
// restart puts in place.
func histories(spec *sim.RunSpec) []protocol.Disk {
	var out []protocol.Disk
	for _, s := range spec.Config.Servers {
		out = append(out, spec.DiskOf(s.ID))
	}
	for _, f := range spec.Faults {
		if f.Kind == sim.FaultRestart && f.Disk != nil {
			out = append(out, *f.Disk)
		}
	}
	return out
}

// historyRunnable says why the disks' txn histories cannot be made by real writes (nil if they
// can): each must be a prefix of one history, whose counters run 1, 2, 3... within each
// epoch, with no snapshot and no purged log.
func historyRunnable(disks []protocol.Disk) error {
	var longest []protocol.Txn
	for _, d := range disks {
		if len(d.Txns) > len(longest) {
			longest = d.Txns
		}
	}
	var errs []error
	for i, t := range longest {
		want := uint32(1)
		if i > 0 && longest[i-1].Zxid.Epoch() == t.Zxid.Epoch() {
			want = longest[i-1].Zxid.Counter() + 1
		}
		if t.Zxid.Epoch() < 1 || t.Zxid.Counter() != want {
			errs = append(errs, fmt.Errorf("txn %s: a real leader's writes in epoch %d are numbered from %#x up without gaps, so this history cannot be written", t.Zxid, t.Zxid.Epoch(), int64(t.Zxid.Epoch())<<32|int64(want)))
			break
		}
	}
	for _, d := range disks {
		if len(d.Txns) == 0 {
			continue
		}
		if n := len(d.Txns); !slices.Equal(protocol.Zxids(d.Txns), protocol.Zxids(longest[:n])) {
			errs = append(errs, fmt.Errorf("histories %s and %s diverge: one builder's writes make only histories that are prefixes of one another", protocol.Zxids(d.Txns), protocol.Zxids(longest)))
			break
		}
	}
	return errors.Join(errs...)
}

// diskFiles is where the copy of the builder's data dir after k writes is kept.
func (r *runner) diskFiles(k int) string {
	return filepath.Join(r.dir, "history", fmt.Sprintf("after-%d", k))
}

// buildHistories writes the longest history of the run's disks on a one-voter ensemble and
// keeps a copy of its data dir after every length some disk needs. It runs before time 0.
func (r *runner) buildHistories(ctx context.Context, deadline time.Time) error {
	disks := histories(r.spec)
	need := map[int]bool{}
	var longest []protocol.Txn
	for _, d := range disks {
		if len(d.Txns) > 0 {
			need[len(d.Txns)] = true
		}
		if len(d.Txns) > len(longest) {
			longest = d.Txns
		}
	}
	if len(longest) == 0 {
		return nil
	}
	began := time.Now()
	b := &builder{r: r, dir: filepath.Join(r.dir, "history")}
	defer b.stop()
	if err := b.prepare(); err != nil {
		return fmt.Errorf("txn history: %w", err)
	}
	for i := 0; i < len(longest); {
		epoch := longest[i].Zxid.Epoch()
		j := i
		for j < len(longest) && longest[j].Zxid.Epoch() == epoch {
			j++
		}
		if err := b.segment(ctx, deadline, epoch, longest[i:j], i, need); err != nil {
			return fmt.Errorf("txn history, epoch %d: %w (builder's logs in %s)", epoch, err, b.dir)
		}
		i = j
	}
	r.progress("txn history %s written by ZooKeeper's CLI on a one-voter ensemble in %.1fs", protocol.Zxids(longest), time.Since(began).Seconds())
	return nil
}

// builder is the one-voter ensemble that writes the histories.
type builder struct {
	r                        *runner
	dir, dataDir, cfg, log4j string
	client                   int
	life                     int
	srv, cli                 *proc
	cliIn                    io.WriteCloser
}

func (b *builder) address() string { return "127.0.0.1:" + strconv.Itoa(b.client) }

func (b *builder) prepare() error {
	ports, fds, err := reservePorts(3)
	if err != nil {
		return err
	}
	for _, fd := range fds {
		syscall.Close(fd)
	}
	b.client = ports[0]
	b.dataDir = filepath.Join(b.dir, "data")
	b.cfg, b.log4j = filepath.Join(b.dir, "zoo.cfg"), filepath.Join(b.dir, "log4j.properties")
	if err := os.MkdirAll(filepath.Join(b.dataDir, "version-2"), 0o755); err != nil {
		return err
	}
	cfg := strings.Join([]string{
		"# written by zabsim/realzk: the one-voter ensemble that writes a scenario's txn histories",
		"tickTime=200", "initLimit=10", "syncLimit=5",
		"dataDir=" + b.dataDir,
		"clientPort=" + strconv.Itoa(ports[0]), "clientPortAddress=127.0.0.1",
		"admin.enableServer=false", "4lw.commands.whitelist=srvr",
		"standaloneEnabled=false", "reconfigEnabled=false", "quorumListenOnAllIPs=false",
		"localSessionsEnabled=true", "localSessionsUpgradingEnabled=true",
		fmt.Sprintf("server.1=127.0.0.1:%d:%d", ports[1], ports[2]),
	}, "\n") + "\n"
	for _, f := range []struct{ path, text string }{
		{b.cfg, cfg}, {b.log4j, log4jProperties}, {filepath.Join(b.dataDir, "myid"), "1\n"},
	} {
		if err := os.WriteFile(f.path, []byte(f.text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// segment writes txns (all of one epoch; the first is number `done`+1 of the history) and
// copies the data dir after every length in need.
func (b *builder) segment(ctx context.Context, deadline time.Time, epoch protocol.Epoch, txns []protocol.Txn, done int, need map[int]bool) error {
	v2 := filepath.Join(b.dataDir, "version-2")
	for _, f := range []string{"acceptedEpoch", "currentEpoch"} {
		if err := os.WriteFile(filepath.Join(v2, f), []byte(strconv.FormatInt(int64(epoch)-1, 10)), 0o644); err != nil {
			return err
		}
	}
	if err := b.startServer(); err != nil {
		return err
	}
	if err := b.await(ctx, deadline, "the builder to lead epoch "+strconv.Itoa(int(epoch)), func() bool {
		a := srvrOnce(dialTCP, b.address())
		return a.ok && a.mode == "leader" && a.zxid == int64(epoch)<<32
	}); err != nil {
		return err
	}
	if err := b.startCLI(); err != nil {
		return err
	}
	for i, t := range txns {
		path := fmt.Sprintf("/zabsim-%x", int64(t.Zxid))
		if _, err := fmt.Fprintf(b.cliIn, "create %s \"\"\n", path); err != nil {
			return fmt.Errorf("writing to the CLI: %w", err)
		}
		// The CLI's stdout is not flushed line by line, so the server says when the write is
		// in: srvr's Zxid is the last txn applied, and a one-voter leader applies a txn only
		// after its own log write is synced.
		var last int64
		if err := b.await(ctx, deadline, "the write of "+path, func() bool {
			a := srvrOnce(dialTCP, b.address())
			last = a.zxid
			return a.ok && a.zxid >= int64(t.Zxid)
		}); err != nil {
			return fmt.Errorf("%w (the CLI's output is in %s)", err, b.cli.out.Name())
		}
		if last != int64(t.Zxid) {
			return fmt.Errorf("after %s the builder's zxid is %#x, not %s: the real history would not be the scenario's", path, last, t.Zxid)
		}
		if k := done + i + 1; need[k] {
			if err := copyHistory(v2, b.r.diskFiles(k)); err != nil {
				return err
			}
		}
	}
	fmt.Fprintln(b.cliIn, "quit")
	b.cliIn.Close()
	b.cliIn = nil
	b.stop()
	return nil
}

func (b *builder) java(logName string, stdin bool, args ...string) (*proc, io.WriteCloser, error) {
	out, err := os.Create(filepath.Join(b.dir, logName))
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(b.r.java, append([]string{"-Xmx256m", "-XX:-UsePerfData", "-Duser.timezone=UTC",
		"-Dzookeeper.jmx.log4j.disable=true", "-Dzookeeper.preAllocSize=64"}, args...)...)
	var in io.WriteCloser
	if stdin {
		if in, err = cmd.StdinPipe(); err != nil {
			out.Close()
			return nil, nil, err
		}
	}
	p, err := startProc(cmd, b.dir, out)
	return p, in, err
}

func (b *builder) startServer() error {
	b.life++
	p, _, err := b.java(fmt.Sprintf("server-%d.out", b.life), false,
		"-Dzk.log="+filepath.Join(b.dir, fmt.Sprintf("server-%d.log", b.life)), "-Dlog4j.configuration=file:"+b.log4j,
		"-cp", b.r.cp, "org.apache.zookeeper.server.quorum.QuorumPeerMain", b.cfg)
	b.srv = p
	return err
}

func (b *builder) startCLI() error {
	p, in, err := b.java(fmt.Sprintf("client-%d.out", b.life), true, "-cp", b.r.cp, "org.apache.zookeeper.ZooKeeperMain",
		"-server", "127.0.0.1:"+strconv.Itoa(b.client))
	b.cli, b.cliIn = p, in
	return err
}

// await polls ok until it holds; bounded by the run's deadline and 30 s.
func (b *builder) await(ctx context.Context, deadline time.Time, what string, ok func() bool) error {
	end := earlier(deadline, time.Now().Add(30*time.Second))
	for !ok() {
		if b.srv != nil {
			select {
			case <-b.srv.done:
				return fmt.Errorf("the builder exited while waiting for %s", what)
			default:
			}
		}
		if time.Now().After(end) {
			return fmt.Errorf("timed out waiting for %s", what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollEvery):
		}
	}
	return nil
}

// stop kills the builder's processes (by process group) and reaps them.
func (b *builder) stop() {
	if b.cliIn != nil {
		b.cliIn.Close()
		b.cliIn = nil
	}
	for _, p := range []*proc{b.cli, b.srv} {
		if p == nil {
			continue
		}
		syscall.Kill(-p.pid, syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(reapTimeout):
		}
	}
	b.cli, b.srv = nil, nil
}

// copyHistory copies the txn logs and the empty snapshot of a version-2 folder (not its epoch
// files, not later snapshots) into dst.
func copyHistory(v2, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(v2)
	if err != nil {
		return err
	}
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, "log.") && n != "snapshot.0" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(v2, n))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, n), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeDisk writes d into dataDir, its txns from the builder's copy.
func (r *runner) writeDisk(dataDir string, d protocol.Disk) error {
	files := ""
	if len(d.Txns) > 0 {
		files = r.diskFiles(len(d.Txns))
	}
	return writeDisk(dataDir, d, files)
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
