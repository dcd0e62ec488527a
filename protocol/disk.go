package protocol

import (
	"fmt"
)

// Disk is what a server keeps across a crash (spec §2.3): the two epoch files, what a crash
// inside their atomic write leaves behind, the updatingEpoch marker, and the history
// (snapshot plus transaction log). Transactions are modelled by their zxids.
type Disk struct {
	_ struct{}
	// AcceptedEpoch is the acceptedEpoch file; -1 when the file does not exist.
	AcceptedEpoch Epoch
	// CurrentEpoch is the currentEpoch file; -1 when the file does not exist.
	CurrentEpoch Epoch
	// CurrentEpochTmp is currentEpoch.tmp, left by a crash inside AtomicFileWritingIdiom after
	// the temp file was written and before the rename; -1 when absent.
	CurrentEpochTmp Epoch
	// UpdatingEpoch is the updatingEpoch marker a learner leaves while it persists the
	// NEWLEADER history and then currentEpoch (ZOOKEEPER-1653's fix).
	UpdatingEpoch bool
	// Txns is the durable history, snapshot and log together, in zxid order: what a load
	// replays. Slices are shared between disks, peers and messages, and never modified in
	// place.
	Txns []Txn
	// SnapshotZxid labels the newest snapshot: every txn <= it is in the snapshot.
	SnapshotZxid Zxid
	// LogStart is the oldest zxid of Txns still in the txn log files (older ones were purged
	// and live only in the snapshot).
	LogStart Zxid
	// Superseded is what older txn log files still hold below a snapshot a SNAP sync brought:
	// ZooKeeper deletes no log file on a SNAP, so the leader's txn-log iterator reads these
	// and then, across the gap, the log above the snapshot (TxnLog). A load never replays
	// them: they are all at or below the snapshot's label. Zxid order; may hold txns of a
	// fork the snapshot's history does not have.
	Superseded []Txn
}

// TxnLog is what the txn log files hold, in zxid order, as FileTxnIterator reads them across
// files: Superseded, then the logged part of Txns (LoggedTxns). It shares Txns' array unless
// Superseded is non-empty.
func (d *Disk) TxnLog() []Txn {
	if len(d.Superseded) == 0 {
		return d.LoggedTxns()
	}
	return appendCopy(d.Superseded, d.LoggedTxns()...)
}

// LoggedTxns is the txn log of the snapshot's history: Txns from LogStart on, without the
// files a SNAP superseded.
func (d *Disk) LoggedTxns() []Txn {
	i := 0
	for i < len(d.Txns) && !d.inLog(d.Txns[i].Zxid) {
		i++
	}
	return share(d.Txns[i:])
}

// Shared returns the disk with its history capped (see share), for a holder that will append
// to it while others keep the same array.
func (d Disk) Shared() Disk {
	d.Txns = share(d.Txns)
	return d
}

// NewDisk returns the disk of a server that has never run: no epoch files, no history.
func NewDisk() Disk {
	return Disk{AcceptedEpoch: -1, CurrentEpoch: -1, CurrentEpochTmp: -1}
}

// LastZxid is the dataTree.lastProcessedZxid a load yields: the newer of the snapshot's label
// and the last logged txn (0 for an empty history). A snapshot taken after a SNAP from a
// leader in BROADCAST is labelled e<<32 although no txn has that zxid.
func (d *Disk) LastZxid() Zxid { return max(d.SnapshotZxid, lastZxid(d.Txns)) }

// WriteKind names a durable write.
type WriteKind uint8

// Durable writes, in the vocabulary of QuorumPeer and FileTxnSnapLog.
const (
	WriteAcceptedEpoch            WriteKind = iota + 1 // QuorumPeer.setAcceptedEpoch
	WriteCurrentEpoch                                  // QuorumPeer.setCurrentEpoch
	WriteSnapshot                                      // ZooKeeperServer.takeSnapshot
	WriteTxns                                          // append to the txn log and fsync
	WriteTruncate                                      // FileTxnSnapLog.truncateLog
	WriteUpdatingEpochMarker                           // create the updatingEpoch marker
	WriteClearUpdatingEpochMarker                      // delete it
)

var writeNames = FillNames("WriteKind", []string{
	WriteAcceptedEpoch: "acceptedEpoch", WriteCurrentEpoch: "currentEpoch", WriteSnapshot: "snapshot",
	WriteTxns: "txnlog", WriteTruncate: "truncate", WriteUpdatingEpochMarker: "updatingEpoch+",
	WriteClearUpdatingEpochMarker: "updatingEpoch-",
})

func (k WriteKind) String() string {
	if int(k) < len(writeNames) {
		return writeNames[k]
	}
	return UnknownName("WriteKind", int(k))
}

// ParseWriteKind is the inverse of WriteKind.String.
func ParseWriteKind(s string) (WriteKind, bool) {
	for k := WriteAcceptedEpoch; k <= WriteClearUpdatingEpochMarker; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// DiskWrite is one durable write. Epoch is the value of an epoch write; Prev the in-memory
// value it replaces (so a failed write can be undone in memory, spec §2.3); Txns and Zxid
// the history of a snapshot or an append, or the truncation point.
type DiskWrite struct {
	Kind  WriteKind
	Epoch Epoch
	Prev  Epoch
	Zxid  Zxid
	Txns  []Txn
	// FromLeader: the snapshot is of a history a SNAP sync brought (Learner.syncWithLeader):
	// the txn log files hold none of it, and a load replays none of them over it.
	FromLeader bool
	// KeepAbove: the truncation is FileTxnLog.truncate's, which cuts the log after the first
	// logged txn at or above Zxid, so one txn above it survives when Zxid is not logged (the
	// TruncToZxidNotHeld knob). Without it the cut is exact: nothing above Zxid stays.
	KeepAbove bool
}

// AppendText appends a short description of the write.
func (w DiskWrite) AppendText(b []byte) []byte {
	e := Enc{Buf: b}
	w.Encode(&e)
	return e.Buf
}

// Encode writes the write as a trace shows it (see Enc). Prev, the in-memory value an epoch
// write replaces, is the peer's bookkeeping for a failed write and is not shown.
func (w *DiskWrite) Encode(e *Enc) {
	e.Enum(int(w.Kind), w.Kind.String())
	switch w.Kind {
	case WriteAcceptedEpoch, WriteCurrentEpoch:
		e.Lit(":=")
		e.Int(int64(w.Epoch))
	case WriteSnapshot:
		e.Byte('@')
		e.Zxid(w.Zxid)
		e.Lit(" txns=")
		e.History(w.Txns)
		e.Flag(w.FromLeader, " from-leader")
	case WriteTruncate:
		e.Byte('@')
		e.Zxid(w.Zxid)
		e.Flag(w.KeepAbove, " keeps-first-above")
	case WriteTxns:
		e.Byte('+')
		e.History(w.Txns)
	}
}

// Apply performs a completed write.
func (d *Disk) Apply(w DiskWrite) {
	switch w.Kind {
	case WriteAcceptedEpoch:
		d.AcceptedEpoch = w.Epoch
	case WriteCurrentEpoch:
		d.CurrentEpoch = w.Epoch
		d.CurrentEpochTmp = -1 // the rename consumed the temp file
	case WriteSnapshot:
		switch {
		case w.FromLeader:
			// The leader's history: the old log files stay, and what they hold at or below
			// the snapshot's label is superseded (a fork of it included); the log of the
			// snapshot's history starts after it.
			old := d.TxnLog()
			d.Superseded = share(old[:indexAbove(old, w.Zxid)])
			d.LogStart = w.Zxid + 1
			d.Txns = share(w.Txns)
		case isPrefix(d.Txns, w.Txns):
			d.Txns = share(w.Txns)
		default:
			// A snapshot of what this server applied: the txn log still holds what it logged
			// after (logged but not yet committed txns included), and a load replays it.
		}
		d.SnapshotZxid = w.Zxid
	case WriteTxns:
		// Disks share arrays freely (a restart, a replaced disk, the peer's mirror): a new
		// array for every append, so no holder ever sees another's txns.
		// A txn at or below the last logged zxid is written again (FileTxnLog.append only
		// warns "Current zxid ... is <= ..."), and a load replays it again too
		// (fastForwardFromEdits logs an error and processes it); for the same txn that
		// changes nothing, so the model keeps one copy per zxid. A learner gets such a txn
		// when its leader forwards an outstanding proposal it logged before. A different txn
		// below the last logged zxid is dropped here too, which ZooKeeper would not do; the
		// model's syncs do not produce one (the history invariants would see the hole).
		d.appendTxns(w.Txns, nil)
	case WriteTruncate:
		n := d.truncatedLen(w.Zxid, w.KeepAbove)
		d.Txns = d.Txns[:n:n]
		if k := indexAbove(d.Superseded, w.Zxid); k < len(d.Superseded) {
			d.Superseded = d.Superseded[:k:k]
		}
		d.SnapshotZxid = min(d.SnapshotZxid, lastZxid(d.Txns))
	case WriteUpdatingEpochMarker:
		d.UpdatingEpoch = true
	case WriteClearUpdatingEpochMarker:
		d.UpdatingEpoch = false
	}
}

// ApplyGrowing is Apply for a holder that keeps the disk's txn log growing in a buffer of its
// own, so that a log grows in amortised O(1) per txn instead of a copy of the whole log per
// write. Disks share arrays freely (a restart, a replaced disk, the peer's mirror, a
// message's snapshot) and Txns is always capped at its length, so nobody appends into an array
// they were handed; *log is the one array its holder may grow: when Txns views all of it, the
// txns go into its spare room, where no view reaches; otherwise they are copied into a new
// buffer, which *log becomes. (A buffer shared by disks stays correct, since only the disk that
// views all of it appends in place; it is meant for one.)
func (d *Disk) ApplyGrowing(w DiskWrite, log *[]Txn) {
	if w.Kind != WriteTxns {
		d.Apply(w)
		return
	}
	d.appendTxns(w.Txns, log)
}

// appendTxns logs txns after the history, each above the last logged zxid (see Apply), into
// *log as ApplyGrowing says, or, with no log, into a new array of exactly their length.
func (d *Disk) appendTxns(txns []Txn, log *[]Txn) {
	txns = txns[indexAbove(txns, lastZxid(d.Txns)):]
	if log == nil {
		d.Txns = appendCopy(d.Txns, txns...)
		return
	}
	if len(txns) == 0 {
		return
	}
	n, buf := len(d.Txns), *log
	if !(len(buf) == n && n > 0 && &buf[0] == &d.Txns[0]) || cap(buf)-n < len(txns) {
		buf = make([]Txn, n, max(2*(n+len(txns)), 8))
		copy(buf, d.Txns)
	}
	buf = append(buf, txns...)
	*log, d.Txns = buf, share(buf)
}

// ApplyTorn performs what survives a crash in the middle of the write. Epoch files are
// written with AtomicFileWritingIdiom, so the old file survives and the temp file holds the
// new value; a half-written snapshot or log append is discarded on load.
func (d *Disk) ApplyTorn(w DiskWrite) {
	if w.Kind == WriteCurrentEpoch {
		d.CurrentEpochTmp = w.Epoch
	}
}

// CanTruncate reports whether FileTxnLog.truncate(z) finds a log file to cut: it fails with
// "No log files found to truncate!" when the txn log holds no txn at or above z (no log files
// at all, as after a restore from a snapshot, or only older txns). LearnerTest.truncFailTest.
func (d *Disk) CanTruncate(z Zxid) bool {
	for i := len(d.Txns) - 1; i >= 0 && d.inLog(d.Txns[i].Zxid); i-- {
		if d.Txns[i].Zxid >= z {
			return true
		}
	}
	return false
}

// inLog: the txn is in the txn log files, not only in the snapshot.
func (d *Disk) inLog(z Zxid) bool { return z >= d.LogStart }

// firstLoggedFrom is the first txn in the log files at or above z.
func (d *Disk) firstLoggedFrom(z Zxid) (Zxid, bool) {
	for _, t := range d.Txns {
		if t.Zxid >= z && d.inLog(t.Zxid) {
			return t.Zxid, true
		}
	}
	return 0, false
}

// truncatedLen is how many txns a truncation to z keeps. FileTxnLog.truncate (keepAbove) keeps
// everything up to and including the first logged txn at or above z: the file is cut after
// the txn its iterator stops at, so when z itself is not in the log one txn above it survives
// (FileTxnLog.java:481-501, FileTxnIterator.init). The exact cut keeps only txns up to z.
func (d *Disk) truncatedLen(z Zxid, keepAbove bool) int {
	for i, t := range d.Txns {
		switch {
		case !keepAbove && t.Zxid > z:
			return i
		case keepAbove && t.Zxid >= z && d.inLog(t.Zxid):
			return i + 1
		}
	}
	return len(d.Txns)
}

// LoadError is a refusal to start (spec §2.3): the process does not run.
type LoadError struct{ Reason string }

func (e *LoadError) Error() string { return e.Reason }

// LoadDataBase is QuorumPeer.loadDataBase (spec §2.3): it returns the disk as the load leaves
// it (missing epoch files created, a currentEpoch recovered from currentEpoch.tmp or from the
// updatingEpoch marker), the writes that made it so, or a *LoadError when ZooKeeper refuses
// to start.
//
// MARK (spec §9.1.3): master recovers only from currentEpoch.tmp, so a crash after the
// NEWLEADER snapshot and before the currentEpoch write leaves a server that cannot start
// (ZOOKEEPER-2354). We model ZOOKEEPER-1653's updatingEpoch marker as the safe default and
// make its absence the SnapshotBeforeEpochNoMarker knob.
func LoadDataBase(d Disk) (Disk, []DiskWrite, error) { return loadDataBase(d, nil) }

// loadDataBase appends the writes to buf, so that a restarted peer can reuse its storage.
func loadDataBase(d Disk, buf []DiskWrite) (Disk, []DiskWrite, error) {
	writes := buf[:0]
	write := func(w DiskWrite) {
		d.Apply(w)
		writes = append(writes, w)
	}
	last := d.LastZxid()
	epochOfZxid := last.Epoch()
	if d.CurrentEpoch < 0 {
		write(DiskWrite{Kind: WriteCurrentEpoch, Epoch: epochOfZxid, Prev: -1})
	}
	if d.UpdatingEpoch {
		if epochOfZxid > d.CurrentEpoch {
			write(DiskWrite{Kind: WriteCurrentEpoch, Epoch: epochOfZxid, Prev: d.CurrentEpoch})
		}
		write(DiskWrite{Kind: WriteClearUpdatingEpochMarker})
	}
	if epochOfZxid > d.CurrentEpoch {
		if d.CurrentEpochTmp < 0 {
			return d, writes, &LoadError{Reason: fmt.Sprintf(
				"The current epoch, %d, is older than the last zxid, %s", d.CurrentEpoch, last)}
		}
		write(DiskWrite{Kind: WriteCurrentEpoch, Epoch: d.CurrentEpochTmp, Prev: d.CurrentEpoch})
	}
	if d.AcceptedEpoch < 0 {
		write(DiskWrite{Kind: WriteAcceptedEpoch, Epoch: epochOfZxid, Prev: -1})
	}
	if d.AcceptedEpoch < d.CurrentEpoch {
		return d, writes, &LoadError{Reason: fmt.Sprintf(
			"The accepted epoch, %d is less than the current epoch, %d", d.AcceptedEpoch, d.CurrentEpoch)}
	}
	return d, writes, nil
}
