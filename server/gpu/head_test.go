//go:build dapocuda

package gpu

import (
	"math/rand"
	"testing"

	"dapo/server/compute"
	"dapo/server/compute/bind/bindtest"
)

// BenchmarkHead: the fused loss head, forward and backward, at the
// default training geometry (batch 8, 4 layers, 37×37 → 518×518, 21
// classes, E 768), inputs already on the device.
func BenchmarkHead(bm *testing.B) {
	b := openBench(bm, "f32")
	h := compute.HeadSpec{Batch: 8, Grid: 37, Size: 518, Classes: 21, Embed: 768, Layers: 4, Temperature: 0.07, Local: 4, Image: 1}
	feats, text, global, tg := bindtest.RandomHead(rand.New(rand.NewSource(1)), h)
	var ft, dft []compute.Tensor
	for _, f := range feats {
		ft, dft = append(ft, b.Upload(f)), append(dft, b.Zeros(len(f)))
	}
	dt, dg := b.Zeros(len(text)), b.Zeros(len(global))
	tt, gt := b.Upload(text), b.Upload(global)
	bm.ResetTimer()
	for i := 0; i < bm.N; i++ {
		_, st, err := b.HeadForward(h, ft, tt, gt, tg)
		if err != nil {
			bm.Fatal(err)
		}
		if err := b.HeadBackward(st, 1, dft, dt, dg); err != nil {
			bm.Fatal(err)
		}
	}
	bm.ReportMetric(float64(h.Batch*bm.N)/bm.Elapsed().Seconds(), "images/s")
}
