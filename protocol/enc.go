package protocol

import "strconv"

// Enc is the one encoding of trace content. In text mode it appends the text a trace line
// shows; in hash mode it digests the same values instead. Every Encode method writes each
// field it shows through a value method (Int, Zxid, Str, Enum, ...) and only punctuation
// through Lit, so a hash computed with Enc covers every field the text shows (a test perturbs
// each field and checks). Enc is a concrete type so its calls inline on the simulator's hot
// path.
type Enc struct {
	// Hash selects hash mode: values are mixed into H and nothing is appended to Buf.
	Hash bool
	Buf  []byte
	H    uint64
}

// NewHashEnc returns an encoder in hash mode whose digest starts at h.
func NewHashEnc(h uint64) Enc { return Enc{Hash: true, H: h} }

// mix folds one word into the digest (a multiply-xorshift step).
func (e *Enc) mix(v uint64) {
	e.H = (e.H ^ v) * 0x9e3779b97f4a7c15
	e.H ^= e.H >> 29
}

// Lit writes fixed punctuation or a label: text only, never content.
func (e *Enc) Lit(s string) {
	if !e.Hash {
		e.Buf = append(e.Buf, s...)
	}
}

// Byte writes one punctuation byte (text only).
func (e *Enc) Byte(c byte) {
	if !e.Hash {
		e.Buf = append(e.Buf, c)
	}
}

// Flag writes label when on is true; the hash digests on either way, so a flag that only
// appears in the text when set still changes the hash.
func (e *Enc) Flag(on bool, label string) {
	if e.Hash {
		v := uint64(0x2545f491)
		if on {
			v++
		}
		e.mix(v)
		return
	}
	if on {
		e.Buf = append(e.Buf, label...)
	}
}

// Int writes a decimal integer.
func (e *Enc) Int(v int64) {
	if e.Hash {
		e.mix(uint64(v))
	} else {
		e.appendInt(v)
	}
}

// Uint writes an unsigned decimal integer.
func (e *Enc) Uint(v uint64) {
	if e.Hash {
		e.mix(v)
	} else {
		e.appendUint(v)
	}
}

// The text halves of the value methods stay out of line, so that the hash halves inline on
// the simulator's path (which only hashes).

//go:noinline
func (e *Enc) appendInt(v int64) { e.Buf = strconv.AppendInt(e.Buf, v, 10) }

//go:noinline
func (e *Enc) appendUint(v uint64) { e.Buf = strconv.AppendUint(e.Buf, v, 10) }

//go:noinline
func (e *Enc) appendZxid(z Zxid) { e.Buf = appendZxid(e.Buf, z) }

//go:noinline
func (e *Enc) appendTime(t Time) { e.Buf = append(e.Buf, FormatTime(t)...) }

//go:noinline
func (e *Enc) appendVoteInt(v int64) { e.Buf = appendVoteInt(e.Buf, v) }

// Enum writes the name of an enumerated value, and digests its number.
func (e *Enc) Enum(v int, name string) {
	if e.Hash {
		e.mix(uint64(v) ^ 0x5bd1e995<<32)
		return
	}
	e.Buf = append(e.Buf, name...)
}

// Str writes content text (a reason, a detail), digesting its bytes.
func (e *Enc) Str(s string) {
	if e.Hash {
		e.mix(uint64(len(s)))
		h := e.H
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= 1099511628211
		}
		e.H = h
		return
	}
	e.Buf = append(e.Buf, s...)
}

// Zxid writes a zxid as ZooKeeper logs it (0x...).
func (e *Enc) Zxid(z Zxid) {
	if e.Hash {
		e.mix(uint64(z))
	} else {
		e.appendZxid(z)
	}
}

// Time writes virtual time as FormatTime does.
func (e *Enc) Time(t Time) {
	if e.Hash {
		e.mix(uint64(t))
	} else {
		e.appendTime(t)
	}
}

// VoteInt writes an FLE vote field: "none" for an observer's Long.MIN_VALUE.
func (e *Enc) VoteInt(v int64) {
	if e.Hash {
		e.mix(uint64(v))
	} else {
		e.appendVoteInt(v)
	}
}

// Vote writes an FLE vote's fields as notifications and election notes show them:
// "leader=L zxid=Z round=R peerEpoch=E", with "none" for an observer's missing values.
func (e *Enc) Vote(leader int64, zxid Zxid, round int64, peerEpoch int64) {
	e.Lit(" leader=")
	e.VoteInt(leader)
	e.Lit(" zxid=")
	if zxid == noZxid {
		e.Enum(-1, "none")
	} else {
		e.Zxid(zxid)
	}
	e.Lit(" round=")
	e.Int(round)
	e.Lit(" peerEpoch=")
	e.VoteInt(peerEpoch)
}

// Sids writes a list of server ids as [1,2,3].
func (e *Enc) Sids(sids []ServerID) {
	if e.Hash {
		e.mix(uint64(len(sids)))
		for _, s := range sids {
			e.mix(uint64(s))
		}
		return
	}
	e.Buf = appendSids(e.Buf, sids)
}

// History writes a list of txns as a count and its last zxid, and digests every one of them,
// values included: the text stays one line for a snapshot of thousands. (A txn from before
// the run has value 0 and digests as its zxid alone, as histories did before txns had values.)
func (e *Enc) History(txns []Txn) {
	if e.Hash {
		e.mix(uint64(len(txns)))
		for _, t := range txns {
			e.mix(uint64(t.Zxid))
			if t.Value != 0 {
				e.mix(t.Value ^ 0x7478)
			}
		}
		return
	}
	e.Buf = strconv.AppendInt(e.Buf, int64(len(txns)), 10)
	if len(txns) > 0 {
		e.Buf = append(e.Buf, '@')
		e.Buf = appendZxid(e.Buf, txns[len(txns)-1].Zxid)
	}
}

func appendZxid(b []byte, z Zxid) []byte {
	if z < 0 {
		return strconv.AppendInt(b, int64(z), 10)
	}
	return strconv.AppendInt(append(b, "0x"...), int64(z), 16)
}

// UnknownName is the text of an enumerated value outside its names ("Kind(7)"), out of line so
// that the String methods inline.
//
//go:noinline
func UnknownName(kind string, v int) string { return kind + "(" + strconv.Itoa(v) + ")" }

// FillNames gives every unnamed value below len(names) the text UnknownName gives it, so that
// a String method is one bounds check and inlines.
func FillNames(kind string, names []string) []string {
	for i, n := range names {
		if n == "" {
			names[i] = UnknownName(kind, i)
		}
	}
	return names
}
