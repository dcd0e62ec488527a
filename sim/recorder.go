package sim

// Recorder is an Observer that keeps the whole trace (for timelines, replays and tests).
type Recorder struct {
	Events []TraceEvent
}

// OnTrace keeps a copy of e.
func (r *Recorder) OnTrace(_ *World, e *TraceEvent) { r.Events = append(r.Events, *e) }

// AfterStep does nothing.
func (r *Recorder) AfterStep(*World) {}
