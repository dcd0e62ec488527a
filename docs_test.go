package zabsim_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"zabsim/checker"
	"zabsim/protocol"
	"zabsim/sim"
)

// The docs must stand on their own in a clone: no pointers into the design folder that lives
// outside the repository, no dead relative links, and every invariant, outsider kind, knob and
// fault kind the code defines is documented. Reference: issue 10.

// docFiles are README.md and docs/*.md.
func docFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no docs/*.md")
	}
	return append([]string{"README.md"}, files...)
}

func readDoc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDocsDoNotPointOutsideTheRepo(t *testing.T) {
	for _, f := range docFiles(t) {
		for i, line := range strings.Split(readDoc(t, f), "\n") {
			for _, bad := range []string{"../shared", "shared/spec"} {
				if strings.Contains(line, bad) {
					t.Errorf("%s:%d mentions %q, which a clone does not have: %s", f, i+1, bad, line)
				}
			}
		}
	}
}

var (
	mdLink    = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)\)`)
	mdHeading = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*$`)
	mdFence   = regexp.MustCompile("(?ms)^```.*?^```")
)

// anchor is GitHub's heading slug: lower case, punctuation dropped, spaces to hyphens.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ' || r == '-':
			b.WriteRune('-')
		case r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func anchors(text string) map[string]bool {
	set := map[string]bool{}
	for _, m := range mdHeading.FindAllStringSubmatch(mdFence.ReplaceAllString(text, ""), -1) {
		set[anchor(m[1])] = true
	}
	return set
}

func TestDocsRelativeLinksResolve(t *testing.T) {
	for _, f := range docFiles(t) {
		text := readDoc(t, f)
		for _, m := range mdLink.FindAllStringSubmatch(mdFence.ReplaceAllString(text, ""), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(target, "#")
			dest := f
			if path != "" {
				dest = filepath.Join(filepath.Dir(f), filepath.FromSlash(path))
				if _, err := os.Stat(dest); err != nil {
					t.Errorf("%s links to %q: %v", f, target, err)
					continue
				}
			}
			if frag != "" && strings.HasSuffix(dest, ".md") && !anchors(readDoc(t, dest))[frag] {
				t.Errorf("%s links to %q: %s has no heading with anchor #%s", f, target, dest, frag)
			}
		}
	}
}

// documented fails for every name that docs/page does not mention as `name`.
func documented(t *testing.T, page string, what string, names []string) {
	t.Helper()
	text := readDoc(t, filepath.Join("docs", page))
	if len(names) == 0 {
		t.Fatalf("no %s found in the code", what)
	}
	for _, n := range names {
		if !strings.Contains(text, "`"+n+"`") {
			t.Errorf("docs/%s does not document %s `%s`", page, what, n)
		}
	}
}

func TestDocsNameEveryInvariant(t *testing.T) {
	documented(t, "invariants.md", "invariant", checker.Invariants)
	documented(t, "invariants.md", "outsider kind", []string{checker.OutsiderRefused, checker.OutsiderWouldBeRefused,
		checker.OutsiderPollStarved, checker.OutsiderStuck, checker.OutsiderOther})
}

func TestDocsNameEveryKnob(t *testing.T) {
	documented(t, "knobs.md", "bug knob", protocol.KnobNames)
}

func TestDocsNameEveryFaultKind(t *testing.T) {
	var kinds []string
	for _, s := range sim.FaultSchemas {
		kinds = append(kinds, string(s.Kind))
	}
	documented(t, "model.md", "fault kind", kinds)
	var fields []string
	for _, f := range sim.FaultFields {
		fields = append(fields, f.Name)
	}
	documented(t, "model.md", "fault field", fields)
}
