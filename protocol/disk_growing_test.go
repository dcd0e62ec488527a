package protocol_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"zabsim/protocol"
)

func txnAt(c uint32) protocol.Txn { return protocol.Txn{Zxid: diskZ(1, c), Value: uint64(c)} }

// TestApplyGrowingKeepsHoldersApart: a disk that grows its log in place never changes what a
// copy of it, or a holder of its history, sees; the copy's own appends go elsewhere.
func TestApplyGrowingKeepsHoldersApart(t *testing.T) {
	var buf []protocol.Txn
	d := protocol.NewDisk()
	for c := uint32(1); c <= 2; c++ {
		d.ApplyGrowing(protocol.DiskWrite{Kind: protocol.WriteTxns, Txns: []protocol.Txn{txnAt(c)}}, &buf)
	}
	copyOf := d
	held := d.Txns
	d.ApplyGrowing(protocol.DiskWrite{Kind: protocol.WriteTxns, Txns: []protocol.Txn{txnAt(3)}}, &buf)
	require.Equal(t, []protocol.Txn{txnAt(1), txnAt(2), txnAt(3)}, d.Txns)
	require.Equal(t, []protocol.Txn{txnAt(1), txnAt(2)}, held, "a holder's view moved")
	require.Equal(t, len(d.Txns), cap(d.Txns), "the history is handed out capped")

	// The copy no longer views all of the buffer: it copies before it appends, even with the
	// same buffer.
	copyOf.ApplyGrowing(protocol.DiskWrite{Kind: protocol.WriteTxns, Txns: []protocol.Txn{txnAt(4)}}, &buf)
	require.Equal(t, []protocol.Txn{txnAt(1), txnAt(2), txnAt(4)}, copyOf.Txns)
	require.Equal(t, []protocol.Txn{txnAt(1), txnAt(2), txnAt(3)}, d.Txns, "the copy wrote into the original's log")

	// Another disk of the same length, with a history of its own, is not the buffer's.
	other := protocol.NewDisk()
	other.Apply(protocol.DiskWrite{Kind: protocol.WriteTxns, Txns: []protocol.Txn{txnAt(5), txnAt(6), txnAt(7)}})
	other.ApplyGrowing(protocol.DiskWrite{Kind: protocol.WriteTxns, Txns: []protocol.Txn{txnAt(8)}}, &buf)
	require.Equal(t, []protocol.Txn{txnAt(5), txnAt(6), txnAt(7), txnAt(8)}, other.Txns)
	require.Equal(t, []protocol.Txn{txnAt(1), txnAt(2), txnAt(3)}, d.Txns)

	// A holder's plain append reallocates.
	_ = append(held, txnAt(9))
	_ = append(d.Txns, txnAt(9))
	require.Equal(t, []protocol.Txn{txnAt(1), txnAt(2), txnAt(3)}, d.Txns)
}

// TestApplyGrowingIsApply: over random sequences of appends, truncations and snapshots,
// ApplyGrowing leaves the disk Apply leaves, while the histories handed out along the way
// keep what they held.
func TestApplyGrowingIsApply(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		plain, growing := protocol.NewDisk(), protocol.NewDisk()
		var buf []protocol.Txn
		var views [][]protocol.Txn
		var want [][]protocol.Txn
		next := uint32(1)
		for step := 0; step < 40; step++ {
			var w protocol.DiskWrite
			switch k := r.IntN(10); {
			case k < 7:
				var txns []protocol.Txn
				for n := r.IntN(4); n >= 0; n-- {
					txns = append(txns, txnAt(next))
					next++
				}
				w = protocol.DiskWrite{Kind: protocol.WriteTxns, Txns: txns}
			case k < 9 && next > 1:
				to := uint32(r.IntN(int(next)))
				w = protocol.DiskWrite{Kind: protocol.WriteTruncate, Zxid: diskZ(1, to)}
				next = to + 1
			default:
				w = protocol.DiskWrite{Kind: protocol.WriteSnapshot, Zxid: plain.LastZxid(), Txns: plain.Txns}
			}
			plain.Apply(w)
			growing.ApplyGrowing(w, &buf)
			require.Equal(t, plain, growing, "round %d step %d", round, step)
			views = append(views, growing.Txns)
			want = append(want, slices.Clone(growing.Txns))
		}
		for i := range views {
			require.Equal(t, want[i], views[i], "round %d: a history handed out at step %d changed", round, i)
		}
	}
}
