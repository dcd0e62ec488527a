package userscenario_test

import "flag"

// The golden tests of other packages take -update; defining it here too lets
// `go test ./... -update` run without "flag provided but not defined" in this package.
var _ = flag.Bool("update", false, "rewrite golden files (used by the golden tests of other packages)")
