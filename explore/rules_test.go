package explore

import (
	"sort"
	"testing"

	"zabsim/checker"
	"zabsim/scenarios"
)

func TestDumpFields(t *testing.T) {
	sc, _ := scenarios.Lookup("cold-start-3")
	c := checker.New(sc.Build(1))
	f := walker.Fields(c)
	var names []string
	for k, v := range f {
		names = append(names, k+" "+v)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Log(n)
	}
}
