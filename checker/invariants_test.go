package checker

import (
	"testing"

	"zabsim/sim"
)

// TestTableIsConsistent checks the invariant table: numbers strictly increase (spec order), names
// are unique, an entry with trace kinds has a judge, and one that judges after each step
// implements it.
// Reference: docs/design.md, "How the checker is organised".
func TestTableIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for i, inv := range table {
		if i > 0 && inv.num <= table[i-1].num {
			t.Errorf("%s (%d) is listed after %s (%d)", inv.name, inv.num, table[i-1].name, table[i-1].num)
		}
		if seen[inv.name] {
			t.Errorf("%s is listed twice", inv.name)
		}
		seen[inv.name] = true
		if (inv.on != 0 || inv.after) && inv.judge == nil {
			t.Errorf("%s wants events but has no judge", inv.name)
		}
		if inv.after {
			if _, ok := inv.judge().(afterStepper); !ok {
				t.Errorf("%s asks to judge after each step but has no afterStep", inv.name)
			}
		}
		if Invariants[i] != inv.name {
			t.Errorf("Invariants[%d] = %s, table has %s", i, Invariants[i], inv.name)
		}
	}
	if on(sim.TrPersist)&on(sim.TrSend) != 0 {
		t.Error("kinds overlap")
	}
}
