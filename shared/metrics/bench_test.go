package metrics

import (
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// peakHeap samples the live+unswept heap bytes every millisecond until
// stopped; stop returns the maximum seen (a floor for the true peak).
func peakHeap() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	var mu sync.Mutex
	read := func() {
		metrics.Read(sample)
		mu.Lock()
		peak = max(peak, sample[0].Value.Uint64())
		mu.Unlock()
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				read()
			}
		}
	}()
	return func() uint64 {
		read()
		close(done)
		wg.Wait()
		return peak
	}
}

// BenchmarkPixelAccumulator pools 190 images of 518×518 (≈5.1·10⁷ pixels,
// the largest VisA product) with random disc-shaped defects and continuous
// scores, then computes all pixel metrics. It reports the peak heap above
// the baseline (input images are generated one at a time into one buffer).
// Run with -benchtime=1x.
func BenchmarkPixelAccumulator(b *testing.B) {
	const nImg, side = 190, 518
	for _, bc := range []struct {
		name string
		hint int
	}{{"hint", nImg * side * side}, {"nohint", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			scratch := make([]float32, 2*side*side)
			var r PixelMetrics
			for range b.N {
				b.StopTimer()
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				base := ms.HeapAlloc
				stop := peakHeap()
				rng := rand.New(rand.NewPCG(9, 10))
				b.StartTimer()

				acc := NewPixelAccumulator(bc.hint)
				for range nImg {
					b.StopTimer()
					amap, mask := blobImage(rng, side, side, 0, scratch)
					b.StartTimer()
					if err := acc.Add(amap, mask, side, side); err != nil {
						b.Fatal(err)
					}
				}
				t0 := time.Now()
				r = acc.Result()
				b.ReportMetric(time.Since(t0).Seconds(), "s-result")

				b.StopTimer()
				peak := stop()
				b.ReportMetric(float64(peak-min(peak, base))/1e6, "MB-peak")
				b.StartTimer()
			}
			b.ReportMetric(float64(r.Pixels), "pixels")
			b.ReportMetric(float64(r.Regions), "regions")
			b.Logf("%d pixels, %d anomalous, %d regions: AUROC %.4f AUPRO(ref) %.4f AUPRO %.4f",
				r.Pixels, r.Positives, r.Regions, r.AUROC, r.AUPRORef, r.AUPRO)
		})
	}
}

// BenchmarkMultiClassAccumulator pools 40 images of 518×518 with C = 5
// classes (≈1.07·10⁷ pixels) and reports time and peak heap.
func BenchmarkMultiClassAccumulator(b *testing.B) {
	const nImg, side, c = 40, 518, 5
	probs := make([]float32, side*side*c)
	scratch := make([]float32, 2*side*side)
	var r MultiClassMetrics
	for range b.N {
		b.StopTimer()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		stop := peakHeap()
		rng := rand.New(rand.NewPCG(13, 14))
		b.StartTimer()
		acc, err := NewMultiClassAccumulator(c, nImg*side*side)
		if err != nil {
			b.Fatal(err)
		}
		for i := range nImg {
			b.StopTimer()
			_, mask := blobImage(rng, side, side, 0, scratch)
			defect := i % c
			for p := range side * side {
				for k := range c {
					probs[p*c+k] = rng.Float32()
				}
				if mask[p] > 0.5 {
					probs[p*c+defect] += 0.5
				}
			}
			b.StartTimer()
			if err := acc.Add(probs, mask, defect); err != nil {
				b.Fatal(err)
			}
		}
		r = acc.Result()
		b.StopTimer()
		peak := stop()
		b.ReportMetric(float64(peak-min(peak, base))/1e6, "MB-peak")
		b.StartTimer()
	}
	b.ReportMetric(float64(r.Pixels), "pixels")
	b.Logf("AUROC %.4f AP %.4f F1 %.4f", r.AUROC, r.AP, r.F1)
}
