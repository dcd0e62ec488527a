package explore

import (
	"testing"

	"github.com/stretchr/testify/require"

	"zabsim/scenarios"
)

func TestExploreColdStart(t *testing.T) {
	sc, err := scenarios.Lookup("cold-start-3")
	require.NoError(t, err)
	for cost := 0; cost <= 2; cost++ {
		res, err := Check(sc.Build(1), Bound{Cost: cost, Deviations: -1, Crashes: -1, Restarts: -1, WriteFaults: -1, Workers: 1})
		require.NoError(t, err)
		t.Logf("cost %d: %+v", cost, res.Levels)
		require.Nil(t, res.Violation)
	}
}
