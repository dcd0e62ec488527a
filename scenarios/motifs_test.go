package scenarios

import (
	"testing"

	"zabsim/checker"
	"zabsim/protocol"
)

// motifDrawer is a seeded drawer that makes one motif's choice fixed.
type motifDrawer struct {
	*RandDrawer
	motif int
}

func (d motifDrawer) Draw(label string, min, max int) int {
	if label == "motif" {
		return d.motif
	}
	return d.RandDrawer.Draw(label, min, max)
}

// TestMotifsReachTheirBugs pins each motif and checks that it does what it is for: on the
// faithful protocol its runs are clean (no invariant is tuned to a motif), and with the knob of
// the bug it stands for it finds that bug in a good share of runs. Independent random faults
// found these knobs about once in 179, 855 and 51 runs (issue 4's first hunts); the shares
// below are what lets rapid's 100 checks find every knob. Seeds are fixed, so the counts are
// exact; the thresholds leave room for generator changes.
// Reference: ZOOKEEPER-1192 (Zab1_0Test.testAbandonBeforeACKEpoch), ZOOKEEPER-1818
// (FLETest.testJoinInconsistentEnsemble), ZOOKEEPER-2307; issue 4.
func TestMotifsReachTheirBugs(t *testing.T) {
	const runs = 200
	cases := []struct {
		motif    int
		knob     string
		want     string
		minFound int
	}{
		{motifBareQuorumHandshake, "EpochAckWaitsWrongFlag", checker.ActivationNeedsVoterQuorum, runs / 5},
		{motifMixedRounds, "StrictOutOfElectionVoteEquality", checker.JoinerFollows, runs / 10},
		{motifHandshakeRejoin, "EpochMemoryBeforeFile", checker.EpochFileOrder, runs / 10},
		{motifWritesAroundSync, "CommitAfterNewLeaderNPE", checker.CommitInSyncWellFormed, runs / 10},
		{motifWritesAroundSync, "LastProcessedSetOnDiff", checker.ReportedZxidIsTrue, runs / 20},
		{motifAckThenResync, "AcksKeptAcrossResync", checker.CommittedDurability, runs / 20},
		{motifDisloyalVoter, "NoQuitOnDisloyalVoter", checker.FalseLeaderAbdicates, runs / 10},
		{motifStaleLeaderDiff, "CommittedLogHole", checker.UptodateFresh, runs / 20},
		{motifSnapThenLead, "NoTxnlogGapCheck", checker.SyncChoiceSound, runs / 10},
		{motifSnapThenLead, "TxnLogGapCheckAtEndOnly", checker.SyncChoiceSound, runs / 10},
	}
	for _, c := range cases {
		t.Run(c.knob, func(t *testing.T) {
			found := 0
			for seed := uint64(0); seed < runs; seed++ {
				spec := GenerateRun(motifDrawer{NewRandDrawer(seed), c.motif}, "motif", seed)
				rep, err := checker.Run(spec, checker.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Violations) > 0 {
					t.Fatalf("seed %d: motif %d breaks the faithful protocol: %v", seed, c.motif, rep.ViolationNames())
				}
				if err := spec.Config.Knobs.Set(c.knob); err != nil {
					t.Fatal(err)
				}
				rep, err = checker.Run(spec, checker.Options{})
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range rep.ViolationNames() {
					if v == c.want {
						found++
						break
					}
				}
			}
			t.Logf("motif %d: every faithful run clean; %s found in %d of %d runs", c.motif, c.want, found, runs)
			if found < c.minFound {
				t.Errorf("motif %d finds %s in %d of %d runs, want at least %d", c.motif, c.want, found, runs, c.minFound)
			}
		})
	}
}

// TestExpectedLeader: the motifs aim at the voter Fast Leader Election picks from the disks.
func TestExpectedLeader(t *testing.T) {
	b := Cluster(3, 0)
	if got := expectedLeader(b, 3); got != 3 {
		t.Errorf("fresh disks: expected leader %d, want 3 (highest sid)", got)
	}
	b.Disk(1, 2, 2, protocol.MakeZxid(2, 1))
	if got := expectedLeader(b, 3); got != 1 {
		t.Errorf("server 1 has the newest epoch: expected leader %d, want 1", got)
	}
	b.Disk(2, 2, 2, protocol.MakeZxid(2, 1))
	if got := expectedLeader(b, 3); got != 2 {
		t.Errorf("servers 1 and 2 tie on epoch and zxid: expected leader %d, want 2", got)
	}
}
