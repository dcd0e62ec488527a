package protocol_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"zabsim/protocol"
)

// update rewrites the expected output of every script (and is what `go test ./... -update`
// passes the golden tests of the other packages too).
var update = flag.Bool("update", false, "rewrite the expected output of protocol/testdata scripts")

// A script is a list of blocks in the style of etcd-raft's datadriven interaction tests:
//
//	# comments
//	command arg=value ...
//	----
//	expected output, one effect per line
//	(a blank line ends the block)
//
// Each script drives one QuorumPeer; the output under a command is every effect the step
// returned, so a change of behaviour shows as a changed line in a readable file. Commands:
//
//	peer id=N voters=1,2,3 [observers=4] leader=N [accepted=E current=E txns=E.C,...]
//	start | accepted conn=C from=S | connected conn=C from=S | connect-failed from=S
//	closed conn=C | recv conn=C from=S TYPE [zxid=E.C epoch=E sid=S version=V]
//	timer KIND [conn=C] (the latest timer of that kind the peer set) | resume conn=C (the
//	latest wake of that thread) | write-failed (the last write the peer asked for)
//
// Any command may set the clock with at=DURATION.
type block struct {
	comments []string // the # lines and blank lines before the command
	cmd      string
	want     []string
}

func parseScript(text string) ([]block, []string, error) {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	var blocks []block
	var pending []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "#") || strings.TrimSpace(l) == "" {
			pending = append(pending, l)
			continue
		}
		b := block{comments: pending, cmd: l}
		pending = nil
		if i+1 >= len(lines) || lines[i+1] != "----" {
			return nil, nil, fmt.Errorf("line %d: command %q is not followed by ----", i+1, l)
		}
		i += 2
		for ; i < len(lines) && lines[i] != ""; i++ {
			b.want = append(b.want, lines[i])
		}
		blocks = append(blocks, b)
	}
	return blocks, pending, nil
}

func TestProtocolScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts under protocol/testdata: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) { runScriptFile(t, f) })
	}
}

func runScriptFile(t *testing.T, path string) {
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blocks, trailer, err := parseScript(string(text))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	r := &scriptRunner{}
	var out strings.Builder
	for _, b := range blocks {
		got, err := r.do(b.cmd)
		if err != nil {
			got = []string{"error: " + err.Error()}
		}
		if !*update && strings.Join(got, "\n") != strings.Join(b.want, "\n") {
			t.Errorf("%s: %s\n  want:\n    %s\n  got:\n    %s", path, b.cmd,
				strings.Join(b.want, "\n    "), strings.Join(got, "\n    "))
		}
		for _, c := range b.comments {
			out.WriteString(c + "\n")
		}
		out.WriteString(b.cmd + "\n----\n")
		for _, g := range got {
			out.WriteString(g + "\n")
		}
		out.WriteString("\n")
	}
	for _, c := range trailer {
		out.WriteString(c + "\n")
	}
	if *update {
		if err := os.WriteFile(path, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// scriptRunner holds the one peer a script drives, its clock, its disk as the world would keep
// it, and the latest timer and wake of each kind, so a script fires "the leader-wait timer"
// without spelling out generations.
type scriptRunner struct {
	peer   *protocol.QuorumPeer
	now    protocol.Time
	disk   protocol.Disk
	timers map[[2]int]protocol.TimerID // (kind, conn) -> latest armed
	last   protocol.DiskWrite          // the last write asked for, for write-failed
}

func (r *scriptRunner) do(cmd string) ([]string, error) {
	fields := strings.Fields(cmd)
	name, args := fields[0], map[string]string{}
	var words []string
	for _, f := range fields[1:] {
		if k, v, ok := strings.Cut(f, "="); ok {
			args[k] = v
		} else {
			words = append(words, f)
		}
	}
	if v, ok := args["at"]; ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, err
		}
		r.now = protocol.Time(d)
	}
	if name == "peer" {
		return nil, r.newPeer(args)
	}
	if r.peer == nil {
		return nil, fmt.Errorf("%s before peer", name)
	}
	in := protocol.Input{Now: r.now, From: protocol.ServerID(num(args["from"])), Conn: protocol.ConnID(num(args["conn"]))}
	switch name {
	case "start":
		in.Kind = protocol.InputStart
		in.Disk = r.disk
	case "accepted":
		in.Kind = protocol.InputAccepted
	case "connected":
		in.Kind = protocol.InputConnected
	case "connect-failed":
		in.Kind = protocol.InputConnectFailed
	case "closed":
		in.Kind = protocol.InputClosed
	case "recv":
		in.Kind = protocol.InputMessage
		m, err := parseMessage(words, args)
		if err != nil {
			return nil, err
		}
		in.Msg = m
	case "timer", "resume":
		kind := protocol.TimerThread
		in.Kind = protocol.InputResume
		if name == "timer" {
			in.Kind = protocol.InputTimer
			if len(words) != 1 {
				return nil, fmt.Errorf("timer needs one timer kind")
			}
			var ok bool
			if kind, ok = timerKind(words[0]); !ok {
				return nil, fmt.Errorf("unknown timer kind %q", words[0])
			}
		}
		id, ok := r.timers[[2]int{int(kind), int(in.Conn)}]
		if !ok {
			return nil, fmt.Errorf("no %s timer for conn %d was set", kind, in.Conn)
		}
		in.Timer = id
	case "write-failed":
		in.Kind = protocol.InputWriteFailed
		in.Write, in.Disk = r.last, r.disk
	default:
		return nil, fmt.Errorf("unknown command %q", name)
	}
	effects := r.peer.Step(in, nil)
	var out []string
	for _, e := range effects {
		switch e.Kind {
		case protocol.EffectSetTimer, protocol.EffectWake:
			r.timers[[2]int{int(e.Timer.Kind), int(e.Timer.Conn)}] = e.Timer
		case protocol.EffectPersist:
			r.last = e.Write
			r.disk.Apply(e.Write)
		}
		out = append(out, effectText(e))
	}
	if len(out) == 0 {
		out = []string{"(no effects)"}
	}
	return out, nil
}

// newPeer reads `peer id=3 voters=1,2,3 observers=4 leader=3 accepted=E current=E txns=1.1,1.2`.
// Roles are assigned (leader=) so a script does not have to play Fast Leader Election, and
// the leader's self-registration has no jitter, so the output is the same on every run.
func (r *scriptRunner) newPeer(args map[string]string) error {
	var voters, observers []protocol.ServerID
	for _, v := range strings.Split(args["voters"], ",") {
		voters = append(voters, protocol.ServerID(num(v)))
	}
	if args["observers"] != "" {
		for _, v := range strings.Split(args["observers"], ",") {
			observers = append(observers, protocol.ServerID(num(v)))
		}
	}
	cfg := protocol.DefaultConfig(voters, observers)
	cfg.Election.Assigned = true
	cfg.Election.Leader = protocol.ServerID(num(args["leader"]))
	cfg.LeaderSelfRegisterJitter = 0
	if v := args["self-register-delay"]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		cfg.LeaderSelfRegisterDelay = d
	}
	r.disk = protocol.NewDisk()
	r.disk.AcceptedEpoch = protocol.Epoch(num(args["accepted"]))
	r.disk.CurrentEpoch = protocol.Epoch(num(args["current"]))
	if args["txns"] != "" {
		for _, z := range strings.Split(args["txns"], ",") {
			zx, err := parseZxid(z)
			if err != nil {
				return err
			}
			r.disk.Txns = append(r.disk.Txns, protocol.Txn{Zxid: zx})
		}
	}
	p, err := protocol.NewQuorumPeer(&cfg, protocol.ServerID(num(args["id"])), r.disk)
	if err != nil {
		return err
	}
	r.peer, r.timers = p, map[[2]int]protocol.TimerID{}
	return nil
}

// parseMessage reads `TYPE zxid=E.C epoch=E sid=S version=V`; FOLLOWERINFO's sid defaults to
// the sender and every version to the current protocol.
func parseMessage(words []string, args map[string]string) (protocol.Message, error) {
	if len(words) != 1 {
		return protocol.Message{}, fmt.Errorf("recv needs one packet type")
	}
	m := protocol.Message{Version: protocol.ProtocolVersion, Sid: protocol.ServerID(num(args["from"]))}
	for t := protocol.PacketType(1); t < 101; t++ {
		if t.String() == words[0] {
			m.Type = t
		}
	}
	if m.Type == 0 {
		return m, fmt.Errorf("unknown packet type %q", words[0])
	}
	var err error
	if v := args["zxid"]; v != "" {
		if m.Zxid, err = parseZxid(v); err != nil {
			return m, err
		}
	}
	if v := args["epoch"]; v != "" {
		m.Epoch = protocol.Epoch(num(v))
	}
	if v := args["sid"]; v != "" {
		m.Sid = protocol.ServerID(num(v))
	}
	if v := args["version"]; v != "" {
		m.Version = int32(num(v))
	}
	return m, nil
}

// parseZxid reads "E.C" (epoch, counter) or a number such as 0x100000001 or -1.
func parseZxid(s string) (protocol.Zxid, error) {
	if e, c, ok := strings.Cut(s, "."); ok {
		return protocol.MakeZxid(protocol.Epoch(num(e)), uint32(num(c))), nil
	}
	v, err := strconv.ParseInt(s, 0, 64)
	return protocol.Zxid(v), err
}

func num(s string) int64 {
	v, _ := strconv.ParseInt(s, 0, 64)
	return v
}

func timerKind(s string) (protocol.TimerKind, bool) {
	for k := protocol.TimerKind(1); k <= protocol.TimerThread; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// effectText is an effect's stable text form: its kind and the fields that kind uses.
func effectText(e protocol.Effect) string {
	var b []byte
	b = append(b, e.Kind.String()...)
	switch e.Kind {
	case protocol.EffectSend:
		b = fmt.Appendf(b, " conn=%d ", e.Conn)
		b = e.Msg.AppendText(b)
	case protocol.EffectNotify:
		b = fmt.Appendf(b, " to=%d ", e.To)
		b = e.Msg.AppendText(b)
	case protocol.EffectConnect:
		b = fmt.Appendf(b, " to=%d after=%v", e.To, e.After)
	case protocol.EffectClose:
		b = fmt.Appendf(b, " conn=%d", e.Conn)
	case protocol.EffectSetTimer:
		b = fmt.Appendf(b, " %s conn=%d after=%v", e.Timer.Kind, e.Timer.Conn, e.After)
		if e.Jitter > 0 {
			b = fmt.Appendf(b, " jitter=%v", e.Jitter)
		}
	case protocol.EffectWake:
		b = fmt.Appendf(b, " conn=%d after=%v", e.Timer.Conn, e.After)
	case protocol.EffectPersist:
		b = append(b, ' ')
		b = e.Write.AppendText(b)
	case protocol.EffectState:
		b = fmt.Appendf(b, " %s/%s", e.State, e.Zab)
	case protocol.EffectListen:
		b = fmt.Appendf(b, " %v", e.Listen)
	case protocol.EffectNote:
		b = append(b, ' ')
		b = e.Note.AppendText(b)
	case protocol.EffectProbe:
		b = fmt.Appendf(b, " %s", e.Probe)
	}
	return string(b)
}
