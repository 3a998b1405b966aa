package cli

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"dapo/server/inference"
	"dapo/shared/defects"
	"dapo/shared/imaging"
	"dapo/shared/safetensors"
)

// f1 is 2TP/(2TP+FP+FN), 0 without true positives.
func f1(tp, fp, fn int) float64 {
	if tp == 0 {
		return 0
	}
	return 2 * float64(tp) / float64(2*tp+fp+fn)
}

// TestCalibrateMVTecMini: the thresholds file's image threshold gives the
// F1 it reports, and no threshold does better (brute force over detect's
// scores); the pixel threshold likewise over detect's raw maps and the
// reference masks, against every candidate on the grid.
func TestCalibrateMVTecMini(t *testing.T) {
	root := miniRoot(t)
	bb, ck := tinyModel(t)
	stdout, err := runCmd(t, newCalibrateCmd(), "--format", "mvtec", "--root", root, "--checkpoint", ck, "--model", bb)
	if err != nil {
		t.Fatalf("calibrate: %v\n%s", err, stdout)
	}
	path := inference.ThresholdsPath(ck)
	thr, ok, err := inference.LoadThresholds(path)
	if err != nil || !ok {
		t.Fatalf("thresholds file %s: ok=%v err=%v\n%s", path, ok, err, stdout)
	}
	if !strings.Contains(stdout, "image threshold") || !strings.Contains(stdout, path) || thr.Method != "f1_max" {
		t.Errorf("output/method:\n%s\n%+v", stdout, thr)
	}

	words, _ := defects.TestWords("mvtec")
	var labels []bool
	var scores []float64
	var maps [][]float32
	var gts [][]bool
	maxNormal := float32(math.Inf(-1))
	maxNormalScore := math.Inf(-1)
	for _, product := range []string{"hazelnut", "transistor"} {
		verdicts, out := detectScores(t, filepath.Join(root, product, "test"), ck, bb, words, true)
		for img, v := range verdicts {
			anomalous := isAnomalousPath(img)
			labels, scores = append(labels, anomalous), append(scores, v.Score)
			rel, _ := filepath.Rel(filepath.Join(root, product, "test"), img)
			name := strings.ReplaceAll(strings.TrimSuffix(rel, ".png"), string(filepath.Separator), "_")
			buf, err := os.ReadFile(filepath.Join(out, name+".safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			f, err := safetensors.Parse(buf)
			if err != nil {
				t.Fatal(err)
			}
			m, shape, err := f.Float32("anomaly_map")
			if err != nil {
				t.Fatal(err)
			}
			gt := make([]bool, len(m))
			if anomalous {
				data, err := os.ReadFile(filepath.Join(root, product, "ground_truth", strings.TrimSuffix(rel, ".png")+"_mask.png"))
				if err != nil {
					t.Fatal(err)
				}
				mask, err := imaging.MaskTensor(data, shape[0], imaging.Limits{})
				if err != nil {
					t.Fatal(err)
				}
				for i, v := range mask {
					gt[i] = v > 0.5
				}
			} else {
				maxNormalScore = max(maxNormalScore, v.Score)
				for _, x := range m {
					maxNormal = max(maxNormal, x)
				}
			}
			maps, gts = append(maps, m), append(gts, gt)
		}
	}
	if len(scores) != 20 {
		t.Fatalf("detect scored %d images", len(scores))
	}

	imageF1 := func(th float64) float64 {
		tp, fp, fn := 0, 0, 0
		for i, s := range scores {
			switch {
			case s >= th && labels[i]:
				tp++
			case s >= th:
				fp++
			case labels[i]:
				fn++
			}
		}
		return f1(tp, fp, fn)
	}
	if got := imageF1(thr.Image); math.Abs(got-thr.ImageF1) > 1e-12 {
		t.Errorf("image threshold %v gives F1 %v, file says %v", thr.Image, got, thr.ImageF1)
	}
	for _, s := range scores {
		if f := imageF1(s); f > thr.ImageF1+1e-12 {
			t.Errorf("threshold %v gives F1 %v > calibrated %v", s, f, thr.ImageF1)
		}
	}

	// Pixel F1 at the chosen threshold, as detect's mask compares (float32).
	var pos, neg []float32
	for i, m := range maps {
		for p, v := range m {
			if gts[i][p] {
				pos = append(pos, v)
			} else {
				neg = append(neg, v)
			}
		}
	}
	sort.Slice(pos, func(a, b int) bool { return pos[a] < pos[b] })
	sort.Slice(neg, func(a, b int) bool { return neg[a] < neg[b] })
	above := func(s []float32, th float32) int {
		return len(s) - sort.Search(len(s), func(i int) bool { return s[i] > th })
	}
	pixelF1 := func(th float32) float64 {
		tp, fp := above(pos, th), above(neg, th)
		return f1(tp, fp, len(pos)-tp)
	}
	if len(pos) == 0 {
		t.Fatal("no positive pixels in mvtec-mini masks")
	}
	if got := pixelF1(float32(thr.Pixel)); math.Abs(got-thr.PixelF1) > 1e-12 {
		t.Errorf("pixel threshold %v gives F1 %v, file says %v", thr.Pixel, got, thr.PixelF1)
	}
	layers := 4.0 // the tiny model's feature layers
	for j := 1; j <= 10000; j++ {
		if f := pixelF1(float32(float64(j) * layers / 10000)); f > thr.PixelF1+1e-12 {
			t.Errorf("grid threshold %d gives pixel F1 %v > calibrated %v", j, f, thr.PixelF1)
			break
		}
	}

	alt, ok := thr.Alternatives["max_normal"]
	if !ok || alt.Pixel != float64(maxNormal) || !(alt.Image > maxNormalScore) || alt.Image > maxNormalScore+1e-6 {
		t.Errorf("max_normal %+v, want pixel %v and image just above %v", alt, maxNormal, maxNormalScore)
	}
}

// TestCalibrateOut writes to --out and leaves the checkpoint's default
// thresholds file alone.
func TestCalibrateOut(t *testing.T) {
	root := miniRoot(t)
	bb, ck := tinyModel(t)
	out := filepath.Join(t.TempDir(), "my.thresholds.json")
	if msg, err := runCmd(t, newCalibrateCmd(), "--format", "mvtec", "--root", filepath.Join(root, "hazelnut"), "--checkpoint", ck, "--model", bb, "--out", out, "--bins", "100"); err != nil {
		t.Fatalf("calibrate: %v\n%s", err, msg)
	}
	if _, ok, err := inference.LoadThresholds(out); !ok || err != nil {
		t.Errorf("--out file: ok=%v err=%v", ok, err)
	}
	if _, err := os.Stat(inference.ThresholdsPath(ck)); err == nil {
		t.Errorf("calibrate --out also wrote %s", inference.ThresholdsPath(ck))
	}
}

// TestEvalCancelled: both commands stop on a cancelled context.
func TestEvalCancelled(t *testing.T) {
	root := miniRoot(t)
	bb, ck := tinyModel(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, cmd := range map[string]*cobra.Command{"test": newTestCmd(), "calibrate": newCalibrateCmd()} {
		args := []string{"--format", "mvtec", "--root", root, "--checkpoint", ck, "--model", bb}
		if name == "test" {
			args = append(args, "--out", t.TempDir())
		}
		cmd.SetArgs(args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		if err := cmd.ExecuteContext(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: error %v, want context.Canceled", name, err)
		}
	}
}
