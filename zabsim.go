// Package zabsim is a deterministic simulation testbed for the way Apache ZooKeeper servers
// start up and agree on a leader. The work happens in its packages: protocol (the server as a
// pure state machine), sim (the simulated world), checker (invariants and liveness), scenarios
// (the catalogue), harness (sweeps, replays, timelines) and cmd/zabsim (the command line).
// This root package holds the tests that replay every run file saved under testdata/.
package zabsim
