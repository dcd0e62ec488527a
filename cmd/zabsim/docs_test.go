package main

import (
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zabsim/harness"
)

// TestReadmeListsEveryFlag: the README's "Command line" section names every flag each
// command's -h prints, and every exit code, so the table cannot fall behind the code.
func TestReadmeListsEveryFlag(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	text := string(data)
	start := strings.Index(text, "## Command line\n")
	require.NotEqual(t, -1, start)
	section := text[start:]
	if end := strings.Index(section[1:], "\n## "); end >= 0 {
		section = section[:end+1]
	}
	for _, cmd := range []string{"list", "run", "sweep", "replay", "merge"} {
		_, out, _ := zabsim(cmd, "-h")
		for _, m := range regexp.MustCompile(`(?m)^  (-[a-z-]+)`).FindAllStringSubmatch(out, -1) {
			require.Contains(t, section, "`"+m[1], "README Command line lacks %s %s", cmd, m[1])
		}
	}
	for _, code := range []string{"**0**", "**1**", "**2**", "**3**", "**4**", "**130**"} {
		require.Contains(t, section, code)
	}
}

// TestProgressLine: the progress line shows runs done of the total, failures, speed and ETA,
// and for an open-ended sweep runs done, failures and elapsed time.
func TestProgressLine(t *testing.T) {
	for _, total := range []int{100, 0} {
		var buf syncBuffer
		cfg := harness.SweepConfig{}
		stop := startProgress(&buf, true, total, time.Now().Add(-time.Second), &cfg)
		cfg.Progress(10, total, 2)
		time.Sleep(700 * time.Millisecond)
		stop()
		line := buf.String()
		require.Contains(t, line, "2 failures")
		require.Contains(t, line, "runs/s")
		if total > 0 {
			require.Contains(t, line, "10/100 runs")
			require.Contains(t, line, "ETA ")
		} else {
			require.Contains(t, line, "10 runs (fresh seeds)")
			require.Contains(t, line, "elapsed")
		}
	}
}

// syncBuffer is a strings.Builder safe for the progress goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
