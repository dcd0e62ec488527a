package protocol

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A SNAP from a leader with an empty history once left the learner's own txns on its disk
// (an empty snapshot is a prefix of anything), so it restarted claiming txns the leader never
// had. The checker's SnapshotLabelExact and SyncChoiceSound found it in generated runs.
func TestSnapshotFromElsewhereReplacesWhatItCovers(t *testing.T) {
	own := TxnsOf(MakeZxid(1, 1), MakeZxid(2, 1), MakeZxid(3, 1), MakeZxid(3, 2))

	d := NewDisk()
	d.Txns = own
	d.Apply(DiskWrite{Kind: WriteSnapshot, Zxid: MakeZxid(5, 0), FromLeader: true})
	require.Empty(t, d.Txns, "a SNAP of an empty history labelled 5<<32 covers every txn below it")
	require.Equal(t, MakeZxid(5, 0), d.LastZxid())
	require.Equal(t, MakeZxid(5, 0)+1, d.LogStart)

	d = NewDisk()
	d.Txns = own
	d.Apply(DiskWrite{Kind: WriteSnapshot, Txns: own[:2], Zxid: own[1].Zxid})
	require.Equal(t, own, d.Txns, "a snapshot of what the server applied keeps the log above it")
	require.Equal(t, Zxid(0), d.LogStart)

	d = NewDisk()
	d.Txns = own
	other := []Txn{{Zxid: MakeZxid(1, 1)}, {Zxid: MakeZxid(2, 1), Value: 7}}
	d.Apply(DiskWrite{Kind: WriteSnapshot, Txns: other, Zxid: MakeZxid(2, 1), FromLeader: true})
	require.Equal(t, other, d.Txns, "a SNAP's history replaces the learner's, its old tail included")
	require.Equal(t, MakeZxid(2, 1)+1, d.LogStart)
}
