package explore

import (
	"zabsim/sim"
	"zabsim/statehash"
)

// rules say which fields of a peer and of the checker stay out of the state digest, and why,
// and which hold timer generations. Every other field reached is digested
// (TestStateRulesCoverEveryField lists them all and fails on a rule for a field that is gone).
var rules = statehash.Rules{
	Skip: map[string]string{
		"protocol.QuorumPeer.cfg":        "the configuration: the same in every run of one spec",
		"protocol.QuorumPeer.fleScratch": "scratch of one step, empty between steps",
		"protocol.QuorumPeer.diskLog":    "the buffer the disk mirror's log grows in; the mirror (disk) is digested",
		"protocol.leaderState.scratch":   "scratch of one step, empty between steps",
		"checker.Checker.spec":           "the run's spec: the world digests what of it changes (its faults)",
		"checker.Checker.cfg":            "the configuration: the same in every run of one spec",
		"checker.Checker.env":            "pointers to the checker's own parts and the world, set before each judgement",
		"checker.Checker.afters":         "the judges of Checker.judges again, in the order they run after a step",
		"checker.Checker.record":         "violations and their counts: an explored run ends at its first violation, so every state digested has none",
		"checker.Checker.report":         "the report's lists, which no invariant reads",
		"checker.Checker.outsiders":      "set by Finish at the end of a run, after the last state is digested",
	},
	Gens: map[string]bool{
		"protocol.QuorumPeer.syncGen":     true,
		"protocol.QuorumPeer.timerGen":    true,
		"protocol.QuorumPeer.electionGen": true,
		"protocol.fleState.pollGen":       true,
		"protocol.fleState.finalizeGen":   true,
		"protocol.learnerHandler.timer":   true,
		"protocol.learnerHandler.wakeGen": true,
		"protocol.leaderState.selfGen":    true,
		"protocol.leaderState.waitGen":    true,
		"protocol.leaderState.tickGen":    true,
		"protocol.leaderState.wakeGen":    true,
		"protocol.learnerState.readGen":   true,
		"protocol.learnerState.retryGen":  true,
	},
}

var defaultWalker = statehash.NewWalker(rules)

// stateWalker is the world's StateWalker.
type stateWalker struct{ w *statehash.Walker }

func (s stateWalker) Walk(h *statehash.H, c *statehash.Canon, v any) { s.w.Walk(h, c, v) }
func (s stateWalker) CollectGens(v any, gens *[]uint32)              { s.w.CollectGens(v, gens) }

func (s stateWalker) Skip(part string) bool { return s.w.Skips(part) }

var _ sim.StateWalker = stateWalker{defaultWalker}
