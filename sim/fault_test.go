package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"zabsim/protocol"
)

// TestValidateNamesEveryBadInput feeds one bad input at a time and checks the error names it.
// Bad input is an error listing every problem, never a panic or a run (style rule 9).
// Reference: issue 8 (bad input for each new fault), issue 10 (limits).
func TestValidateNamesEveryBadInput(t *testing.T) {
	z := protocol.MakeZxid
	base := func() *RunSpec {
		cfg := protocol.DefaultConfig([]protocol.ServerID{1, 2, 3}, nil)
		return &RunSpec{Seed: 1, Config: cfg, Options: DefaultOptions(), Until: protocol.Time(time.Minute)}
	}
	sec := func(s float64) protocol.Time { return protocol.Time(s * 1e9) }
	cases := []struct {
		name   string
		mutate func(s *RunSpec)
		want   string
	}{
		{"unknown server in a pause", func(s *RunSpec) {
			s.Faults = []Fault{{Kind: FaultPause, At: sec(1), Heal: sec(2), Server: 9}}
		}, "server 9 is not in the cluster"},
		{"pause ends before it starts", func(s *RunSpec) {
			s.Faults = []Fault{{Kind: FaultPause, At: sec(5), Heal: sec(2), Server: 1}}
		}, "the pause ends at 2s, not after it starts at 5s"},
		{"pause without an end", func(s *RunSpec) {
			s.Faults = []Fault{{Kind: FaultPause, At: sec(5), Server: 1}}
		}, "heal is missing (a pause fault needs it)"},
		{"replaced disk not increasing", func(s *RunSpec) {
			s.Faults = []Fault{{Kind: FaultRestart, At: sec(5), Server: 1, Disk: &protocol.Disk{AcceptedEpoch: 1, CurrentEpoch: 1, CurrentEpochTmp: -1,
				Txns: protocol.TxnsOf(z(1, 2), z(1, 1))}}}
		}, "txn log must be strictly increasing zxids, but 0x100000001 follows 0x100000002"},
		{"replaced disk with a counter-0 zxid", func(s *RunSpec) {
			s.Faults = []Fault{{Kind: FaultRestart, At: sec(5), Server: 1, Disk: &protocol.Disk{AcceptedEpoch: 1, CurrentEpoch: 1, CurrentEpochTmp: -1,
				Txns: protocol.TxnsOf(z(1, 0))}}}
		}, "txn 0x100000000 is not a transaction zxid"},
		{"refusal for an unknown peer", func(s *RunSpec) {
			s.Faults = []Fault{{Kind: FaultRefuseConnect, At: sec(1), Server: 3, Peers: []protocol.ServerID{4}}}
		}, "peer 4 is not in the cluster"},
		{"refusal ends before it starts", func(s *RunSpec) {
			s.Faults = []Fault{{Kind: FaultRefuseConnect, At: sec(3), Heal: sec(1), Server: 3}}
		}, "the refusal ends at 1s, not after it starts at 3s"},
		{"field a kind does not use", func(s *RunSpec) {
			s.Faults = []Fault{{Kind: FaultCrash, At: sec(1), Server: 1, Heal: sec(2)}}
		}, "heal is set, but a crash fault does not use it"},
		{"unknown kind", func(s *RunSpec) { s.Faults = []Fault{{Kind: "explode", Server: 1}} }, `unknown fault kind "explode"`},
		{"overlapping groups", func(s *RunSpec) {
			s.Faults = []Fault{{Kind: FaultPartition, At: sec(1), Groups: [][]protocol.ServerID{{1, 2}, {2, 3}}}}
		}, "server 2 is in two groups"},
		{"the same server twice", func(s *RunSpec) {
			s.Faults = []Fault{{Kind: FaultPartition, At: sec(1), Groups: [][]protocol.ServerID{{1}, {1}}}}
		}, "server 1 is in two groups"},
		{"server id 0", func(s *RunSpec) {
			s.Config.Servers = append(s.Config.Servers, protocol.ServerConfig{ID: 0})
		}, "server id 0 is outside [1, 255]"},
		{"1000 servers", func(s *RunSpec) {
			for i := 4; i <= 1000; i++ {
				s.Config.Servers = append(s.Config.Servers, protocol.ServerConfig{ID: protocol.ServerID(i)})
			}
		}, "1000 servers configured; the limit is 64"},
		{"huge tickTime", func(s *RunSpec) { s.Config.TickTime = 1000000 * time.Hour }, "tickTime 1000000h0m0s is above the limit of 1h0m0s"},
		{"huge initLimit", func(s *RunSpec) { s.Config.InitLimit = 1 << 40 }, "initLimit 1099511627776 ticks of 2s is above the limit"},
		{"huge run length", func(s *RunSpec) { s.Until = protocol.Time(100000 * time.Hour) }, "run length (until) 360000000s is above the limit of 864000s"},
		{"fault time out of range", func(s *RunSpec) {
			s.Faults = []Fault{{Kind: FaultCrash, At: protocol.Time(1 << 62), Server: 1}}
		}, "is outside [0, 864000s]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := base()
			c.mutate(s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestOrderRanksRoundTrip checks that every order of up to five threads has its own rank and
// comes back from it, so a hand-edited "order" in a run file means what it says.
// Reference: issue 8 (thread order as a recorded world decision).
func TestOrderRanksRoundTrip(t *testing.T) {
	for n := 2; n <= 5; n++ {
		seen := map[string]bool{}
		for r := int64(0); r < factorial(n); r++ {
			o := OrderOf(n, r)
			back, err := RankOf(o)
			if err != nil || back != r {
				t.Fatalf("n=%d rank %d -> %v -> %d, %v", n, r, o, back, err)
			}
			key := fmt.Sprint(o)
			if seen[key] {
				t.Fatalf("n=%d: order %v twice", n, o)
			}
			seen[key] = true
		}
		if id := OrderOf(n, 0); !slices.IsSorted(id) {
			t.Fatalf("rank 0 is %v, want the identity", id)
		}
	}
	if _, err := RankOf([]int{0, 0, 1}); err == nil {
		t.Fatal("a repeated position was accepted")
	}
}
