package sim

import "zabsim/protocol"

// KeepDeadTimers makes w fire the timers its peers would ignore, as the world did before it
// dropped them. Call it after NewWorld or Reset.
func (w *World) KeepDeadTimers() { w.keepDeadTimers = true }

// OverrideTimerLive makes w ask f instead of QuorumPeer.TimerLive. Call it after NewWorld or
// Reset.
func (w *World) OverrideTimerLive(f func(*protocol.QuorumPeer, protocol.TimerID) bool) {
	w.liveOverride = f
}
