package scenarios

import (
	"testing"

	"zabsim/protocol"
)

// Generated disks must be reachable by a real ensemble: an epoch that holds txns or is some
// server's currentEpoch was acked (acceptedEpoch >= it) by a voter quorum, and no observer
// logged more of the history than a voter quorum did. Without the first, a new leader could
// reuse an epoch a server holds txns of; without the second an observer held committed txns
// no voter had. Both made the history invariants fire on runs ZooKeeper cannot have.
func TestGeneratedDisksAreReachable(t *testing.T) {
	for seed := uint64(1); seed <= 3000; seed++ {
		spec := GenerateRun(NewRandDrawer(seed), "random", seed)
		cfg := &spec.Config
		disk := func(id protocol.ServerID) (protocol.Disk, bool) {
			for _, sd := range spec.Disks {
				if sd.ID == id {
					return sd.Disk, true
				}
			}
			return protocol.Disk{}, false
		}
		var top protocol.Epoch
		var voterLens []int
		for _, sc := range cfg.Servers {
			id := sc.ID
			d, _ := disk(id)
			top = max(top, d.CurrentEpoch, d.LastZxid().Epoch())
			if cfg.IsParticipant(id) {
				voterLens = append(voterLens, len(d.Txns))
			}
		}
		acked := 0
		for _, sc := range cfg.Servers {
			id := sc.ID
			if d, ok := disk(id); ok && cfg.IsParticipant(id) && d.AcceptedEpoch >= top {
				acked++
			}
		}
		if top > 0 && 2*acked <= cfg.Voters() {
			t.Fatalf("seed %d: epoch %d is on disk but only %d of %d voters accepted it", seed, top, acked, cfg.Voters())
		}
		for _, sc := range cfg.Servers {
			id := sc.ID
			d, _ := disk(id)
			if cfg.IsParticipant(id) {
				continue
			}
			longer := 0
			for _, n := range voterLens {
				if n >= len(d.Txns) {
					longer++
				}
			}
			if 2*longer <= cfg.Voters() {
				t.Fatalf("seed %d: observer %d holds %d txns, more than a voter quorum logged", seed, id, len(d.Txns))
			}
		}
	}
}
