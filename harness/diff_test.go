package harness

import "testing"

// LineDiff is what a golden mismatch prints, so its hunks must point at the changed events.
func TestLineDiff(t *testing.T) {
	want := "a\nb\nc\nd\ne\nf\ng\nh\ni\n"
	got := "a\nb\nc\nd\nE\nf\ng\nh\ni\nj\n"
	const exp = "@@ want line 2 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n i\n+j\n"
	if d := LineDiff(want, got); d != exp {
		t.Errorf("got\n%s\nwant\n%s", d, exp)
	}
	if d := LineDiff(want, want); d != "" {
		t.Errorf("equal texts give a diff:\n%s", d)
	}
}
