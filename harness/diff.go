package harness

import (
	"fmt"
	"strings"
)

// LineDiff returns a unified-style diff of two texts, line by line ("-" only in want, "+"
// only in got, " " context), with at most three lines of context around each change. It uses
// a longest-common-subsequence table, which is quadratic but fine for golden files of a few
// thousand lines.
func LineDiff(want, got string) string {
	a := strings.Split(strings.TrimSuffix(want, "\n"), "\n")
	b := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	// Common prefix and suffix are trimmed first so the table covers only the changed middle.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	lcs := make([][]int, len(ma)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(mb)+1)
	}
	for i := len(ma) - 1; i >= 0; i-- {
		for j := len(mb) - 1; j >= 0; j-- {
			if ma[i] == mb[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
		na   int // line number in want, for the hunk headers
	}
	var ops []line
	for i := 0; i < pre; i++ {
		ops = append(ops, line{' ', a[i], i + 1})
	}
	i, j := 0, 0
	for i < len(ma) || j < len(mb) {
		switch {
		case i < len(ma) && j < len(mb) && ma[i] == mb[j]:
			ops = append(ops, line{' ', ma[i], pre + i + 1})
			i++
			j++
		// Deletions before insertions, as unified diffs print a replaced line.
		case i < len(ma) && (j == len(mb) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, line{'-', ma[i], pre + i + 1})
			i++
		default:
			ops = append(ops, line{'+', mb[j], pre + i + 1})
			j++
		}
	}
	for k := len(a) - suf; k < len(a); k++ {
		ops = append(ops, line{' ', a[k], k + 1})
	}
	const context = 3
	var out strings.Builder
	last := -1 // index of the last op printed
	for k, op := range ops {
		if op.op == ' ' {
			continue
		}
		from := max(k-context, last+1)
		if from > last+1 || last < 0 {
			fmt.Fprintf(&out, "@@ want line %d @@\n", ops[from].na)
		}
		// Print context before, the change, and context after up to the next change.
		for m := from; m <= k; m++ {
			out.WriteString(string(ops[m].op) + ops[m].text + "\n")
		}
		last = k
		for m := k + 1; m < len(ops) && m <= k+context && ops[m].op == ' '; m++ {
			out.WriteString(" " + ops[m].text + "\n")
			last = m
		}
	}
	return out.String()
}
