package statehash

import (
	"testing"

	"github.com/stretchr/testify/require"

	"zabsim/protocol"
)

type inner struct {
	Conn protocol.ConnID
	gen  uint32
	set  map[int]string
}

type outer struct {
	A       int
	In      []inner
	scratch []int
	self    *outer
	anyv    any
}

var rules = Rules{Skip: map[string]string{"statehash.outer.scratch": "scratch"}, Gens: map[string]bool{"statehash.inner.gen": true}}

func digest(w *Walker, v any) [2]uint64 {
	h := New()
	var c Canon
	var gens []uint32
	w.CollectGens(v, &gens)
	c.SetGens(gens)
	w.Walk(&h, &c, v)
	return h.Sum()
}

// Connection ids and generations go in by their canonical names, so two states that differ
// only in how things were numbered digest alike; anything else that differs does not.
func TestCanonicalNamesMeetAndContentDiffers(t *testing.T) {
	w := NewWalker(rules)
	a := &outer{A: 1, In: []inner{{Conn: 7, gen: 40}, {Conn: 9, gen: 41}, {Conn: 7, gen: 40}}}
	b := &outer{A: 1, In: []inner{{Conn: 3, gen: 5}, {Conn: 4, gen: 6}, {Conn: 3, gen: 5}}}
	require.Equal(t, digest(w, a), digest(w, b))
	b.In[2].Conn = 4 // names the other connection now
	require.NotEqual(t, digest(w, a), digest(w, b))
	b.In[2].Conn = 3
	b.In[2].gen = 6 // the other generation
	require.NotEqual(t, digest(w, a), digest(w, b))
	b.In[2].gen = 5
	b.scratch = []int{1, 2, 3} // skipped
	require.Equal(t, digest(w, a), digest(w, b))
	b.A = 2
	require.NotEqual(t, digest(w, a), digest(w, b))
}

// Maps go in key order, cycles as back references, interfaces with their dynamic type.
func TestMapsCyclesInterfaces(t *testing.T) {
	w := NewWalker(rules)
	a := &outer{In: []inner{{set: map[int]string{1: "x", 2: "y", 3: "z"}}}}
	a.self = a
	first := digest(w, a)
	for range 20 {
		require.Equal(t, first, digest(w, a)) // map iteration order changes nothing
	}
	b := &outer{In: []inner{{set: map[int]string{1: "x", 2: "y", 3: "z"}}}, anyv: int64(1)}
	b.self = b
	c := &outer{In: []inner{{set: map[int]string{1: "x", 2: "y", 3: "z"}}}, anyv: int32(1)}
	c.self = c
	require.NotEqual(t, digest(w, b), digest(w, c))
}

// A func or chan field that no rule skips is a mistake in the rules, said by name.
func TestUnruledFuncPanics(t *testing.T) {
	type withFunc struct{ f func() }
	w := NewWalker(Rules{})
	require.PanicsWithValue(t, "statehash: statehash.withFunc.f (func()) has no rule: skip it with a reason", func() {
		h := New()
		w.Walk(&h, &Canon{}, &withFunc{f: func() {}})
	})
	fields := w.Fields(&withFunc{})
	require.Equal(t, "walk", fields["statehash.withFunc.f"])
}
