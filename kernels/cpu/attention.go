package cpu

import (
	"math"
	"runtime"
	"sync"
)

// Attention computes multi-head scaled dot-product attention for a batch of
// sequences. qkv is [batch, seq, 3·width] (q, k, v side by side, the output
// of CLIP's in_proj); out is [batch, seq, width]. With causal set, position i
// attends to positions ≤ i only (CLIP's text mask).
//
// Work is split over (sequence, head) pairs across cores; each worker keeps
// one seq×seq score buffer, so no full score tensor for all heads is ever
// held.
func Attention(out, qkv []float32, batch, seq, width, heads int, causal bool) {
	hd := width / heads
	scale := float32(1 / math.Sqrt(float64(hd)))
	eachHead(batch, heads, seq, 1, func(b, h int, bufs [][]float32) {
		attendHead(out[b*seq*width:], qkv[b*seq*3*width:], bufs[0], seq, width, hd, h, scale, causal)
	})
}

// eachHead runs fn for every (sequence, head) pair, spread over the cores;
// each worker owns nbuf scratch buffers of seq×seq floats that it passes to
// every call it makes.
func eachHead(batch, heads, seq, nbuf int, fn func(b, h int, bufs [][]float32)) {
	jobs := batch * heads
	workers := min(runtime.GOMAXPROCS(0), jobs)
	var wg sync.WaitGroup
	next := make(chan int, jobs)
	for j := 0; j < jobs; j++ {
		next <- j
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bufs := make([][]float32, nbuf)
			for i := range bufs {
				bufs[i] = make([]float32, seq*seq)
			}
			for j := range next {
				fn(j/heads, j%heads, bufs)
			}
		}()
	}
	wg.Wait()
}

// headProbs computes one head's attention probabilities
// softmax(scale·q·kᵀ), masked above the diagonal when causal, into p
// [seq, seq]; the backward recomputes them with this same code.
func headProbs(p, q, k []float32, ld, seq, hd int, scale float32, causal bool) {
	Sgemm(false, true, seq, seq, hd, scale, q, ld, k, ld, 0, p, seq)
	if causal {
		ninf := float32(math.Inf(-1))
		for i := 0; i < seq; i++ {
			row := p[i*seq : (i+1)*seq]
			for j := i + 1; j < seq; j++ {
				row[j] = ninf
			}
		}
	}
	SoftmaxRows(p, seq, seq)
}

// attendHead handles one (sequence, head): scores = q·kᵀ·scale, softmax,
// out = scores·v, reading q, k, v in place through strides.
func attendHead(out, qkv, scores []float32, seq, width, hd, h int, scale float32, causal bool) {
	ld := 3 * width
	q := qkv[h*hd:]
	k := qkv[width+h*hd:]
	v := qkv[2*width+h*hd:]
	headProbs(scores, q, k, ld, seq, hd, scale, causal)
	Sgemm(false, false, seq, hd, seq, 1, scores, seq, v, ld, 0, out[h*hd:], width)
}
