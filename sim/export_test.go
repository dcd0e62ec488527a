package sim

// KeepDeadTimers makes w fire the timers its peers would ignore, as the world did before it
// dropped them. Call it after NewWorld or Reset.
func (w *World) KeepDeadTimers() { w.keepDeadTimers = true }
