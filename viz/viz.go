// Package viz draws one checked run as a self-contained HTML page: a space-time diagram with a
// lane per server, the role and ZAB phase of each server as bands along its lane, every message
// as an arrow from its send to its delivery, the faults, the timers and the violations. The
// page carries the trace as compact JSON and draws it on a canvas, so it stays usable for runs
// of 10^5 events; it loads nothing from the network.
package viz

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/sim"
)

//go:embed page.html
var pageTemplate string

// dataMark is where the run's JSON goes in page.html.
const dataMark = "/*ZABSIM-DATA*/"

// Role codes of a band, after protocol.ServerState's four.
const (
	roleDown    = 4 // crashed or exited, until it starts again
	roleRefused = 5 // refused to start
)

// Event fields, in the flat array the page reads (stride eventFields). Times and step numbers
// are deltas from the previous event, which keeps long runs small.
const (
	fDT    = iota // microseconds since the previous event (FormatTime prints microseconds)
	fLane         // index in Lanes; -1 for world events (partitions)
	fKind         // sim.TraceKind
	fText         // index in Strs of the line after its time (" s3 send to s2 c1 ...")
	fDStep        // step number minus the previous event's
	fEnd          // a send: index of its delivery or loss minus its own (0: none)
	fFault        // scheduled fault index plus one (0: none)
	fMsg          // index in Strs of the message text plus one (0: not a message)
	fPeer         // lane of the peer plus one (0: none)
	eventFields
)

type page struct {
	Meta   meta        `json:"meta"`
	Lanes  []lane      `json:"lanes"`
	Kinds  []string    `json:"kinds"`
	Roles  []string    `json:"roles"`
	Phases []string    `json:"phases"`
	Strs   []string    `json:"strs"`
	N      int         `json:"n"`
	Ev     []int64     `json:"ev"`
	Bands  [][5]int    `json:"bands"`  // lane, first event, end event (exclusive), role, phase
	Pauses [][3]int    `json:"pauses"` // lane, pause event, resume event (n: never)
	Parts  []span      `json:"parts"`  // partitions
	Refuse []span      `json:"refuse"` // connect refusals
	Viols  []violation `json:"viols"`
	Faults []fault     `json:"faults"`
	Writes []write     `json:"writes"` // one per client write, in the order they were asked
}

// write is one client write: its line, its client-write event, and the events that carry it
// (the request and its forwarding, PROPOSAL, ACK, COMMIT, INFORM, the txn-log writes, the
// committed and applied notes, the answer), which the page joins into a path of its own.
type write struct {
	Text  string `json:"text"`
	First int    `json:"first"`
	Ev    []int  `json:"ev"`
}

// maxWriteEvents caps the events kept per write: a write synced to many learners many times
// still draws as a path through its first ones.
const maxWriteEvents = 400

type meta struct {
	Scenario   string   `json:"scenario"`
	Seed       uint64   `json:"seed"`
	Knobs      []string `json:"knobs"`
	Simulated  string   `json:"simulated"`
	EndUS      int64    `json:"endUs"`
	Events     uint64   `json:"events"`
	TraceHash  string   `json:"traceHash"`
	Stop       string   `json:"stop"`
	Liveness   string   `json:"liveness"`
	Truncated  bool     `json:"truncated"`
	Divergence string   `json:"divergence,omitempty"`
}

type lane struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
	End  string `json:"end"` // its role at the end of the run
}

type span struct {
	Lane  int    `json:"lane"` // -1 for a partition
	Start int    `json:"start"`
	End   int    `json:"end"`
	Fault int    `json:"fault"`
	Text  string `json:"text"`
}

type violation struct {
	At        int     `json:"at"` // trace index
	Invariant string  `json:"inv"`
	Detail    string  `json:"detail"`
	Time      string  `json:"time"`
	Servers   []int64 `json:"servers"`
	Count     int     `json:"count"`
}

type fault struct {
	Text  string `json:"text"`
	First int    `json:"first"` // first event the fault caused (-1: none)
}

// WritePage writes the page of one run. The report must have its trace (checker.Options
// KeepTrace).
func WritePage(w io.Writer, spec *sim.RunSpec, rep *checker.Report) error {
	if rep.Events > 0 && len(rep.Trace) == 0 {
		return errors.New("viz: the report has no trace (run it with checker.Options{KeepTrace: true})")
	}
	data, err := json.Marshal(build(spec, rep))
	if err != nil {
		return err
	}
	head, tail, ok := strings.Cut(pageTemplate, dataMark)
	if !ok {
		return errors.New("viz: page template has no data mark")
	}
	// encoding/json escapes <, > and &, so the data cannot close its script element.
	for _, part := range []string{head, string(data), tail} {
		if _, err := io.WriteString(w, part); err != nil {
			return err
		}
	}
	return nil
}

// CheckPath says whether a page could be written at path, before a long run is spent on it.
func CheckPath(path string) error {
	if path == "" {
		return errors.New("empty path")
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("cannot write %s: %s is not a directory", path, dir)
	}
	return nil
}

// WriteFile writes the page at path atomically: a reader (or a browser reloading it) sees the
// old page or the new one, never half of one.
func WriteFile(path string, spec *sim.RunSpec, rep *checker.Report) (err error) {
	if err := CheckPath(path); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := WritePage(tmp, spec, rep); err != nil {
		return fmt.Errorf("writing %s: %v", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %v", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	return nil
}

func build(spec *sim.RunSpec, rep *checker.Report) *page {
	trace := rep.Trace
	n := len(trace)
	p := &page{N: n, Ev: make([]int64, 0, n*eventFields), Bands: [][5]int{}, Pauses: [][3]int{},
		Parts: []span{}, Refuse: []span{}, Viols: []violation{}, Faults: []fault{}}
	p.Meta = meta{Scenario: rep.Scenario, Seed: rep.Seed, Knobs: rep.Knobs, Simulated: rep.SimulatedTime,
		EndUS: int64(rep.End) / 1e3, Events: rep.Events, TraceHash: rep.TraceHash, Stop: rep.Stop,
		Liveness: rep.Liveness.String(), Truncated: rep.Truncated, Divergence: rep.Divergence}
	laneOf := map[protocol.ServerID]int{}
	for i, s := range spec.Config.Servers {
		laneOf[s.ID] = i
		l := lane{ID: int64(s.ID), Type: s.Type.String()}
		if r, ok := rep.Server(s.ID); ok {
			l.End = r.Role
		}
		p.Lanes = append(p.Lanes, l)
	}
	for k := sim.TraceKind(0); k <= sim.TrReply; k++ { // every kind, the last one included
		name := ""
		if k > 0 {
			name = k.String()
		}
		p.Kinds = append(p.Kinds, name)
	}
	for s := protocol.LOOKING; s <= protocol.OBSERVING; s++ {
		p.Roles = append(p.Roles, s.String())
	}
	p.Roles = append(p.Roles, "DOWN", "REFUSED")
	for z := protocol.ELECTION; z <= protocol.BROADCAST; z++ {
		p.Phases = append(p.Phases, z.String())
	}

	strs := map[string]int{}
	intern := func(s string) int64 {
		i, ok := strs[s]
		if !ok {
			i = len(p.Strs)
			strs[s] = i
			p.Strs = append(p.Strs, s)
		}
		return int64(i)
	}
	lanes := len(p.Lanes)
	open := make([]int, lanes) // open band of each lane (index in Bands, -1: none)
	paused := make([]int, lanes)
	for i := range open {
		open[i], paused[i] = -1, -1
	}
	closeBand := func(l, at int) {
		if open[l] >= 0 {
			p.Bands[open[l]][2] = at
			open[l] = -1
		}
	}
	openBand := func(l, at, role, phase int) {
		closeBand(l, at)
		open[l] = len(p.Bands)
		p.Bands = append(p.Bands, [5]int{l, at, n, role, phase})
	}
	closePause := func(l, at int) {
		if paused[l] >= 0 {
			p.Pauses[paused[l]][2] = at
			paused[l] = -1
		}
	}
	sendOf := map[uint64]int{} // link -> index of its send, until the message ends
	openParts := map[int]int{} // fault -> index in Parts
	var prevUS int64
	var prevStep uint64
	var buf []byte
	for i := range trace {
		e := &trace[i]
		us := int64(e.At) / 1e3
		buf = e.AppendText(buf[:0])
		text := string(buf[len(protocol.FormatTime(e.At)):])
		l, ok := laneOf[e.Server]
		if !ok {
			l = -1
		}
		row := [eventFields]int64{fDT: us - prevUS, fLane: int64(l), fKind: int64(e.Kind), fText: intern(text),
			fDStep: int64(e.Step - prevStep), fFault: int64(e.Fault)}
		prevUS, prevStep = us, e.Step
		switch e.Kind {
		case sim.TrSend, sim.TrRecv, sim.TrDrop, sim.TrSendQueueDrop, sim.TrRecvQueueDrop:
			row[fMsg] = intern(e.Msg.String()) + 1
			if pl, ok := laneOf[e.Peer]; ok {
				row[fPeer] = int64(pl) + 1
			}
			if e.Link == 0 {
				break
			}
			if e.Kind == sim.TrSend {
				sendOf[e.Link] = i
			} else if s, ok := sendOf[e.Link]; ok {
				// The first event after the send that names its link ends the message.
				p.Ev[s*eventFields+fEnd] = int64(i - s)
				delete(sendOf, e.Link)
			}
		}
		p.Ev = append(p.Ev, row[:]...)
		if l >= 0 {
			switch e.Kind {
			case sim.TrState:
				openBand(l, i, int(e.State), int(e.Zab))
			case sim.TrCrash, sim.TrExit:
				closePause(l, i)
				openBand(l, i, roleDown, -1)
			case sim.TrStart:
				closeBand(l, i)
			case sim.TrRefused:
				openBand(l, i, roleRefused, -1)
			case sim.TrPause:
				closePause(l, i)
				paused[l] = len(p.Pauses)
				p.Pauses = append(p.Pauses, [3]int{l, i, n})
			case sim.TrResume:
				closePause(l, i)
			}
		}
		switch e.Kind {
		case sim.TrPartition:
			openParts[e.Fault] = len(p.Parts)
			p.Parts = append(p.Parts, span{Lane: -1, Start: i, End: n, Fault: e.Fault, Text: e.Detail})
		case sim.TrHeal:
			if k, ok := openParts[e.Fault]; ok {
				p.Parts[k].End = i
				delete(openParts, e.Fault)
			}
		}
	}

	// A refusal leaves no trace of its own beyond the connects it refuses: its span comes
	// from the spec, placed at the first events at or after its start and its end.
	firstAt := func(t protocol.Time) int {
		lo, hi := 0, n
		for lo < hi {
			m := (lo + hi) / 2
			if trace[m].At < t {
				lo = m + 1
			} else {
				hi = m
			}
		}
		return lo
	}
	for i, f := range spec.Faults {
		fr := fault{First: -1}
		for k := range trace {
			if trace[k].Fault == i+1 {
				fr.First = k
				break
			}
		}
		if i < len(rep.Faults) {
			r := rep.Faults[i]
			what := "happened at " + r.HappenedAt.String()
			if !r.Happened {
				what = "DID NOT HAPPEN"
			}
			var b strings.Builder
			fmt.Fprintf(&b, "fault %d: %s", i, r.Kind)
			if r.Server != 0 {
				fmt.Fprintf(&b, " of %d", r.Server)
			}
			fmt.Fprintf(&b, " due %s: %s: %s", r.At, what, r.Note)
			fr.Text = b.String()
			if f.Kind == sim.FaultRefuseConnect && r.Happened {
				l, ok := laneOf[f.Server]
				if !ok {
					l = -1
				}
				end := n
				if f.Heal > 0 {
					end = firstAt(f.Heal)
				}
				who := "every learner"
				if len(f.Peers) > 0 {
					who = fmt.Sprint(f.Peers)
				}
				p.Refuse = append(p.Refuse, span{Lane: l, Start: firstAt(f.At), End: end, Fault: i + 1,
					Text: "refuses connects from " + who})
			}
		}
		if fr.Text == "" {
			fr.Text = "fault " + strconv.Itoa(i) + ": " + string(f.Kind)
		}
		p.Faults = append(p.Faults, fr)
	}
	p.Writes = writePaths(rep)
	for k, v := range rep.ViolationsRaw {
		vj := violation{At: max(v.TraceIndex, 0), Invariant: v.Invariant, Detail: v.Detail, Time: v.At.String(),
			Servers: []int64{}, Count: 1}
		if vj.At >= n {
			vj.At = max(n-1, 0)
		}
		for _, s := range v.Servers {
			vj.Servers = append(vj.Servers, int64(s))
		}
		if k < len(rep.Violations) {
			vj.Count = rep.Violations[k].Count
		}
		p.Viols = append(p.Viols, vj)
	}
	if p.Strs == nil {
		p.Strs = []string{}
	}
	return p
}

// writePaths finds, in one pass over the trace, the events of each client write: by its value
// (the client's request and answer, REQUEST, PROPOSAL and INFORM, which carry the txn, and
// txn-log writes that hold it) or by its zxid (ACK, COMMIT, the leader's committed note and
// every server's applied note). Snapshots hold whole histories and are left out.
func writePaths(rep *checker.Report) []write {
	out := make([]write, len(rep.Writes))
	byValue := make(map[uint64]int, len(rep.Writes))
	byZxid := make(map[protocol.Zxid]int, len(rep.Writes))
	for k, wr := range rep.Writes {
		out[k] = write{Text: wr.Line(), First: -1, Ev: []int{}}
		byValue[wr.Value] = k
		if wr.Zxid != 0 {
			byZxid[wr.Zxid] = k
		}
	}
	add := func(k, i int) {
		if w := &out[k]; len(w.Ev) < maxWriteEvents && (len(w.Ev) == 0 || w.Ev[len(w.Ev)-1] != i) {
			w.Ev = append(w.Ev, i)
		}
	}
	for i := range rep.Trace {
		e := &rep.Trace[i]
		switch e.Kind {
		case sim.TrClient, sim.TrReply:
			if k, ok := byValue[e.Reply.Value]; ok {
				if e.Kind == sim.TrClient && out[k].First < 0 {
					out[k].First = i
				}
				add(k, i)
			}
		case sim.TrSend, sim.TrRecv, sim.TrDrop:
			switch e.Msg.Type {
			case protocol.REQUEST, protocol.PROPOSAL, protocol.INFORM:
				if k, ok := byValue[e.Msg.Txn.Value]; ok && e.Msg.Txn.Value != 0 {
					add(k, i)
				}
			case protocol.ACK, protocol.COMMIT:
				if k, ok := byZxid[e.Msg.Zxid]; ok {
					add(k, i)
				}
			}
		case sim.TrPersist:
			if e.Write.Kind == protocol.WriteTxns {
				for _, t := range e.Write.Txns {
					if k, ok := byValue[t.Value]; ok && t.Value != 0 {
						add(k, i)
					}
				}
			}
		case sim.TrNote:
			if e.Note.Kind == protocol.NoteCommitted || e.Note.Kind == protocol.NoteApplied {
				if k, ok := byZxid[e.Note.Zxid]; ok {
					add(k, i)
				}
			}
		}
	}
	return out
}
