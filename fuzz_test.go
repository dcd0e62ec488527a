package zabsim_test

import (
	"testing"

	"pgregory.net/rapid"

	"zabsim/scenarios"
)

// FuzzSchedule decodes bytes into a whole run (rapid.MakeFuzz turns the bytes into the
// generator's labelled choices) and checks the property, so `go test -fuzz=FuzzSchedule .`
// explores schedules with coverage guidance. Its corpus lives in testdata/fuzz/FuzzSchedule/
// and replays in every `go test`.
// Reference: issue 4 ("Go fuzzing").
func FuzzSchedule(f *testing.F) {
	f.Add(make([]byte, 4096)) // every choice at its minimum: a fault-free 3-server run
	f.Fuzz(rapid.MakeFuzz(func(rt *rapid.T) {
		seed := rapid.Uint64().Draw(rt, "world seed")
		spec := scenarios.GenerateRun(rapidDrawer{rt}, "fuzz", seed)
		if _, err := judge(spec); err != nil {
			rt.Fatalf("%v", err)
		}
	}))
}
