package protocol_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"zabsim/protocol"
)

// diskZ is protocol.MakeZxid, short for the tables below.
func diskZ(e protocol.Epoch, c uint32) protocol.Zxid { return protocol.MakeZxid(e, c) }

// diskWith returns a disk holding both epoch files and the given history.
func diskWith(accepted, current protocol.Epoch, txns ...protocol.Zxid) protocol.Disk {
	d := protocol.NewDisk()
	d.AcceptedEpoch = accepted
	d.CurrentEpoch = current
	d.Txns = protocol.TxnsOf(txns...)
	if len(txns) > 0 {
		d.LogStart = txns[0]
	}
	return d
}

// TestLoadDataBaseFreshDisk checks the upgrade path: missing currentEpoch and acceptedEpoch
// files are created with the epoch of the last zxid, currentEpoch first.
//
// Reference: spec §2.3 load-time checks 2 and 4, QuorumPeer.loadDataBase.
func TestLoadDataBaseFreshDisk(t *testing.T) {
	t.Run("never ran", func(t *testing.T) {
		d, writes, err := protocol.LoadDataBase(protocol.NewDisk())
		require.NoError(t, err)
		assert.Equal(t, protocol.Epoch(0), d.CurrentEpoch)
		assert.Equal(t, protocol.Epoch(0), d.AcceptedEpoch)
		assert.Equal(t, []protocol.DiskWrite{
			{Kind: protocol.WriteCurrentEpoch, Epoch: 0, Prev: -1},
			{Kind: protocol.WriteAcceptedEpoch, Epoch: 0, Prev: -1},
		}, writes)
	})
	t.Run("history but no epoch files", func(t *testing.T) {
		in := diskWith(-1, -1, diskZ(1, 1), diskZ(2, 1), diskZ(2, 2))
		d, writes, err := protocol.LoadDataBase(in)
		require.NoError(t, err)
		assert.Equal(t, protocol.Epoch(2), d.CurrentEpoch)
		assert.Equal(t, protocol.Epoch(2), d.AcceptedEpoch)
		assert.Equal(t, []protocol.DiskWrite{
			{Kind: protocol.WriteCurrentEpoch, Epoch: 2, Prev: -1},
			{Kind: protocol.WriteAcceptedEpoch, Epoch: 2, Prev: -1},
		}, writes)
		assert.Equal(t, in.Txns, d.Txns, "the load does not touch the history")
	})
	t.Run("snapshot label newer than the log", func(t *testing.T) {
		in := diskWith(-1, -1, diskZ(2, 1))
		in.SnapshotZxid = diskZ(3, 0)
		d, _, err := protocol.LoadDataBase(in)
		require.NoError(t, err)
		assert.Equal(t, protocol.Epoch(3), d.CurrentEpoch, "epochOfZxid = lastProcessedZxid >> 32 includes the snapshot label")
		assert.Equal(t, protocol.Epoch(3), d.AcceptedEpoch)
	})
}

// TestLoadDataBaseAcceptedBelowCurrentRefuses checks that acceptedEpoch < currentEpoch refuses
// to start with ZooKeeper's message, also when acceptedEpoch was just created from the last
// zxid and ends up below an existing currentEpoch.
//
// Reference: spec §2.3 load-time check 5 ("If acceptedEpoch < currentEpoch → refuse to start"), QuorumPeer.loadDataBase.
func TestLoadDataBaseAcceptedBelowCurrentRefuses(t *testing.T) {
	_, _, err := protocol.LoadDataBase(diskWith(1, 2, diskZ(1, 1), diskZ(2, 1)))
	var le *protocol.LoadError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "The accepted epoch, 1 is less than the current epoch, 2", le.Reason)
	assert.Equal(t, le.Reason, err.Error())

	// The acceptedEpoch file is missing and is created with epoch(last zxid) = 1 < currentEpoch 2.
	_, writes, err := protocol.LoadDataBase(diskWith(-1, 2, diskZ(1, 1)))
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "The accepted epoch, 1 is less than the current epoch, 2", le.Reason)
	assert.Equal(t, []protocol.DiskWrite{{Kind: protocol.WriteAcceptedEpoch, Epoch: 1, Prev: -1}}, writes)
}

// TestLoadDataBaseCurrentEpochOlderThanLastZxid checks check 3: when the last zxid's epoch is
// newer than currentEpoch the server refuses to start unless currentEpoch.tmp (left by a crash
// inside the atomic write) is present, whose value is then adopted; the updatingEpoch marker
// (the model's ZOOKEEPER-1653 recovery) instead sets currentEpoch to the last zxid's epoch and
// is cleared.
//
// Reference: spec §2.3 load-time check 3 ("if currentEpoch.tmp exists, adopt its value (setCurrentEpoch); otherwise refuse to start"), §9.1.3.
func TestLoadDataBaseCurrentEpochOlderThanLastZxid(t *testing.T) {
	history := []protocol.Zxid{diskZ(1, 1), diskZ(2, 1), diskZ(2, 2)}

	t.Run("refuses", func(t *testing.T) {
		_, _, err := protocol.LoadDataBase(diskWith(2, 1, history...))
		var le *protocol.LoadError
		require.ErrorAs(t, err, &le)
		assert.Contains(t, le.Reason, "The current epoch, 1, is older than the last zxid, ")
		assert.Contains(t, le.Reason, diskZ(2, 2).String())
	})

	t.Run("refuses on a snapshot label too", func(t *testing.T) {
		in := diskWith(2, 1, diskZ(1, 1))
		in.SnapshotZxid = diskZ(2, 0)
		_, _, err := protocol.LoadDataBase(in)
		var le *protocol.LoadError
		require.ErrorAs(t, err, &le)
		assert.Contains(t, le.Reason, "is older than the last zxid")
	})

	t.Run("currentEpoch.tmp adopted", func(t *testing.T) {
		in := diskWith(2, 1, history...)
		in.CurrentEpochTmp = 2
		d, writes, err := protocol.LoadDataBase(in)
		require.NoError(t, err)
		assert.Equal(t, protocol.Epoch(2), d.CurrentEpoch)
		assert.Equal(t, protocol.Epoch(-1), d.CurrentEpochTmp, "the rename consumed the temp file")
		assert.Equal(t, []protocol.DiskWrite{{Kind: protocol.WriteCurrentEpoch, Epoch: 2, Prev: 1}}, writes)
	})

	t.Run("currentEpoch.tmp adopted, then acceptedEpoch check", func(t *testing.T) {
		in := diskWith(1, 1, history...)
		in.CurrentEpochTmp = 2
		d, _, err := protocol.LoadDataBase(in)
		var le *protocol.LoadError
		require.ErrorAs(t, err, &le)
		assert.Equal(t, "The accepted epoch, 1 is less than the current epoch, 2", le.Reason)
		assert.Equal(t, protocol.Epoch(2), d.CurrentEpoch)
	})

	t.Run("updatingEpoch marker", func(t *testing.T) {
		in := diskWith(2, 1, history...)
		in.UpdatingEpoch = true
		d, writes, err := protocol.LoadDataBase(in)
		require.NoError(t, err)
		assert.Equal(t, protocol.Epoch(2), d.CurrentEpoch)
		assert.False(t, d.UpdatingEpoch)
		assert.Equal(t, []protocol.DiskWrite{
			{Kind: protocol.WriteCurrentEpoch, Epoch: 2, Prev: 1},
			{Kind: protocol.WriteClearUpdatingEpochMarker},
		}, writes)
	})

	t.Run("updatingEpoch marker with nothing to recover", func(t *testing.T) {
		in := diskWith(2, 2, history...)
		in.UpdatingEpoch = true
		d, writes, err := protocol.LoadDataBase(in)
		require.NoError(t, err)
		assert.Equal(t, protocol.Epoch(2), d.CurrentEpoch)
		assert.False(t, d.UpdatingEpoch)
		assert.Equal(t, []protocol.DiskWrite{{Kind: protocol.WriteClearUpdatingEpochMarker}}, writes)
	})

	t.Run("stale tmp ignored when not needed", func(t *testing.T) {
		in := diskWith(3, 2, history...)
		in.CurrentEpochTmp = 3
		d, writes, err := protocol.LoadDataBase(in)
		require.NoError(t, err)
		assert.Empty(t, writes)
		assert.Equal(t, in, d)
	})
}

// TestLoadDataBaseConsistentDiskUnchanged checks that a disk passing every check loads with no
// writes and is returned as it was.
//
// Reference: spec §2.3 load-time checks 1–5, QuorumPeer.loadDataBase.
func TestLoadDataBaseConsistentDiskUnchanged(t *testing.T) {
	in := diskWith(3, 2, diskZ(1, 1), diskZ(2, 1))
	in.SnapshotZxid = diskZ(1, 1)
	d, writes, err := protocol.LoadDataBase(in)
	require.NoError(t, err)
	assert.Empty(t, writes)
	assert.Equal(t, in, d)
}

// TestDiskApply checks the effect of every completed durable write.
//
// Reference: spec §2.3 (epoch files written atomically, tmp then rename) and §2.4, QuorumPeer.setAcceptedEpoch / setCurrentEpoch, FileTxnSnapLog.
func TestDiskApply(t *testing.T) {
	base := func() protocol.Disk {
		d := diskWith(2, 1, diskZ(1, 1), diskZ(1, 2), diskZ(1, 3), diskZ(2, 1))
		d.SnapshotZxid = diskZ(1, 3)
		d.CurrentEpochTmp = 2
		return d
	}
	for _, tc := range []struct {
		name  string
		write protocol.DiskWrite
		want  func(d *protocol.Disk)
	}{
		{"acceptedEpoch", protocol.DiskWrite{Kind: protocol.WriteAcceptedEpoch, Epoch: 5, Prev: 2},
			func(d *protocol.Disk) { d.AcceptedEpoch = 5 }},
		{"currentEpoch consumes the tmp file", protocol.DiskWrite{Kind: protocol.WriteCurrentEpoch, Epoch: 2, Prev: 1},
			func(d *protocol.Disk) { d.CurrentEpoch = 2; d.CurrentEpochTmp = -1 }},
		{"snapshot replaces the history", protocol.DiskWrite{Kind: protocol.WriteSnapshot, Zxid: diskZ(3, 0),
			Txns: protocol.TxnsOf(diskZ(1, 1), diskZ(3, 1)), FromLeader: true},
			func(d *protocol.Disk) {
				d.Superseded = d.TxnLog() // the old log files stay, below the snapshot's label
				d.Txns = protocol.TxnsOf(diskZ(1, 1), diskZ(3, 1))
				d.SnapshotZxid = diskZ(3, 0)
				d.LogStart = diskZ(3, 0) + 1 // the log files hold none of a history from elsewhere
			}},
		{"leader's own snapshot keeps the log", protocol.DiskWrite{Kind: protocol.WriteSnapshot, Zxid: diskZ(2, 1),
			Txns: protocol.TxnsOf(diskZ(1, 1), diskZ(1, 2), diskZ(1, 3), diskZ(2, 1))},
			func(d *protocol.Disk) { d.SnapshotZxid = diskZ(2, 1) }},
		{"txnlog appends", protocol.DiskWrite{Kind: protocol.WriteTxns, Txns: protocol.TxnsOf(diskZ(2, 2), diskZ(2, 3))},
			func(d *protocol.Disk) {
				d.Txns = append(slices.Clone(d.Txns), protocol.TxnsOf(diskZ(2, 2), diskZ(2, 3))...)
			}},
		{"truncate below the snapshot", protocol.DiskWrite{Kind: protocol.WriteTruncate, Zxid: diskZ(1, 2)},
			func(d *protocol.Disk) {
				d.Txns = protocol.TxnsOf(diskZ(1, 1), diskZ(1, 2))
				d.SnapshotZxid = diskZ(1, 2)
			}},
		{"truncate above the snapshot", protocol.DiskWrite{Kind: protocol.WriteTruncate, Zxid: diskZ(1, 3)},
			func(d *protocol.Disk) { d.Txns = protocol.TxnsOf(diskZ(1, 1), diskZ(1, 2), diskZ(1, 3)) }},
		// FileTxnLog.truncate (KeepAbove, the TruncToZxidNotHeld knob) cuts the file after the
		// first txn at or above the target, so a target below every logged txn keeps the first
		// one; the model's default cut is exact.
		{"ZooKeeper's truncate below the first txn keeps it", protocol.DiskWrite{Kind: protocol.WriteTruncate, Zxid: 0, KeepAbove: true},
			func(d *protocol.Disk) { d.Txns = protocol.TxnsOf(diskZ(1, 1)); d.SnapshotZxid = diskZ(1, 1) }},
		{"exact truncate below the first txn keeps nothing", protocol.DiskWrite{Kind: protocol.WriteTruncate, Zxid: 0},
			func(d *protocol.Disk) { d.Txns = protocol.TxnsOf(); d.SnapshotZxid = 0 }},
		{"ZooKeeper's truncate to a zxid the log lacks keeps the next", protocol.DiskWrite{Kind: protocol.WriteTruncate, Zxid: diskZ(1, 4), KeepAbove: true},
			func(d *protocol.Disk) {}},
		{"exact truncate to a zxid the log lacks", protocol.DiskWrite{Kind: protocol.WriteTruncate, Zxid: diskZ(1, 4)},
			func(d *protocol.Disk) { d.Txns = protocol.TxnsOf(diskZ(1, 1), diskZ(1, 2), diskZ(1, 3)) }},
		{"updatingEpoch marker", protocol.DiskWrite{Kind: protocol.WriteUpdatingEpochMarker},
			func(d *protocol.Disk) { d.UpdatingEpoch = true }},
		{"clear updatingEpoch marker", protocol.DiskWrite{Kind: protocol.WriteClearUpdatingEpochMarker},
			func(d *protocol.Disk) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := base()
			tc.want(&want)
			got := base()
			got.Apply(tc.write)
			assert.Equal(t, want, got)
			assert.Equal(t, want.LastZxid(), got.LastZxid())
		})
	}

	t.Run("marker set then cleared", func(t *testing.T) {
		d := base()
		d.Apply(protocol.DiskWrite{Kind: protocol.WriteUpdatingEpochMarker})
		require.True(t, d.UpdatingEpoch)
		d.Apply(protocol.DiskWrite{Kind: protocol.WriteClearUpdatingEpochMarker})
		assert.Equal(t, base(), d)
	})
}

// TestDiskApplyTorn checks what a crash in the middle of each write leaves: for currentEpoch
// the old file and a currentEpoch.tmp holding the new value (AtomicFileWritingIdiom); nothing
// for every other write. A load then recovers the tmp value if the history needs it.
//
// Reference: spec §2.3 ("Both files are written atomically (write temp file <name>.tmp, fsync, rename)"; load-time check 3).
func TestDiskApplyTorn(t *testing.T) {
	base := diskWith(2, 1, diskZ(1, 1))
	for k := protocol.WriteAcceptedEpoch; k <= protocol.WriteClearUpdatingEpochMarker; k++ {
		t.Run(k.String(), func(t *testing.T) {
			d := base
			d.ApplyTorn(protocol.DiskWrite{Kind: k, Epoch: 2, Prev: 1, Zxid: diskZ(2, 1), Txns: protocol.TxnsOf(diskZ(2, 1))})
			want := base
			if k == protocol.WriteCurrentEpoch {
				want.CurrentEpochTmp = 2
			}
			assert.Equal(t, want, d)
		})
	}

	t.Run("torn currentEpoch then load", func(t *testing.T) {
		// A learner persisted epoch-2 txns, then crashed inside the currentEpoch := 2 write.
		d := diskWith(2, 1, diskZ(1, 1))
		d.Apply(protocol.DiskWrite{Kind: protocol.WriteTxns, Txns: protocol.TxnsOf(diskZ(2, 1))})
		d.ApplyTorn(protocol.DiskWrite{Kind: protocol.WriteCurrentEpoch, Epoch: 2, Prev: 1})
		require.Equal(t, protocol.Epoch(1), d.CurrentEpoch, "the old file survives")
		loaded, _, err := protocol.LoadDataBase(d)
		require.NoError(t, err)
		assert.Equal(t, protocol.Epoch(2), loaded.CurrentEpoch)
		assert.Equal(t, protocol.Epoch(-1), loaded.CurrentEpochTmp)
	})
}

// TestDiskLastZxid checks that the load's lastProcessedZxid is the newer of the snapshot label
// and the last logged txn, 0 for an empty history.
//
// Reference: spec §2.3 (lastLoggedZxid = dataTree.lastProcessedZxid after load), §5.8 (a snapshot after SNAP may be labelled e<<32).
func TestDiskLastZxid(t *testing.T) {
	d := protocol.NewDisk()
	assert.Equal(t, protocol.Zxid(0), d.LastZxid())

	d.Txns = protocol.TxnsOf(diskZ(1, 1), diskZ(1, 2))
	assert.Equal(t, diskZ(1, 2), d.LastZxid())

	d.SnapshotZxid = diskZ(1, 1)
	assert.Equal(t, diskZ(1, 2), d.LastZxid(), "log newer than the snapshot")

	d.SnapshotZxid = diskZ(2, 0)
	assert.Equal(t, diskZ(2, 0), d.LastZxid(), "snapshot label newer than the log")

	d.Txns = nil
	assert.Equal(t, diskZ(2, 0), d.LastZxid(), "snapshot only")
}

// TestDiskApplyDoesNotAlias checks that Apply never writes into a slice another Disk (or the
// write itself) shares: copies of a Disk are independent after appends and truncations, even
// when the shared backing array has spare capacity.
//
// Reference: spec §2.3 (each server's history is its own), disk.go ("Slices are shared between disks, peers and messages, and never modified in place").
func TestDiskApplyDoesNotAlias(t *testing.T) {
	backing := make([]protocol.Txn, 3, 16)
	copy(backing, protocol.TxnsOf(diskZ(1, 1), diskZ(1, 2), diskZ(1, 3)))
	d1 := diskWith(1, 1)
	d1.Txns, d1.LogStart = backing, diskZ(1, 1)
	d2 := d1

	d1.Apply(protocol.DiskWrite{Kind: protocol.WriteTxns, Txns: protocol.TxnsOf(diskZ(1, 4))})
	d2.Apply(protocol.DiskWrite{Kind: protocol.WriteTxns, Txns: protocol.TxnsOf(diskZ(2, 1))})
	assert.Equal(t, protocol.TxnsOf(diskZ(1, 1), diskZ(1, 2), diskZ(1, 3), diskZ(1, 4)), d1.Txns)
	assert.Equal(t, protocol.TxnsOf(diskZ(1, 1), diskZ(1, 2), diskZ(1, 3), diskZ(2, 1)), d2.Txns)
	assert.Equal(t, protocol.TxnsOf(diskZ(1, 1), diskZ(1, 2), diskZ(1, 3)), backing)
	assert.Equal(t, protocol.TxnsOf(0, 0), backing[3:5], "spare capacity of the shared array untouched")

	// Truncate one copy, then append to it: the other copy keeps its suffix.
	d3 := d1
	d3.Apply(protocol.DiskWrite{Kind: protocol.WriteTruncate, Zxid: diskZ(1, 1)})
	d3.Apply(protocol.DiskWrite{Kind: protocol.WriteTxns, Txns: protocol.TxnsOf(diskZ(3, 1))})
	assert.Equal(t, protocol.TxnsOf(diskZ(1, 1), diskZ(3, 1)), d3.Txns)
	assert.Equal(t, protocol.TxnsOf(diskZ(1, 1), diskZ(1, 2), diskZ(1, 3), diskZ(1, 4)), d1.Txns)

	// The appended slice of the write is copied, not retained.
	extra := protocol.TxnsOf(diskZ(4, 1))
	d4 := d1
	d4.Apply(protocol.DiskWrite{Kind: protocol.WriteTxns, Txns: extra})
	extra[0] = protocol.Txn{Zxid: diskZ(9, 9)}
	assert.Equal(t, diskZ(4, 1), d4.Txns[len(d4.Txns)-1].Zxid)
}

// TestWriteKindNames checks that every WriteKind has a name and ParseWriteKind inverts it.
//
// Reference: spec §2.4 (the durable writes), disk.go WriteKind.
func TestWriteKindNames(t *testing.T) {
	seen := map[string]bool{}
	for k := protocol.WriteAcceptedEpoch; k <= protocol.WriteClearUpdatingEpochMarker; k++ {
		name := k.String()
		require.NotContains(t, name, "WriteKind(", "kind %d has no name", k)
		require.False(t, seen[name], "duplicate name %q", name)
		seen[name] = true
		back, ok := protocol.ParseWriteKind(name)
		require.True(t, ok, name)
		require.Equal(t, k, back)
	}
	_, ok := protocol.ParseWriteKind("nope")
	assert.False(t, ok)
	assert.Equal(t, "WriteKind(0)", protocol.WriteKind(0).String())
}

// TestCanTruncate is FileTxnLog.truncate's refusal: "No log files found to truncate!" when the
// txn log holds no txn at or above the target: a fresh disk, a history that came only from a
// SNAP, or a log whose txns are all older.
// Reference: LearnerTest.truncFailTest; FileTxnLog.java:481-501.
func TestCanTruncate(t *testing.T) {
	fresh := protocol.NewDisk()
	assert.False(t, fresh.CanTruncate(0), "a fresh disk has no log file")
	d := diskWith(1, 1, diskZ(1, 1), diskZ(1, 2))
	assert.True(t, d.CanTruncate(diskZ(1, 1)))
	assert.True(t, d.CanTruncate(diskZ(1, 2)))
	assert.False(t, d.CanTruncate(diskZ(1, 3)), "every logged txn is below the target")
	snap := d
	snap.Apply(protocol.DiskWrite{Kind: protocol.WriteSnapshot, Zxid: diskZ(2, 0), Txns: protocol.TxnsOf(diskZ(1, 1), diskZ(1, 3)), FromLeader: true})
	assert.False(t, snap.CanTruncate(diskZ(1, 1)), "a history that came from a SNAP is in no log file")
}
