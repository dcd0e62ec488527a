package sim

import (
	"fmt"
	"testing"
	"time"

	"zabsim/protocol"
)

func TestSmokeThree(t *testing.T) {
	cfg := protocol.DefaultConfig([]protocol.ServerID{1, 2, 3}, nil)
	spec := &RunSpec{Seed: 1, Config: cfg, Options: DefaultOptions(), Until: protocol.Time(60 * time.Second), StopWhenStable: true}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	rec := &Recorder{}
	w := NewWorld(spec, rec)
	res := w.Run()
	for _, e := range rec.Events {
		fmt.Println(e.String())
	}
	fmt.Println(res.Events, res.End, res.TraceHash)
}
