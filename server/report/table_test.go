package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFormatPercent(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0.9123, "91.2"}, {0.91249, "91.2"}, {0.91251, "91.3"}, {1, "100.0"}, {0, "0.0"},
		{-1e-9, "0.0"}, {0.5, "50.0"}, {math.NaN(), ""}, {math.Inf(1), ""}, {math.Inf(-1), ""},
	} {
		if got := FormatPercent(c.v); got != c.want {
			t.Errorf("FormatPercent(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestCell(t *testing.T) {
	if s := Num(math.NaN()).String(); s != Missing {
		t.Errorf("NaN cell = %q", s)
	}
	if s := Text("a").String(); s != "a" {
		t.Errorf("text cell = %q", s)
	}
	if v, ok := Num(0.25).Number(); !ok || v != 0.25 {
		t.Errorf("Number() = %v, %v", v, ok)
	}
	if _, ok := Text("x").Number(); ok {
		t.Error("text cell claims to be a number")
	}
	var zero Cell
	if zero.String() != "" {
		t.Error("zero cell is not empty text")
	}
}

func exampleTable(t *testing.T) Table {
	t.Helper()
	nan := math.NaN()
	tab, err := MetricsTable("Image-level, MVTec AD",
		[]string{"AUROC", "AP", "F1-max"},
		[]string{"bottle", "cable", "capsule"},
		[][]float64{
			{0.9123, 0.95, nan},
			{0.8, nan, nan},
			{0.7, 0.85}, // short row: F1-max missing
		})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func TestMeanRow(t *testing.T) {
	tab := exampleTable(t)
	mean := tab.Rows[len(tab.Rows)-1]
	if mean[0].String() != "mean" {
		t.Errorf("label %q", mean[0].String())
	}
	want := []float64{(0.9123 + 0.8 + 0.7) / 3, (0.95 + 0.85) / 2}
	for j, w := range want {
		if v, ok := mean[1+j].Number(); !ok || math.Abs(v-w) > 1e-15 {
			t.Errorf("mean column %d = %v, want %v", j, v, w)
		}
	}
	if v, ok := mean[3].Number(); !ok || !math.IsNaN(v) {
		t.Errorf("all-NaN column mean = %v, %v, want NaN", v, ok)
	}

	// Text columns other than the first stay empty.
	row := MeanRow([][]Cell{{Text("a"), Text("x"), Num(1)}, {Text("b"), Text("y"), Num(0)}})
	if row[1].String() != "" || row[2].String() != "50.0" {
		t.Errorf("mean row %v", row)
	}
	if got := MeanRow(nil); len(got) != 1 || got[0].String() != "mean" {
		t.Errorf("MeanRow(nil) = %v", got)
	}
}

func TestMetricsTableErrors(t *testing.T) {
	if _, err := MetricsTable("t", []string{"a"}, []string{"p", "q"}, [][]float64{{1}}); err == nil {
		t.Error("row count mismatch accepted")
	}
	if _, err := MetricsTable("t", []string{"a"}, []string{"p"}, [][]float64{{1, 2}}); err == nil {
		t.Error("too many values accepted")
	}
}

func TestWriteMarkdown(t *testing.T) {
	var b bytes.Buffer
	second := Table{Columns: []string{"name", "note"}, Rows: [][]Cell{{Text("a|b"), Text("two\nlines")}}}
	if err := WriteMarkdown(&b, exampleTable(t), second); err != nil {
		t.Fatal(err)
	}
	want := `### Image-level, MVTec AD

| product | AUROC |   AP | F1-max |
| ------- | ----: | ---: | -----: |
| bottle  |  91.2 | 95.0 |      – |
| cable   |  80.0 |    – |      – |
| capsule |  70.0 | 85.0 |      – |
| mean    |  80.4 | 90.0 |      – |

| name | note      |
| ---- | --------- |
| a\|b | two lines |
`
	if b.String() != want {
		t.Errorf("markdown:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestWriteCSVRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "image.csv")
	tab := exampleTable(t)
	tab.Rows[0][0] = Text(`odd, "quoted" name`)
	if err := WriteCSV(path, tab); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"product", "AUROC", "AP", "F1-max"},
		{`odd, "quoted" name`, "91.2", "95.0", ""},
		{"cable", "80.0", "", ""},
		{"capsule", "70.0", "85.0", ""},
		{"mean", "80.4", "90.0", ""},
	}
	if !slices.EqualFunc(recs, want, slices.Equal) {
		t.Errorf("csv records %q, want %q", recs, want)
	}
	noTempFiles(t, dir)

	if err := WriteCSV(filepath.Join(dir, "missing", "x.csv"), tab); err == nil || !strings.Contains(err.Error(), "x.csv") {
		t.Errorf("write into a missing directory: %v", err)
	}
}

func TestWriteJSONNaN(t *testing.T) {
	type metrics struct {
		Product string             `json:"product"`
		AUROC   float64            `json:"auroc"`
		AP      float32            `json:"ap"`
		Extra   map[string]float64 `json:"extra,omitempty"`
		Curve   []float64          `json:"curve"`
		Skip    float64            `json:"-"`
		Ptr     *float64           `json:"ptr"`
	}
	inf := math.Inf(1)
	v := map[string]any{
		"table": exampleTable(t),
		"rows": []metrics{
			{Product: "bottle", AUROC: math.NaN(), AP: float32(math.Inf(-1)), Extra: map[string]float64{"pro": inf},
				Curve: []float64{0, math.NaN(), 1}, Skip: 1, Ptr: &inf},
		},
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.json")
	if err := WriteJSON(path, v); err != nil {
		t.Fatal(err)
	}
	noTempFiles(t, dir)
	raw := mustRead(t, path)
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("invalid JSON %s: %v", raw, err)
	}
	row := got["rows"].([]any)[0].(map[string]any)
	for _, k := range []string{"auroc", "ap", "ptr"} {
		if x, ok := row[k]; !ok || x != nil {
			t.Errorf("%s = %v, want null", k, x)
		}
	}
	if row["extra"].(map[string]any)["pro"] != nil {
		t.Error("map value Inf not null")
	}
	if c := row["curve"].([]any); c[0] != 0.0 || c[1] != nil || c[2] != 1.0 {
		t.Errorf("curve %v", c)
	}
	if _, ok := row["Skip"]; ok {
		t.Error(`json:"-" field written`)
	}
	tab := got["table"].(map[string]any)
	if tab["title"] != "Image-level, MVTec AD" {
		t.Errorf("title %v", tab["title"])
	}
	first := tab["rows"].([]any)[0].([]any)
	if first[0] != "bottle" || first[1] != 0.9123 || first[3] != nil {
		t.Errorf("table row %v (metrics are raw fractions, NaN null)", first)
	}
	if !bytes.HasSuffix(raw, []byte("}\n")) || !bytes.Contains(raw, []byte("\n  \"")) {
		t.Errorf("not indented JSON with a final newline:\n%s", raw)
	}
}

// For finite values MarshalFinite must agree with encoding/json byte for
// byte (modulo HTML escaping, which it turns off).
func TestMarshalFiniteMatchesEncodingJSON(t *testing.T) {
	type Inner struct {
		A int    `json:"a"`
		B string `json:"b,omitempty"`
	}
	type Shadow struct {
		Name string
		Deep int
	}
	type outer struct {
		Inner
		*Shadow
		Name     string            `json:"name"`
		Bytes    []byte            `json:"bytes"`
		NilSlice []int             `json:"nil_slice"`
		Empty    []int             `json:"empty,omitempty"`
		IntKeys  map[int]float32   `json:"int_keys"`
		Any      any               `json:"any"`
		Arr      [2]bool           `json:"arr"`
		Cells    []Cell            `json:"cells"`
		Nested   map[string][]uint `json:"nested"`
		private  int
	}
	v := outer{
		Inner:   Inner{A: 1},
		Shadow:  &Shadow{Name: "hidden", Deep: 3},
		Name:    "x<y>&z",
		Bytes:   []byte("hello"),
		Empty:   []int{},
		IntKeys: map[int]float32{10: 0.1, 2: 1e21, -3: 1e-7},
		Any:     []any{1.5, "s", nil, true, map[string]any{"k": 2}},
		Cells:   []Cell{Num(0.5), Text("t")},
		Nested:  map[string][]uint{"b": {1}, "a": nil},
		private: 7,
	}
	got, err := MarshalFinite(v)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	if string(got) != want.String() {
		t.Errorf("MarshalFinite:\n%s\nencoding/json:\n%s", got, want.String())
	}

	if _, err := MarshalFinite(map[string]any{"f": func() {}}); err == nil {
		t.Error("func value accepted")
	}
	type loop struct{ Next *loop }
	l := &loop{}
	l.Next = l
	if _, err := MarshalFinite(l); err == nil {
		t.Error("pointer cycle accepted")
	}
}
