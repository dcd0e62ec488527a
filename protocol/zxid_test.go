package protocol_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"zabsim/protocol"
)

// TestZxidRoundTrip checks that MakeZxid, Zxid.Epoch and Zxid.Counter invert each other for
// every epoch that fits in 31 bits and every 32-bit counter.
//
// Reference: spec §3, ZxidUtils.makeZxid / getEpochFromZxid / getCounterFromZxid.
func TestZxidRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := protocol.Epoch(rapid.Int64Range(0, 1<<31-1).Draw(t, "epoch"))
		c := rapid.Uint32().Draw(t, "counter")
		z := protocol.MakeZxid(e, c)
		require.Equal(t, e, z.Epoch())
		require.Equal(t, c, z.Counter())
		require.GreaterOrEqual(t, int64(z), int64(0), "a zxid of a 31-bit epoch is non-negative")
		require.Equal(t, z, protocol.MakeZxid(z.Epoch(), z.Counter()))
	})
}

// TestZxidOrderIsEpochThenCounter checks that comparing zxids compares (epoch, counter)
// lexicographically, which is what every "newer than" test in the protocol relies on.
//
// Reference: spec §3, zxid = (epoch << 32) | counter.
func TestZxidOrderIsEpochThenCounter(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e1 := protocol.Epoch(rapid.Int64Range(0, 1<<31-1).Draw(t, "e1"))
		e2 := protocol.Epoch(rapid.Int64Range(0, 1<<31-1).Draw(t, "e2"))
		c1 := rapid.Uint32().Draw(t, "c1")
		c2 := rapid.Uint32().Draw(t, "c2")
		lexLess := e1 < e2 || (e1 == e2 && c1 < c2)
		require.Equal(t, lexLess, protocol.MakeZxid(e1, c1) < protocol.MakeZxid(e2, c2))
	})
}

// TestZxidSentinels checks the -1 sentinel: its epoch stays -1 and it prints in decimal.
//
// Reference: spec §3, "Sentinel values: −1 (unknown zxid/epoch)".
func TestZxidSentinels(t *testing.T) {
	require.Equal(t, protocol.Epoch(-1), protocol.Zxid(-1).Epoch())
	require.Equal(t, "-1", protocol.Zxid(-1).String())
	require.Equal(t, uint32(0), protocol.MakeZxid(7, 0).Counter(), "e<<32 is the new-epoch zxid, counter 0")
	require.Equal(t, protocol.Zxid(7<<32), protocol.MakeZxid(7, 0))
}

// TestZxidString checks that a zxid prints as ZooKeeper logs it: 0x followed by lower-case hex.
//
// Reference: spec §3, ZxidUtils.zxidToString (Long.toHexString).
func TestZxidString(t *testing.T) {
	for _, tc := range []struct {
		z    protocol.Zxid
		want string
	}{
		{protocol.MakeZxid(1, 1), "0x100000001"},
		{0, "0x0"},
		{protocol.MakeZxid(0, 5), "0x5"},
		{protocol.MakeZxid(2, 0), "0x200000000"},
		{protocol.MakeZxid(0x1f, 0xabc), "0x1f00000abc"},
		{protocol.MakeZxid(1, 0xffffffff), "0x1ffffffff"},
	} {
		require.Equal(t, tc.want, tc.z.String(), "zxid %d", int64(tc.z))
	}
}

// TestFormatTime checks the virtual-time format: seconds, up to microsecond precision,
// trailing zeros trimmed, "s" suffix; Time.String agrees with it.
//
// Reference: spec §8 (timers are expressed in virtual time), types.go FormatTime.
func TestFormatTime(t *testing.T) {
	for _, tc := range []struct {
		t    protocol.Time
		want string
	}{
		{0, "0s"},
		{protocol.Time(1200 * time.Millisecond), "1.2s"},
		{protocol.Time(20*time.Second + 400*time.Microsecond), "20.0004s"},
		{protocol.Time(3 * time.Second), "3s"},
		{protocol.Time(1500 * time.Millisecond), "1.5s"},
		{protocol.Time(time.Microsecond), "0.000001s"},
		{protocol.Time(999), "0s"}, // below a microsecond: truncated
		{protocol.Time(20*time.Second + 400*time.Millisecond), "20.4s"},
		{protocol.Time(-1500 * time.Millisecond), "-1.5s"},
	} {
		require.Equal(t, tc.want, protocol.FormatTime(tc.t), "time %d ns", int64(tc.t))
		require.Equal(t, tc.want, tc.t.String(), "Time.String of %d ns", int64(tc.t))
	}
}
