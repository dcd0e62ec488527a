// Package statehash digests the state of a simulated world into 128 bits, for the explorer's
// visited set: two states with the same digest are treated as the same state, so every field
// that can change what happens next must go in, and what only names things (connection ids,
// timer generations) goes in by its canonical name, so that two runs that reach the same state
// by different orders meet.
//
// Values are walked by reflection: every field of every struct reached is digested unless the
// rules (Skip) say why not, so a field added later is digested without anyone remembering to
// (the safe side: a digest that tells too much only merges less). Fields of type
// protocol.ConnID are renumbered in order of first sight (Canon), and the timer generation
// fields (Gens) by their rank among one server's live generations.
package statehash

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"

	"zabsim/protocol"
)

// H is a 128-bit digest in two independent 64-bit lanes (a 64-bit fingerprint collides with
// probability about n²/2⁶⁵: 3% at 10⁹ states).
type H struct{ a, b uint64 }

// New returns an empty digest.
func New() H { return H{a: 0x9e3779b97f4a7c15, b: 0xc2b2ae3d27d4eb4f} }

// U64 mixes in one word.
func (h *H) U64(v uint64) {
	h.a = mix(h.a^v, 0xbf58476d1ce4e5b9)
	h.b = mix(h.b+v, 0x94d049bb133111eb)
}

func mix(x, m uint64) uint64 {
	x ^= x >> 31
	x *= m
	x ^= x >> 29
	x *= 0xff51afd7ed558ccd
	return x ^ x>>32
}

// I64 mixes in a signed word.
func (h *H) I64(v int64) { h.U64(uint64(v)) }

// Bool mixes in a flag.
func (h *H) Bool(v bool) {
	if v {
		h.U64(1)
	} else {
		h.U64(0)
	}
}

// String mixes in a string, with its length.
func (h *H) String(s string) {
	h.U64(uint64(len(s)))
	for len(s) >= 8 {
		h.U64(uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56)
		s = s[8:]
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		v |= uint64(s[i]) << (8 * i)
	}
	h.U64(v)
}

// Sum is the digest.
func (h *H) Sum() [2]uint64 { return [2]uint64{h.a, h.b} }

// Canon holds the canonical names of one digest: connection ids in order of first sight, and
// the generation ranks of the server being walked.
type Canon struct {
	conns []protocol.ConnID // canonical id n+1 is conns[n]
	// gens are the live generations of the server being walked, sorted; a generation field
	// is digested as its rank here (SetGens).
	gens []uint32
}

// Reset empties c for a new digest.
func (c *Canon) Reset() { c.conns, c.gens = c.conns[:0], c.gens[:0] }

// Conn is the canonical number of connection id (0 stays 0).
func (c *Canon) Conn(id protocol.ConnID) uint64 {
	if id == 0 {
		return 0
	}
	if i := slices.Index(c.conns, id); i >= 0 {
		return uint64(i + 1)
	}
	c.conns = append(c.conns, id)
	return uint64(len(c.conns))
}

// Conns lists the connections named so far, in canonical order; a caller may digest each
// after the walk (the list grows while it does).
func (c *Canon) Conns() []protocol.ConnID { return c.conns }

// SetGens sets the generations a walk of one server ranks against.
func (c *Canon) SetGens(gens []uint32) {
	slices.Sort(gens)
	c.gens = slices.Compact(gens)
}

// Gen is the rank of generation g among the server's generations (one past them for an
// unknown one, which cannot happen when CollectGens saw everything).
func (c *Canon) Gen(g uint32) uint64 {
	i, ok := slices.BinarySearch(c.gens, g)
	if !ok {
		return math.MaxUint64
	}
	return uint64(i)
}

// Rules say how fields are treated, by "Type.field" (Type as reflect names it, package
// included: "protocol.QuorumPeer.cfg").
type Rules struct {
	// Skip: fields left out, each with the reason it cannot change what happens next.
	Skip map[string]string
	// Gens: uint32 fields that hold a timer generation (digested by rank).
	Gens map[string]bool
}

// Walker digests values by Rules, with its plans per type cached.
type Walker struct {
	rules Rules
	plans sync.Map // reflect.Type -> *plan; read without a lock by parallel workers
}

// Skips reports whether the rules leave out the named field or part.
func (w *Walker) Skips(name string) bool { return w.rules.Skip[name] != "" }

// NewWalker returns a walker for rules.
func NewWalker(r Rules) *Walker { return &Walker{rules: r} }

type action uint8

const (
	actWalk action = iota
	actGen
)

type plan struct {
	fields []fieldPlan
}

type fieldPlan struct {
	index int
	act   action
}

var connType = reflect.TypeOf(protocol.ConnID(0))

func (w *Walker) plan(t reflect.Type) *plan {
	if p, ok := w.plans.Load(t); ok {
		return p.(*plan)
	}
	p := &plan{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := t.String() + "." + f.Name
		switch {
		case f.Name == "_":
			continue
		case w.rules.Skip[name] != "":
			continue
		case w.rules.Gens[name]:
			p.fields = append(p.fields, fieldPlan{i, actGen})
		default:
			p.fields = append(p.fields, fieldPlan{i, actWalk})
		}
	}
	got, _ := w.plans.LoadOrStore(t, p)
	return got.(*plan)
}

// Walk digests v into h. Pointers are followed (a pointer seen before in this walk is digested
// as a back reference), maps in key order, interfaces by their dynamic type. A func or chan
// that no rule skips is a mistake in the rules: Walk panics naming it.
func (w *Walker) Walk(h *H, c *Canon, v any) {
	st := walkState{h: h, c: c}
	w.walk(&st, reflect.ValueOf(v), where{})
}

type walkState struct {
	h    *H
	c    *Canon
	seen map[uintptr]int
	gens *[]uint32 // collecting generations instead of digesting
}

// CollectGens appends to gens every generation field reached from v (for SetGens).
func (w *Walker) CollectGens(v any, gens *[]uint32) {
	var h H
	st := walkState{h: &h, c: &Canon{}, gens: gens}
	w.walk(&st, reflect.ValueOf(v), where{})
}

// where names the field being walked (the struct type and field index), for the panic only.
type where struct {
	t reflect.Type
	i int
}

func (p where) String() string {
	if p.t == nil {
		return "the value"
	}
	return p.t.String() + "." + p.t.Field(p.i).Name
}

func (w *Walker) walk(st *walkState, v reflect.Value, path where) {
	h := st.h
	if v.Type() == connType {
		h.U64(st.c.Conn(protocol.ConnID(v.Uint())))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		h.Bool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		h.I64(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		h.U64(v.Uint())
	case reflect.String:
		h.String(v.String())
	case reflect.Float32, reflect.Float64:
		h.U64(math.Float64bits(v.Float()))
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			w.walk(st, v.Index(i), path)
		}
	case reflect.Slice:
		h.U64(uint64(v.Len()))
		for i := 0; i < v.Len(); i++ {
			w.walk(st, v.Index(i), path)
		}
	case reflect.Pointer:
		if v.IsNil() {
			h.U64(0)
			return
		}
		if n, ok := st.seen[v.Pointer()]; ok {
			h.U64(2)
			h.U64(uint64(n))
			return
		}
		if st.seen == nil {
			st.seen = map[uintptr]int{}
		}
		st.seen[v.Pointer()] = len(st.seen)
		h.U64(1)
		w.walk(st, v.Elem(), path)
	case reflect.Interface:
		if v.IsNil() {
			h.U64(0)
			return
		}
		e := v.Elem()
		h.String(e.Type().String())
		w.walk(st, e, path)
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, compareKeys)
		h.U64(uint64(len(keys)))
		for _, k := range keys {
			w.walk(st, k, path)
			w.walk(st, v.MapIndex(k), path)
		}
	case reflect.Struct:
		t := v.Type()
		for _, f := range w.plan(t).fields {
			fv := v.Field(f.index)
			switch f.act {
			case actGen:
				if st.gens != nil {
					*st.gens = append(*st.gens, uint32(fv.Uint()))
				}
				h.U64(st.c.Gen(uint32(fv.Uint())))
			default:
				w.walk(st, fv, where{t, f.index})
			}
		}
	default:
		panic(fmt.Sprintf("statehash: %s (%s) has no rule: skip it with a reason", path, v.Type()))
	}
}

func compareKeys(a, b reflect.Value) int {
	switch a.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return cmp.Compare(a.Int(), b.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return cmp.Compare(a.Uint(), b.Uint())
	case reflect.String:
		return strings.Compare(a.String(), b.String())
	case reflect.Bool:
		return cmp.Compare(boolInt(a.Bool()), boolInt(b.Bool()))
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if c := compareKeys(a.Field(i), b.Field(i)); c != 0 {
				return c
			}
		}
		return 0
	}
	panic(fmt.Sprintf("statehash: a map key of kind %s cannot be ordered", a.Kind()))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Fields lists every "Type.field" reachable from the values vs, with the action the rules
// give it ("walk", "skip: reason", "gen"), for the completeness test and for a reader. It
// follows the dynamic values of interfaces (so pass values as they are in a run), and the
// static types elsewhere.
func (w *Walker) Fields(vs ...any) map[string]string {
	out := map[string]string{}
	seen := map[reflect.Type]bool{}
	var visit func(t reflect.Type, v reflect.Value)
	visit = func(t reflect.Type, v reflect.Value) {
		if t.Kind() == reflect.Interface {
			if v.IsValid() && !v.IsNil() {
				visit(v.Elem().Type(), v.Elem())
			}
			return
		}
		if seen[t] && !hasInterface(t, map[reflect.Type]bool{}) {
			return
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Pointer:
			var e reflect.Value
			if v.IsValid() && !v.IsNil() {
				e = v.Elem()
			}
			visit(t.Elem(), e)
		case reflect.Slice, reflect.Array:
			if v.IsValid() && v.Len() > 0 {
				for i := 0; i < v.Len(); i++ {
					visit(t.Elem(), v.Index(i))
				}
			} else {
				visit(t.Elem(), reflect.Value{})
			}
		case reflect.Map:
			visit(t.Key(), reflect.Value{})
			visit(t.Elem(), reflect.Value{})
		case reflect.Struct:
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				if f.Name == "_" {
					continue
				}
				name := t.String() + "." + f.Name
				switch {
				case w.rules.Skip[name] != "":
					out[name] = "skip: " + w.rules.Skip[name]
				case w.rules.Gens[name]:
					out[name] = "gen"
				default:
					out[name] = "walk"
					var fv reflect.Value
					if v.IsValid() {
						fv = v.Field(i)
					}
					visit(f.Type, fv)
				}
			}
		}
	}
	for _, v := range vs {
		rv := reflect.ValueOf(v)
		visit(rv.Type(), rv)
	}
	return out
}

func hasInterface(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return hasInterface(t.Elem(), seen)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if hasInterface(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}
