package sim

import (
	"math/rand/v2"
	"slices"
	"testing"

	"zabsim/protocol"
)

// TestQueueOrder: pushes and pops at random, read timeouts (which go to lanes) among other
// events, some due before the last of their lane: the queue pops in (at, seq) order exactly,
// as one heap would, and counts what it holds.
func TestQueueOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var q eventQueue
	for round := 0; round < 50; round++ {
		q.reset()
		var seq uint64
		var now protocol.Time
		var pending []queueKey // what a single heap would hold, as (at, seq)
		popped, lanesUsed := 0, false
		for step := 0; step < 2000; step++ {
			if r.IntN(3) > 0 || len(pending) == 0 {
				seq++
				e := event{at: now + protocol.Time(r.IntN(50)), seq: seq, kind: evDeliver, server: r.IntN(3)}
				switch r.IntN(4) {
				case 0:
					e.kind, e.timer = evTimer, protocol.TimerID{Kind: protocol.TimerLearnerRead}
				case 1:
					e.kind, e.timer = evTimer, protocol.TimerID{Kind: protocol.TimerHandler, Conn: protocol.ConnID(1 + r.IntN(4))}
				case 2:
					e.kind, e.timer = evTimer, protocol.TimerID{Kind: protocol.TimerElection}
				}
				q.push(&e)
				lanesUsed = lanesUsed || len(q.laneHeap) > 0
				pending = append(pending, queueKey{at: e.at, seq: e.seq})
				continue
			}
			slot, ok := q.pop()
			if !ok {
				t.Fatalf("round %d: the queue is empty with %d pending", round, len(pending))
			}
			e := q.at(slot)
			i := slices.IndexFunc(pending, func(k queueKey) bool { return k.seq == e.seq })
			least := slices.MinFunc(pending, func(a, b queueKey) int {
				if keyLess(&a, &b) {
					return -1
				}
				if keyLess(&b, &a) {
					return 1
				}
				return 0
			})
			if i < 0 || least.seq != e.seq {
				t.Fatalf("round %d step %d: popped (%d, %d), the least pending is (%d, %d)", round, step, e.at, e.seq, least.at, least.seq)
			}
			now = e.at
			pending = slices.Delete(pending, i, i+1)
			q.release(slot)
			popped++
			if q.len() != len(pending) {
				t.Fatalf("round %d: len %d, %d pending", round, q.len(), len(pending))
			}
		}
		if popped == 0 || !lanesUsed {
			t.Fatalf("round %d: popped %d, lanes used %v: the test exercised too little", round, popped, lanesUsed)
		}
	}
}
