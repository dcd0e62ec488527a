package zabsim_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"zabsim/checker"
	"zabsim/runfile"
)

func TestDbgTrace(t *testing.T) {
	f, err := runfile.Load(os.Getenv("RF"))
	if err != nil {
		t.Skip()
	}
	f.Spec.MaxEvents = 300000
	rep, _ := checker.Run(&f.Spec, checker.Options{KeepTrace: true})
	filt := os.Getenv("FILT")
	for i := range rep.Trace {
		s := rep.Trace[i].String()
		if rep.Trace[i].At >= protocolTime(os.Getenv("FROM")) && rep.Trace[i].At <= protocolTime(os.Getenv("TO")) && strings.Contains(s, filt) {
			fmt.Println(s)
		}
	}
}
