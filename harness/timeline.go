package harness

import (
	"io"
	"strconv"
	"strings"

	"zabsim/protocol"
	"zabsim/sim"
)

// TimelineOptions choose what the timeline shows.
type TimelineOptions struct {
	// All includes timers, PINGs and probes, which are hidden by default.
	All bool
	// Width is the width of one server's lane (default 34).
	Width int
}

// WriteTimeline prints the trace as a text timeline with one lane per server: each line is one
// event, written in the lane of the server it happened on; world events (partitions, heals)
// span the lanes.
func WriteTimeline(out io.Writer, servers []protocol.ServerID, trace []sim.TraceEvent, opts TimelineOptions) error {
	width := opts.Width
	if width <= 0 {
		width = 34
	}
	lane := map[protocol.ServerID]int{}
	var b strings.Builder
	b.WriteString(pad("time", 12))
	for i, id := range servers {
		lane[id] = i
		b.WriteString(pad("s"+itoa(int64(id)), width))
	}
	b.WriteString("\n")
	if _, err := io.WriteString(out, b.String()); err != nil {
		return err
	}
	for i := range trace {
		e := &trace[i]
		if !opts.All && hidden(e) {
			continue
		}
		b.Reset()
		b.WriteString(pad(protocol.FormatTime(e.At), 12))
		text := cell(e)
		l, ok := lane[e.Server]
		if !ok {
			b.WriteString("== " + text + " ==")
		} else {
			b.WriteString(strings.Repeat(" ", l*width))
			b.WriteString(text)
		}
		b.WriteString("\n")
		if _, err := io.WriteString(out, b.String()); err != nil {
			return err
		}
	}
	return nil
}

func hidden(e *sim.TraceEvent) bool {
	switch e.Kind {
	case sim.TrTimer:
		return true
	case sim.TrSend, sim.TrRecv:
		return e.Msg.Type == protocol.PING || e.Kind == sim.TrSend
	}
	return false
}

// cell is the short text of one event in its lane.
func cell(e *sim.TraceEvent) string {
	var b []byte
	switch e.Kind {
	case sim.TrRecv:
		b = append(b, "<- s"...)
		b = append(b, itoa(int64(e.Peer))...)
		b = append(b, ' ')
		b = e.Msg.AppendText(b)
	case sim.TrSend:
		b = append(b, "-> s"...)
		b = append(b, itoa(int64(e.Peer))...)
		b = append(b, ' ')
		b = e.Msg.AppendText(b)
	case sim.TrState:
		b = append(b, "** "...)
		b = append(b, e.State.String()...)
		b = append(b, '/')
		b = append(b, e.Zab.String()...)
	case sim.TrPersist:
		b = append(b, "disk "...)
		b = e.Write.AppendText(b)
	case sim.TrWriteFailed:
		b = append(b, "disk FAILED "...)
		b = e.Write.AppendText(b)
	case sim.TrNote:
		b = e.Note.AppendText(b)
	default:
		b = append(b, e.Kind.String()...)
		if e.Peer != 0 {
			b = append(b, " s"...)
			b = append(b, itoa(int64(e.Peer))...)
		}
		if e.Detail != "" {
			b = append(b, ' ')
			b = append(b, e.Detail...)
		}
	}
	return string(b)
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s + " "
	}
	return s + strings.Repeat(" ", n-len(s))
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// WriteEventList prints the trace one event per line: event number, time, server and the
// event's text. It is narrower than the lane timeline, so golden files stay readable and a
// line diff points at one event. Numbers count every event, hidden or not, so they match the
// event numbers divergence reports cite.
func WriteEventList(out io.Writer, trace []sim.TraceEvent, opts TimelineOptions) error {
	var b []byte
	for i := range trace {
		e := &trace[i]
		// A woken thread's run says only when the world scheduled it; its effects follow.
		if !opts.All && (hidden(e) || e.Kind == sim.TrRun) {
			continue
		}
		b = b[:0]
		b = append(b, '#')
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ' ')
		b = append(b, protocol.FormatTime(e.At)...)
		if e.Server != 0 {
			b = append(b, " s"...)
			b = strconv.AppendInt(b, int64(e.Server), 10)
		} else {
			b = append(b, " world"...)
		}
		b = append(b, ' ')
		b = append(b, cell(e)...)
		b = append(b, '\n')
		if _, err := out.Write(b); err != nil {
			return err
		}
	}
	return nil
}
