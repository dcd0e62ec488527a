package protocol

// Txn is one transaction: its zxid and an opaque value. A client write's value is its write
// id (1, 2, ...: the n-th write the run's workload issues), so every copy of a txn anywhere
// says which write it is; 0 is a txn from before the run (an initial disk), whose content only
// its zxid names.
type Txn struct {
	Zxid  Zxid
	Value uint64
}

func lastZxid(txns []Txn) Zxid {
	if len(txns) == 0 {
		return 0
	}
	return txns[len(txns)-1].Zxid
}

// Zxids returns the zxids of txns, for tests and reports.
func Zxids(txns []Txn) []Zxid {
	out := make([]Zxid, len(txns))
	for i, t := range txns {
		out[i] = t.Zxid
	}
	return out
}

// TxnsOf builds txns from zxids, each with value 0 (a history from before the run).
func TxnsOf(zxids ...Zxid) []Txn {
	out := make([]Txn, len(zxids))
	for i, z := range zxids {
		out[i] = Txn{Zxid: z}
	}
	return out
}

// appendCopy returns a new slice holding s followed by extra; s is never modified.
func appendCopy(s []Txn, extra ...Txn) []Txn {
	out := make([]Txn, 0, len(s)+len(extra))
	out = append(out, s...)
	return append(out, extra...)
}

func isPrefix(prefix, s []Txn) bool {
	if len(prefix) > len(s) {
		return false
	}
	for i := range prefix {
		if prefix[i] != s[i] {
			return false
		}
	}
	return true
}

// indexAbove is the index of the first txn with a zxid above z (len when none).
func indexAbove(txns []Txn, z Zxid) int {
	lo, hi := 0, len(txns)
	for lo < hi {
		m := (lo + hi) / 2
		if txns[m].Zxid <= z {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// share returns s capped at its length: a holder that appends to it copies first, so one
// backing array can be handed between the database, disks and messages while its owner keeps
// appending to its own spare capacity.
func share(s []Txn) []Txn { return s[:len(s):len(s)] }
