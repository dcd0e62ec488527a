package checker_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/scenarios"
	"zabsim/sim"
)

// TestBootKilledOnAReplacedDiskForgetsItsTxns: a committed write whose other holders' disks are
// replaced by empty ones, each boot killed before it ran, was destroyed by the operator: C forgets
// it as it does for a replaced disk that boots or is refused (random seed 1423, -processing jvm).
func TestBootKilledOnAReplacedDiskForgetsItsTxns(t *testing.T) {
	empty := protocol.Disk{CurrentEpochTmp: -1}
	spec := scenarios.Cluster(3, 0).Writes(3, 3*time.Second).
		Crash(1, 4*time.Second).Crash(2, 4*time.Second).
		RestartWithDisk(1, 5*time.Second, empty).RestartWithDisk(2, 5*time.Second, empty).
		Crash(1, 5200*time.Millisecond).Crash(2, 5200*time.Millisecond).
		Until(10*time.Second).Spec("boot-killed-write", 1)
	spec.Options.Processing = sim.Processing{Boot: sim.Span{Min: 500 * time.Millisecond, Max: 600 * time.Millisecond}}
	rep, err := checker.Run(spec, checker.Options{})
	require.NoError(t, err)
	require.Equal(t, "ok", rep.Writes[0].Answer)
	require.Equal(t, "killed while it was starting", rep.Faults[4].Note)
	require.Empty(t, rep.Violations)
}
