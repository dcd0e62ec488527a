package scenarios

import (
	"testing"

	"zabsim/checker"
)

// TestCatalogue runs every scenario with a few seeds and checks the outcome it states.
// Reference: shared/spec/zab-startup.md; each scenario names its own.
func TestCatalogue(t *testing.T) {
	for _, s := range All() {
		t.Run(s.Name, func(t *testing.T) {
			for seed := uint64(1); seed <= 5; seed++ {
				rep, err := s.Run(seed, checker.Options{})
				if err != nil {
					t.Fatalf("seed %d: %v\nreplay: go run ./cmd/zabsim run -scenario %s -seed %d", seed, err, s.Name, seed)
				}
				_ = rep
			}
		})
	}
}
