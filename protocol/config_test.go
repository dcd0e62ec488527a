package protocol_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"zabsim/protocol"
)

// cfgJoinedErrors unwraps the errors.Join result of Config.Validate into its parts.
func cfgJoinedErrors(t *testing.T, err error) []string {
	t.Helper()
	require.Error(t, err)
	joined, ok := err.(interface{ Unwrap() []error })
	require.True(t, ok, "Validate should return errors.Join of every problem, got %T", err)
	var msgs []string
	for _, e := range joined.Unwrap() {
		msgs = append(msgs, e.Error())
	}
	return msgs
}

// TestConfigValidateDefaultIsValid checks that ZooKeeper's sample configuration passes.
//
// Reference: spec §8 (tickTime 2000 in zoo_sample.cfg, initLimit 10, syncLimit 5), QuorumPeerConfig.checkValidity.
func TestConfigValidateDefaultIsValid(t *testing.T) {
	cfg := protocol.DefaultConfig([]protocol.ServerID{1, 2, 3}, []protocol.ServerID{4})
	require.NoError(t, cfg.Validate())
	assert.Equal(t, protocol.ServerID(3), cfg.Election.Leader, "leader is the highest voter sid")
	assert.Equal(t, 2*time.Second, cfg.TickTime)
	assert.Equal(t, 10, cfg.InitLimit)
	assert.Equal(t, 5, cfg.SyncLimit)
	assert.Equal(t, 500, cfg.CommitLogCount)
}

// TestConfigValidateReportsEveryProblem checks that Validate does not stop at the first
// problem: an empty configuration reports the missing servers and every zero timer at once,
// and a populated one reports duplicate ids, zero timers and a non-participant leader at once.
//
// Reference: spec §8 ("initLimit: no default — must be set (> 0) for a quorum"), QuorumPeerConfig.checkValidity.
func TestConfigValidateReportsEveryProblem(t *testing.T) {
	t.Run("no servers and zero timers", func(t *testing.T) {
		var cfg protocol.Config
		cfg.CommitLogCount = 500
		cfg.Election.Assigned = true // FLE's timers are checked separately
		msgs := cfgJoinedErrors(t, cfg.Validate())
		require.Len(t, msgs, 4, "%q", msgs)
		assert.Contains(t, msgs, "no servers configured")
		assert.Contains(t, msgs, "tickTime must be positive, got 0s")
		assert.Contains(t, msgs, "initLimit must be at least 1 tick, got 0")
		assert.Contains(t, msgs, "syncLimit must be at least 1 tick, got 0")
	})

	t.Run("duplicates, zero timers, observer leader", func(t *testing.T) {
		cfg := protocol.DefaultConfig([]protocol.ServerID{1, 2, 3}, []protocol.ServerID{4})
		cfg.Servers = append(cfg.Servers, protocol.ServerConfig{ID: 2, Type: protocol.PARTICIPANT})
		cfg.InitLimit = 0
		cfg.TickTime = 0
		cfg.SyncLimit = 0
		cfg.Election.Assigned = true
		cfg.Election.Leader = 4 // an observer
		msgs := cfgJoinedErrors(t, cfg.Validate())
		require.Len(t, msgs, 5, "%q", msgs)
		assert.Contains(t, msgs, "duplicate server id 2")
		assert.Contains(t, msgs, "initLimit must be at least 1 tick, got 0")
		assert.Contains(t, msgs, "tickTime must be positive, got 0s")
		assert.Contains(t, msgs, "syncLimit must be at least 1 tick, got 0")
		assert.Contains(t, msgs, "assigned leader 4 is not a participant")
	})

	t.Run("leader not in the configuration", func(t *testing.T) {
		cfg := protocol.DefaultConfig([]protocol.ServerID{1, 2, 3}, nil)
		cfg.Election.Assigned = true
		cfg.Election.Leader = 9
		msgs := cfgJoinedErrors(t, cfg.Validate())
		assert.Equal(t, []string{"assigned leader 9 is not a participant"}, msgs)
	})
}

// TestConfigContainsQuorum checks QuorumMaj.containsQuorum: strictly more than half of the
// voters, each voter counted once however often it appears, observers and unknown sids not
// counted — unless the CountObservers knob re-introduces ZOOKEEPER-1294, when every member
// counts against the same voter threshold.
//
// Reference: spec §6.5 ("it never counts towards any quorum"), QuorumMaj.containsQuorum.
func TestConfigContainsQuorum(t *testing.T) {
	cfg := protocol.DefaultConfig([]protocol.ServerID{1, 2, 3}, []protocol.ServerID{4, 5})
	for _, tc := range []struct {
		name                 string
		set                  []protocol.ServerID
		want, wantCountingOb bool
	}{
		{"empty", nil, false, false},
		{"one voter", []protocol.ServerID{1}, false, false},
		{"two voters", []protocol.ServerID{1, 2}, true, true},
		{"all voters", []protocol.ServerID{3, 1, 2}, true, true},
		{"duplicates count once", []protocol.ServerID{1, 1, 1}, false, false},
		{"duplicates plus a second voter", []protocol.ServerID{1, 1, 2, 2}, true, true},
		{"observers only", []protocol.ServerID{4, 5}, false, true},
		{"one voter and observers", []protocol.ServerID{1, 4, 5}, false, true},
		{"one voter and one observer", []protocol.ServerID{1, 4}, false, true},
		{"duplicate observer", []protocol.ServerID{1, 4, 4}, false, true},
		{"unknown sids never count", []protocol.ServerID{1, 8, 9}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			assert.Equal(t, tc.want, c.ContainsQuorum(tc.set))
			c.Knobs.CountObservers = true
			assert.Equal(t, tc.wantCountingOb, c.ContainsQuorum(tc.set), "with CountObservers")
		})
	}

	t.Run("even ensemble needs more than half", func(t *testing.T) {
		c := protocol.DefaultConfig([]protocol.ServerID{1, 2, 3, 4}, nil)
		assert.False(t, c.ContainsQuorum([]protocol.ServerID{1, 2}))
		assert.True(t, c.ContainsQuorum([]protocol.ServerID{1, 2, 3}))
	})
}

// TestKnobsSet checks that a known knob is turned on and reported by Enabled, and that an
// unknown name is an error listing every known knob.
//
// Reference: spec bug-knobs.md (knob names), config.go Knobs.Set.
func TestKnobsSet(t *testing.T) {
	var k protocol.Knobs
	err := k.Set("NoSuchKnob")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"NoSuchKnob"`)
	for _, name := range protocol.KnobNames {
		assert.Contains(t, err.Error(), name)
	}
	assert.Empty(t, k.Enabled(), "a failed Set turns nothing on")

	require.NoError(t, k.Set("CountObservers"))
	require.NoError(t, k.Set("EpochQuorumIgnoresLeader"))
	assert.True(t, k.CountObservers)
	assert.True(t, k.EpochQuorumIgnoresLeader)
	assert.Equal(t, []string{"EpochQuorumIgnoresLeader", "CountObservers"}, k.Enabled(), "KnobNames order")

	var all protocol.Knobs
	for _, name := range protocol.KnobNames {
		require.NoError(t, all.Set(name), name)
	}
	assert.Equal(t, protocol.KnobNames, all.Enabled())
}
