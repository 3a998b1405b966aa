package report

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestLossPlot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "loss.png")
	x := []float64{1, 2, 3, 4}
	err := LossPlot(path, "training", []Series{{Name: "total", X: x, Y: []float64{3, 2, math.NaN(), 1}}, {Name: "image", X: x, Y: []float64{0.7, 0.5, 0.4, 0.3}}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width != 7*DPI || cfg.Height != 4*DPI {
		t.Errorf("loss plot %dx%d, err %v", cfg.Width, cfg.Height, err)
	}
	if err := LossPlot(path, "bad", []Series{{Name: "x", X: x, Y: x[:2]}}); err == nil {
		t.Error("mismatched series must fail")
	}
}
