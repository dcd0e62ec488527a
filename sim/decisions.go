package sim

import (
	"fmt"
	"time"

	"zabsim/protocol"
)

// DecisionKind names a choice the world makes with its PRNG.
type DecisionKind string

// The world's random choices.
const (
	// DecideDelay is the one-way delay of a message, FIN or SYN from A to B.
	DecideDelay DecisionKind = "delay"
	// DecideJitter is the random part of a timer of server A.
	DecideJitter DecisionKind = "jitter"
	// DecideLoss is whether a message from A to B is lost (Value 1) or not (0).
	DecideLoss DecisionKind = "loss"
	// DecideOrder is the order in which B threads of server A, woken together, run: Value is
	// the permutation's rank in lexicographic order (0: the order the peer woke them in).
	DecideOrder DecisionKind = "order"
	// DecideStepTime is how long server A is busy after handling one input
	// (Options.Processing.Step).
	DecideStepTime DecisionKind = "step-time"
	// DecideBootTime is how long server A's process takes to start (Options.Processing.Boot).
	DecideBootTime DecisionKind = "boot-time"
	// DecideLeadTime is how long server A's new role takes to set up after its decision: a
	// leader's bind, a learner's connect (Options.Processing.Lead).
	DecideLeadTime DecisionKind = "lead-time"
	// DecideSnapshotTime is how long leader A's loadData takes before its LearnerHandlers
	// start (Options.Processing.Snapshot).
	DecideSnapshotTime DecisionKind = "snapshot-time"
	// DecideSyncTime is how long learner A works on NEWLEADER (Options.Processing.Sync).
	DecideSyncTime DecisionKind = "sync-time"
)

// Decision is one random choice of a run, recorded so that a replay can follow the choices
// themselves rather than the seed: a replay then survives code changes that draw differently,
// and stops with a divergence report when the code asks a different question.
type Decision struct {
	// Event is how many events the run had processed when it made the choice.
	Event uint64
	Kind  DecisionKind
	A, B  protocol.ServerID
	// Value is a duration in nanoseconds (delay, jitter) or 0/1 (loss).
	Value int64
}

func (d Decision) describe() string {
	switch d.Kind {
	case DecideJitter, DecideStepTime, DecideBootTime, DecideLeadTime, DecideSnapshotTime, DecideSyncTime:
		return fmt.Sprintf("%s of s%d", d.Kind, d.A)
	case DecideOrder:
		return fmt.Sprintf("%s of %d threads of s%d", d.Kind, d.B, d.A)
	}
	return fmt.Sprintf("%s s%d->s%d", d.Kind, d.A, d.B)
}

// decide makes one random choice: drawn from the PRNG (and recorded, if asked), or, when the run
// follows recorded decisions, taken from them after checking that the run asks the same question.
func (w *World) decide(kind DecisionKind, a, b protocol.ServerID, draw func() int64) int64 {
	var v int64
	if w.spec.Decisions != nil {
		var ok bool
		if v, ok = w.follow(kind, a, b); !ok {
			v = draw() // DecisionsThenSeed: the file has no more of these; the seed goes on
		}
	} else {
		v = draw()
	}
	if w.record {
		w.decisions = append(w.decisions, Decision{Event: w.result.Events, Kind: kind, A: a, B: b, Value: v})
	}
	return v
}

// decisionKey names a stream of questions: the n-th delay from A to B, the n-th jitter of A.
// A replay matches questions by stream and position, not by global order, so that a person can
// edit one delay (which reorders later events) and still replay every other choice.
type decisionKey struct {
	kind DecisionKind
	a, b protocol.ServerID
}

type decisionStream struct {
	values []int64
	next   int
}

// follow takes the next recorded answer to the question. ok is false when the file has no more
// answers in that stream and the spec allows the seed to take over (DecisionsThenSeed).
func (w *World) follow(kind DecisionKind, a, b protocol.ServerID) (v int64, ok bool) {
	if w.result.Divergence != "" {
		return 0, true
	}
	if w.streams == nil {
		w.streams = map[decisionKey]*decisionStream{}
		w.recordedKinds = map[DecisionKind]bool{}
		for _, d := range w.spec.Decisions {
			w.recordedKinds[d.Kind] = true
			k := decisionKey{d.Kind, d.A, d.B}
			st := w.streams[k]
			if st == nil {
				st = &decisionStream{}
				w.streams[k] = st
			}
			st.values = append(st.values, d.Value)
		}
	}
	if kind == DecideOrder && !w.recordedKinds[kind] {
		// A file recorded before the world ordered woken threads ran them in the peer's
		// order: the identity, rank 0.
		return 0, true
	}
	asked := Decision{Event: w.result.Events, Kind: kind, A: a, B: b}
	st := w.streams[decisionKey{kind, a, b}]
	if st == nil || st.next >= len(st.values) {
		if w.spec.DecisionsThenSeed {
			return 0, false
		}
		n := 0
		if st != nil {
			n = len(st.values)
		}
		w.diverge(fmt.Sprintf("at event %d (%s) the run asks for %s number %d, but the file recorded %d of them",
			asked.Event, protocol.FormatTime(w.now), asked.describe(), n+1, n))
		return 0, true
	}
	v = st.values[st.next]
	st.next++
	return v, true
}

// checkAllFollowed reports, at the end of a replay, recorded decisions the run never asked for:
// the code now asks fewer questions than the one that recorded the file.
func (w *World) checkAllFollowed() {
	// A run that ran out of events may end before a question it would have asked later. A
	// run that stopped because it became stable is judged: the recording run stopped there
	// too, so a decision it never reached was added to the file (or the code now asks fewer
	// questions), and "reproduces" would hide that.
	if w.spec.Decisions == nil || w.result.Divergence != "" || w.result.Truncated || w.spec.DecisionsThenSeed {
		return
	}
	seen := map[decisionKey]int{}
	for _, d := range w.spec.Decisions {
		k := decisionKey{d.Kind, d.A, d.B}
		i := seen[k]
		seen[k] = i + 1
		if st := w.streams[k]; st == nil || i >= st.next {
			w.result.Divergence = fmt.Sprintf("the run ended at event %d without asking for %s number %d, recorded at event %d",
				w.result.Events, d.describe(), i+1, d.Event)
			return
		}
	}
}

// diverge stops a run that no longer follows its recorded decisions.
func (w *World) diverge(why string) {
	w.result.Divergence = why
	w.stopped = true
}

// Decisions returns what the run recorded (RecordDecisions).
func (w *World) Decisions() []Decision { return w.decisions }

// RecordDecisions makes the world keep every random choice it makes.
func (w *World) RecordDecisions() { w.record = true }

func (w *World) drawDelay(from, to protocol.ServerID) time.Duration {
	if w.win != nil {
		return w.winDelay(from, to)
	}
	return time.Duration(w.decide(DecideDelay, from, to, func() int64 { return int64(w.delay()) }))
}

// OrderOf is the permutation of n threads that an order decision's rank stands for: the
// positions, in the order the peer woke them, in the order they run.
func OrderOf(n int, rank int64) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	unrank(order, rank)
	return order
}

// RankOf is the inverse of OrderOf; it fails unless order is a permutation of 0..len-1.
func RankOf(order []int) (int64, error) {
	n := len(order)
	if n < 2 || n > 20 {
		return 0, fmt.Errorf("an order names 2 to 20 threads, got %d", n)
	}
	seen := make([]bool, n)
	for _, v := range order {
		if v < 0 || v >= n || seen[v] {
			return 0, fmt.Errorf("%v is not an order of the positions 0..%d, each once", order, n-1)
		}
		seen[v] = true
	}
	var rank int64
	for i, v := range order {
		smaller := 0
		for _, u := range order[i+1:] {
			if u < v {
				smaller++
			}
		}
		rank += int64(smaller) * factorial(n-1-i)
	}
	return rank, nil
}
