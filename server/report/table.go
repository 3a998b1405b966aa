package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Missing is how Markdown shows an undefined metric (NaN), as the DAPO and
// AnomalyCLIP tables do.
const Missing = "–"

// Cell is one table entry: a metric (a fraction in [0,1], shown as a
// percentage) or text. The zero Cell is empty text.
type Cell struct {
	num   float64
	text  string
	isNum bool
}

// Num is a metric cell; NaN and ±Inf mean "undefined".
func Num(v float64) Cell { return Cell{num: v, isNum: true} }

// Text is a text cell.
func Text(s string) Cell { return Cell{text: s} }

// Number returns the cell's value and whether the cell is numeric.
func (c Cell) Number() (float64, bool) { return c.num, c.isNum }

// String is the Markdown form: the percentage with one decimal, Missing
// for an undefined metric, or the text.
func (c Cell) String() string {
	if !c.isNum {
		return c.text
	}
	if s := FormatPercent(c.num); s != "" {
		return s
	}
	return Missing
}

// csv is the CSV form: as String but empty for an undefined metric, so
// spreadsheets read the column as numbers.
func (c Cell) csv() string {
	if !c.isNum {
		return c.text
	}
	return FormatPercent(c.num)
}

// MarshalJSON writes a metric as the raw fraction (full precision, null
// when undefined) and text as a string.
func (c Cell) MarshalJSON() ([]byte, error) {
	if !c.isNum {
		return json.Marshal(c.text)
	}
	if !finite(c.num) {
		return []byte("null"), nil
	}
	return json.Marshal(c.num)
}

// FormatPercent formats a fraction as a percentage with one decimal
// (0.9123 → "91.2"); "" for NaN or ±Inf.
func FormatPercent(v float64) string {
	if !finite(v) {
		return ""
	}
	s := strconv.FormatFloat(v*100, 'f', 1, 64)
	if s == "-0.0" { // tiny negative rounding noise is not a sign
		s = "0.0"
	}
	return s
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Table is one rendered table; rows keep the order given.
type Table struct {
	Title   string   `json:"title"`
	Columns []string `json:"columns"`
	Rows    [][]Cell `json:"rows"`
}

// width is the number of columns needed by the header and the widest row.
func (t Table) width() int {
	w := len(t.Columns)
	for _, r := range t.Rows {
		w = max(w, len(r))
	}
	return w
}

// MeanRow is the "mean" row of a per-product table: for every column
// holding numbers, the unweighted mean over rows of the finite values (NaN
// when there is none); the first cell is the label "mean" and other text
// columns are left empty.
func MeanRow(rows [][]Cell) []Cell {
	w := 0
	for _, r := range rows {
		w = max(w, len(r))
	}
	if w == 0 {
		return []Cell{Text("mean")}
	}
	out := make([]Cell, w)
	for j := range w {
		var sum float64
		var n int
		numeric := false
		for _, r := range rows {
			if j >= len(r) || !r[j].isNum {
				continue
			}
			numeric = true
			if finite(r[j].num) {
				sum += r[j].num
				n++
			}
		}
		switch {
		case j == 0:
			out[j] = Text("mean")
		case !numeric:
			out[j] = Text("")
		case n == 0:
			out[j] = Num(math.NaN())
		default:
			out[j] = Num(sum / float64(n))
		}
	}
	return out
}

// MetricsTable is the per-product table: one row per product, in the given
// order, with values[i][j] the j-th metric of product i, and a final
// MeanRow. Missing values (short rows) are NaN.
func MetricsTable(title string, metrics, products []string, values [][]float64) (Table, error) {
	if len(values) != len(products) {
		return Table{}, fmt.Errorf("metrics table %q: %d products but %d value rows", title, len(products), len(values))
	}
	t := Table{Title: title, Columns: append([]string{"product"}, metrics...)}
	for i, p := range products {
		if len(values[i]) > len(metrics) {
			return Table{}, fmt.Errorf("metrics table %q: product %q has %d values for %d metrics", title, p, len(values[i]), len(metrics))
		}
		row := make([]Cell, 1+len(metrics))
		row[0] = Text(p)
		for j := range metrics {
			v := math.NaN()
			if j < len(values[i]) {
				v = values[i][j]
			}
			row[1+j] = Num(v)
		}
		t.Rows = append(t.Rows, row)
	}
	t.Rows = append(t.Rows, MeanRow(t.Rows))
	return t, nil
}

// WriteMarkdown writes the tables as GitHub-flavoured Markdown, each under
// a "###" heading when it has a title; numeric columns are right-aligned
// and padded so the source is readable as plain text too.
func WriteMarkdown(w io.Writer, tables ...Table) error {
	var b strings.Builder
	for i, t := range tables {
		if i > 0 {
			b.WriteByte('\n')
		}
		writeMarkdownTable(&b, t)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write markdown tables: %w", err)
	}
	return nil
}

func writeMarkdownTable(b *strings.Builder, t Table) {
	if t.Title != "" {
		fmt.Fprintf(b, "### %s\n\n", mdEscape(t.Title))
	}
	n := t.width()
	if n == 0 {
		return
	}
	header := make([]string, n)
	for j := range n {
		if j < len(t.Columns) {
			header[j] = mdEscape(t.Columns[j])
		}
	}
	body := make([][]string, len(t.Rows))
	right := make([]bool, n)
	widths := make([]int, n)
	for j, h := range header {
		widths[j] = max(3, utf8.RuneCountInString(h))
	}
	for i, r := range t.Rows {
		body[i] = make([]string, n)
		for j := range n {
			if j < len(r) {
				body[i][j] = mdEscape(r[j].String())
				right[j] = right[j] || r[j].isNum
			}
			widths[j] = max(widths[j], utf8.RuneCountInString(body[i][j]))
		}
	}
	line := func(cells []string) {
		b.WriteByte('|')
		for j, c := range cells {
			pad := strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c))
			if right[j] {
				fmt.Fprintf(b, " %s%s |", pad, c)
			} else {
				fmt.Fprintf(b, " %s%s |", c, pad)
			}
		}
		b.WriteByte('\n')
	}
	line(header)
	b.WriteByte('|')
	for j := range n {
		if right[j] {
			fmt.Fprintf(b, " %s: |", strings.Repeat("-", widths[j]-1))
		} else {
			fmt.Fprintf(b, " %s |", strings.Repeat("-", widths[j]))
		}
	}
	b.WriteByte('\n')
	for _, r := range body {
		line(r)
	}
}

// mdEscape keeps a cell on one line and its pipes out of the table syntax.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "\r\n", " ")
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// WriteCSV writes the table's header and rows (not its title) to path;
// metrics are percentages with one decimal, undefined ones empty.
func WriteCSV(path string, t Table) error {
	n := t.width()
	err := writeFileAtomic(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if len(t.Columns) > 0 {
			rec := make([]string, n)
			copy(rec, t.Columns)
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		for _, r := range t.Rows {
			rec := make([]string, n)
			for j, c := range r {
				rec[j] = c.csv()
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return fmt.Errorf("csv table %q: %w", t.Title, err)
	}
	return nil
}
