package report

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
)

func TestConfusion(t *testing.T) {
	got := Confusion([]int{0, 0, 1, 2, 2, 2, -1, 5, 1}, []int{0, 1, 1, 2, 0, 2, 0, 1}, 3)
	want := [][]int{{1, 1, 0}, {0, 1, 0}, {1, 0, 2}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("Confusion = %v, want %v", got, want)
	}
	if m := Confusion(nil, nil, 0); len(m) != 0 {
		t.Errorf("empty: %v", m)
	}
}

func TestConfusionMarkdown(t *testing.T) {
	var b bytes.Buffer
	labels := []string{"good", "crack", "hole"}
	if err := ConfusionMarkdown(&b, labels, [][]int{{8, 2, 0}, {1, 3, 0}, {0, 0, 0}}); err != nil {
		t.Fatal(err)
	}
	want := `| true \ predicted | good | crack | hole | total | recall |
| ---------------- | ---- | ----- | ---- | ----- | -----: |
| good             | 8    | 2     | 0    | 10    |   80.0 |
| crack            | 1    | 3     | 0    | 4     |   75.0 |
| hole             | 0    | 0     | 0    | 0     |      – |
`
	if b.String() != want {
		t.Errorf("markdown:\n%s\nwant:\n%s", b.String(), want)
	}
	if err := ConfusionMarkdown(&b, labels, [][]int{{1}}); err == nil {
		t.Error("non-square matrix accepted")
	}
}

func TestConfusionPNG(t *testing.T) {
	dir := t.TempDir()
	var sizes []int
	for _, n := range []int{2, 25} {
		labels := make([]string, n)
		var ti, pi []int
		for i := range labels {
			labels[i] = fmt.Sprintf("defect_type_%d", i)
			for k := range 10 {
				ti, pi = append(ti, i), append(pi, (i+k/7)%n)
			}
		}
		labels[n-1] = "a_very_long_defect_class_name_that_needs_cutting"
		m := Confusion(ti, pi, n)
		m[0] = make([]int, n) // an empty row
		path := filepath.Join(dir, fmt.Sprintf("confusion%d.png", n))
		if err := ConfusionPNG(path, "Defect types", labels, m); err != nil {
			t.Fatal(err)
		}
		sz := decodePNG(t, path)
		if sz.X < 300 || sz.Y < 300 {
			t.Errorf("%d classes: tiny image %v", n, sz)
		}
		sizes = append(sizes, sz.X)
	}
	if sizes[1] <= sizes[0] {
		t.Errorf("25-class figure (%d px) not wider than 2-class (%d px)", sizes[1], sizes[0])
	}
	noTempFiles(t, dir)

	bad := filepath.Join(dir, "bad.png")
	for _, c := range []struct {
		labels []string
		counts [][]int
	}{
		{nil, nil},
		{[]string{"a", "b"}, [][]int{{1, 2}}},
		{[]string{"a", "b"}, [][]int{{1, 2}, {3}}},
		{[]string{"a"}, [][]int{{-1}}},
	} {
		if err := ConfusionPNG(bad, "", c.labels, c.counts); err == nil {
			t.Errorf("invalid matrix %v accepted", c.counts)
		}
	}
}

func TestEllipsize(t *testing.T) {
	if got := ellipsize("abcdef", 4); got != "abc…" {
		t.Errorf("ellipsize = %q", got)
	}
	if got := ellipsize("abc", 4); got != "abc" {
		t.Errorf("ellipsize = %q", got)
	}
}
