package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"dapo/server/evaluate"
	"dapo/server/inference"
	"dapo/shared/defects"
	"dapo/shared/golden"
)

// runCmd executes one command built outside the root (test and calibrate
// are not in NewRoot's list yet) and returns its stdout.
func runCmd(t *testing.T, cmd *cobra.Command, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// miniRoot is the team folder's mvtec-mini (hazelnut and transistor, 10
// test images each).
func miniRoot(t *testing.T) string {
	t.Helper()
	root := filepath.Join(golden.Load(t).Dir, "..", "..", "data", "mvtec-mini")
	if _, err := os.Stat(filepath.Join(root, "hazelnut", "test")); err != nil {
		t.Fatalf("mvtec-mini not found beside the golden set: %v", err)
	}
	return root
}

// tinyModel writes a seeded random tiny backbone and an untrained
// checkpoint; DAPO_CACHE goes to a temporary folder.
func tinyModel(t *testing.T) (bb, ck string) {
	t.Helper()
	t.Setenv("DAPO_CACHE", t.TempDir())
	dir := t.TempDir()
	bb, ck = filepath.Join(dir, "bb"), filepath.Join(dir, "ck.safetensors")
	for _, args := range [][]string{
		{"model", "init", "--config", "tiny", "--seed", "7", "--out", bb},
		{"checkpoint", "init", "--model", bb, "--seed", "7", "--out", ck},
	} {
		if msg, err := runCLI(t, args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, msg)
		}
	}
	return bb, ck
}

// detectScores runs 'dapo detect' on a product's test folder with the given
// defect words and returns the verdicts by image path.
func detectScores(t *testing.T, dir, ck, bb string, words []string, raw bool) (map[string]inference.Verdict, string) {
	t.Helper()
	out := t.TempDir()
	args := []string{"detect", dir, "--checkpoint", ck, "--model", bb, "--defects", strings.Join(words, ","), "--out", out}
	if raw {
		args = append(args, "--raw")
	}
	if msg, err := runCLI(t, args...); err != nil {
		t.Fatalf("detect: %v\n%s", err, msg)
	}
	files, err := filepath.Glob(filepath.Join(out, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("detect wrote no JSON: %v", err)
	}
	got := map[string]inference.Verdict{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v inference.Verdict
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		got[v.Image] = v
	}
	return got, out
}

// pairAUROC counts (anomalous, normal) pairs ordered correctly, ties ½.
func pairAUROC(labels []bool, scores []float64) float64 {
	var num, pairs float64
	for i := range labels {
		for j := range labels {
			if !labels[i] || labels[j] {
				continue
			}
			pairs++
			switch {
			case scores[i] > scores[j]:
				num++
			case scores[i] == scores[j]:
				num += 0.5
			}
		}
	}
	return num / pairs
}

func isAnomalousPath(p string) bool {
	return !strings.Contains(filepath.ToSlash(p), "/good/")
}

// TestTestMVTecMini runs 'dapo test' with a seeded untrained tiny model and
// checks every promised output, and that the image AUROC equals one
// recomputed from detect's scores.
func TestTestMVTecMini(t *testing.T) {
	root := miniRoot(t)
	bb, ck := tinyModel(t)
	out := filepath.Join(t.TempDir(), "eval")
	stdout, err := runCmd(t, newTestCmd(), "--format", "mvtec", "--root", root, "--checkpoint", ck, "--model", bb, "--samples", "3", "--out", out)
	if err != nil {
		t.Fatalf("test: %v\n%s", err, stdout)
	}
	for _, want := range []string{"### Per-product metrics", "hazelnut", "transistor", "| mean", "### Per-defect", "### Image verdict", "### Defect type"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}

	// metrics.json: both products and the mean, every metric in [0,1] or null.
	raw, err := os.ReadFile(filepath.Join(out, evaluate.FileJSON))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Products []map[string]any `json:"products"`
		Mean     map[string]any   `json:"mean"`
		Config   map[string]any   `json:"config"`
		Counts   map[string]any   `json:"counts"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("metrics.json: %v", err)
	}
	if len(doc.Products) != 2 || doc.Products[0]["product"] != "hazelnut" || doc.Products[1]["product"] != "transistor" {
		t.Fatalf("products %v", doc.Products)
	}
	for _, m := range append(slices.Clone(doc.Products), doc.Mean) {
		for _, k := range evaluate.MetricNames() {
			v, ok := m[k]
			if !ok {
				t.Errorf("%v lacks %s", m["product"], k)
				continue
			}
			if f, isNum := v.(float64); v != nil && (!isNum || f < 0 || f > 1) {
				t.Errorf("%v %s = %v, want a fraction or null", m["product"], k, v)
			}
		}
	}
	if doc.Counts["images"] != 20.0 || doc.Config["checkpoint"] != ck || doc.Config["image_size"] != 70.0 {
		t.Errorf("config/counts: %v %v", doc.Config, doc.Counts)
	}
	var rep evaluate.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	words, _ := defects.TestWords("mvtec")
	if !slices.Equal(rep.Config.Defects, words) {
		t.Errorf("defects %v, want mvtec's test words", rep.Config.Defects)
	}
	for _, p := range rep.Products {
		if p.MultiType == nil || p.MultiType.Images != 10 || p.MultiType.Classes[0] != "normal" {
			t.Errorf("%s: multi-type %+v", p.Product, p.MultiType)
		}
	}

	// Every listed file exists; PNGs decode; the CSV parses.
	for _, f := range rep.Files {
		path := filepath.Join(out, f)
		if _, err := os.Stat(path); err != nil {
			t.Errorf("listed file: %v", err)
			continue
		}
		if strings.HasSuffix(f, ".png") {
			fh, _ := os.Open(path)
			_, err := png.Decode(fh)
			fh.Close()
			if err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
	for _, f := range []string{evaluate.FileMarkdown, evaluate.FileCSV, evaluate.FileDefectCSV, evaluate.FileEmbedding, evaluate.FileBinaryPNG,
		evaluate.FileDefectTypePNG, "curves/roc.png", "curves/pr.png", "curves/hazelnut_roc.png", "curves/transistor_pr.png"} {
		if !slices.Contains(rep.Files, f) {
			t.Errorf("%s not written", f)
		}
	}
	for _, p := range []string{"hazelnut", "transistor"} {
		if got, _ := filepath.Glob(filepath.Join(out, "heatmaps", p, "*.png")); len(got) != 3 {
			t.Errorf("%s: %d heatmaps, want 3", p, len(got))
		}
	}
	fh, err := os.Open(filepath.Join(out, evaluate.FileCSV))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(fh).ReadAll()
	fh.Close()
	if err != nil || len(recs) != 4 || recs[3][0] != "mean" || !slices.Equal(recs[0][1:], evaluate.MetricNames()) {
		t.Errorf("metrics.csv: %v %v", err, recs)
	}
	if md, _ := os.ReadFile(filepath.Join(out, evaluate.FileMarkdown)); string(md) != stdout {
		t.Errorf("metrics.md differs from stdout")
	}

	// Image AUROC per product equals pair counting over detect's scores.
	for _, p := range rep.Products {
		verdicts, _ := detectScores(t, filepath.Join(root, p.Product, "test"), ck, bb, words, false)
		var labels []bool
		var scores []float64
		for path, v := range verdicts {
			labels, scores = append(labels, isAnomalousPath(path)), append(scores, v.Score)
		}
		if len(scores) != p.Images {
			t.Errorf("%s: detect scored %d images, test %d", p.Product, len(scores), p.Images)
		}
		if want := pairAUROC(labels, scores); math.Abs(p.ImageAUROC-want) > 1e-12 {
			t.Errorf("%s: image AUROC %v, recomputed from detect %v", p.Product, p.ImageAUROC, want)
		}
	}
}

// TestEvalBadDataset: a missing or malformed dataset root fails before the
// model is loaded, with an error naming the dataset problem.
func TestEvalBadDataset(t *testing.T) {
	empty := t.TempDir()
	noTest := t.TempDir()
	if err := os.MkdirAll(filepath.Join(noTest, "bottle", "train", "good"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		args []string
		want string
	}{
		"missing root":   {[]string{"--format", "mvtec", "--root", filepath.Join(empty, "nope")}, "load dataset"},
		"empty root":     {[]string{"--format", "mvtec", "--root", empty}, "no product folders"},
		"no test folder": {[]string{"--format", "mvtec", "--root", noTest}, "missing test folder"},
		"unknown format": {[]string{"--format", "nope", "--root", empty}, "unknown dataset format"},
		"no root":        {[]string{"--format", "mvtec"}, "--root"},
	}
	for name, c := range cases {
		for cmdName, build := range map[string]func() *cobra.Command{"test": newTestCmd, "calibrate": newCalibrateCmd} {
			args := append(slices.Clone(c.args), "--checkpoint", "unused.safetensors", "--model", "unused")
			if cmdName == "test" {
				args = append(args, "--out", t.TempDir())
			}
			_, err := runCmd(t, build(), args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s %s: error %v, want one containing %q", cmdName, name, err, c.want)
			} else {
				t.Logf("%s %s: %v", cmdName, name, err)
			}
		}
	}
}
