//go:build dapocuda

package gpu

import (
	"testing"
	"time"

	"dapo/kernels/cuda"
	"dapo/server/compute"
)

// BenchmarkBlockOps times each kernel call of one ViT-L/14 block at
// 518 px, batch 8 (10 992 rows of width 1024, 16 heads, MLP 4096), forward
// and backward, in F32 and TF32: where a tower's time goes. Each op is
// synchronised, so the figures are device time per call.
func BenchmarkBlockOps(bm *testing.B) {
	const batch, seq, w, heads, mlp = 8, 1374, 1024, 16, 4096
	n := batch * seq
	for _, prec := range []cuda.Precision{cuda.F32, cuda.TF32} {
		b := openBench(bm, prec.String())
		fill := func(k int) compute.Tensor {
			x := make([]float32, k)
			for i := range x {
				x[i] = float32(i%97)/97 - 0.5
			}
			return b.Upload(x)
		}
		x, h, qkv := fill(n*w), fill(n*w), fill(n*3*w)
		hidden, wq, wfc, wproj, bias := fill(n*mlp), fill(3*w*w), fill(mlp*w), fill(w*mlp), fill(mlp)
		lnw := fill(w)
		dqkv, dh := fill(n*3*w), fill(n*w)
		ops := []struct {
			name string
			run  func()
		}{
			{"layernorm", func() { b.LayerNorm(h, x, n, w, lnw, lnw) }},
			{"linear-qkv", func() { b.Linear(qkv, h, n, w, 3*w, wq, nil) }},
			{"attention", func() { b.Attention(h, qkv, batch, seq, w, heads, false) }},
			{"linear-out-residual", func() { b.LinearResidual(x, h, n, w, w, wq, lnw) }},
			{"linear-fc", func() { b.Linear(hidden, h, n, w, mlp, wfc, nil) }},
			{"bias-quickgelu", func() { b.BiasActivation(hidden, hidden, n, mlp, bias, true) }},
			{"linear-proj-residual", func() { b.LinearResidual(x, hidden, n, mlp, w, wproj, lnw) }},
			{"attention-backward", func() { b.AttentionBackward(dqkv, dh, qkv, batch, seq, w, heads, false) }},
			{"linear-backward-fc", func() { b.LinearBackwardInput(dh, hidden, n, w, mlp, wfc) }},
			{"layernorm-backward", func() { b.LayerNormBackward(dh, h, x, n, w, lnw) }},
		}
		for _, op := range ops {
			bm.Run(prec.String()+"/"+op.name, func(bm *testing.B) {
				op.run()
				if err := b.Err(); err != nil {
					bm.Fatal(err)
				}
				start := time.Now()
				for i := 0; i < bm.N; i++ {
					op.run()
				}
				if err := b.Err(); err != nil {
					bm.Fatal(err)
				}
				bm.ReportMetric(time.Since(start).Seconds()*1e3/float64(bm.N), "ms/call")
			})
		}
	}
}
