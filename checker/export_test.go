package checker

// SetUnfiltered turns the note-kind and packet-type dispatch off (true) or on, for
// TestNarrowDispatchChangesNothing.
func SetUnfiltered(on bool) { unfiltered = on }
