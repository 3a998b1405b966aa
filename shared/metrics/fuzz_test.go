package metrics

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzImage feeds arbitrary labels and scores (any float64 bit pattern, so
// NaN, ±Inf, -0 and subnormals) to the image metrics: they must not panic,
// must stay in [0,1] or be NaN, and AUROC must equal the pair count.
func FuzzImage(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f})
	f.Add([]byte("\x01\x00\x00\x00\x00\x00\x00\xe0\x3f\x00\x00\x00\x00\x00\x00\x00\xe0\x3f"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var labels []bool
		var scores []float64
		for len(data) >= 9 {
			labels = append(labels, data[0]&1 == 1)
			scores = append(scores, math.Float64frombits(binary.LittleEndian.Uint64(data[1:9])))
			data = data[9:]
		}
		if len(data) > 0 && len(labels) > 0 {
			labels = labels[:len(labels)-1] // exercise length mismatch too
		}
		m := Image(labels, scores)
		for what, v := range map[string]float64{"AUROC": m.AUROC, "AP": m.AP, "F1Max": m.F1Max} {
			if !math.IsNaN(v) && (v < 0 || v > 1) {
				t.Fatalf("%s = %v outside [0,1]", what, v)
			}
		}
		_ = PrecisionRecallCurve(labels, scores)
		_ = ROC(labels, scores)
		if len(labels) == len(scores) && len(scores) < 200 && !math.IsNaN(m.AUROC) {
			if want := bruteAUROC(labels, scores); m.AUROC != want {
				t.Fatalf("AUROC %v, pair count %v", m.AUROC, want)
			}
		}
	})
}
