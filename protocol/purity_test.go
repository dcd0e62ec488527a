package protocol

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestNoClockNoDiceNoGoroutines enforces the protocol's purity: no wall clock, no randomness,
// no goroutines or channels, no I/O, in protocol/ and sim/ (the world may only read its seeded
// PRNG). Reference: shared/style.md rule 2.
func TestNoClockNoDiceNoGoroutines(t *testing.T) {
	banned := regexp.MustCompile(`time\.Now\(|time\.Since\(|time\.Sleep\(|time\.After\(|time\.NewTimer|time\.Tick|crypto/rand|"os"|"net"|\bgo func\(|^\s*go [a-zA-Z_.]+\(|\bchan\b|"math/rand"`)
	for _, dir := range []string{".", "../sim"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(string(src), "\n") {
				if banned.MatchString(line) {
					t.Errorf("%s:%d: %s", f, i+1, strings.TrimSpace(line))
				}
			}
			if dir == "." && strings.Contains(string(src), `"math/rand/v2"`) {
				t.Errorf("%s imports math/rand/v2: the protocol draws nothing; the world resolves jitter", f)
			}
		}
	}
}
