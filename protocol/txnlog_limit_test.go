package protocol

import "testing"

// TestMaxTxnLogRead: how many logged txns a txn-log DIFF may read, from snapshotSizeFactor,
// the snapshot's size and 64 MiB log files of snapCount txns each.
// Reference: ZKDatabase.calculateTxnLogSizeLimit, FileTxnIterator.getStorageSize.
func TestMaxTxnLogRead(t *testing.T) {
	for _, c := range []struct {
		db     int64
		factor int
		snap   int
		want   int
	}{
		{0, 0, 10, 50},                 // 1 GiB * 0.33 holds five 64 MiB files
		{64 << 20, 0, 10, 0},           // a third of 64 MiB is less than one file
		{200 << 20, 0, 100000, 100000}, // 66 MiB: one file
		{1 << 30, 1000, 10, 160},       // a factor of 1: sixteen files
		{1 << 30, -1, 10, -1},          // txn-log sync off
	} {
		cfg := Config{DatabaseBytes: c.db, SnapshotSizeFactor: c.factor, SnapCount: c.snap}
		if got := cfg.maxTxnLogRead(); got != c.want {
			t.Errorf("db %d factor %d snapCount %d: %d txns, want %d", c.db, c.factor, c.snap, got, c.want)
		}
	}
}
