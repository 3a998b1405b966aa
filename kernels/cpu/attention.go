package cpu

import (
	"math"
	"runtime"
	"sync"
)

// attnRows is the number of query rows one attention task handles: its
// score tile (attnRows × seq floats, 350 KiB at ViT-L/14@518's 1370
// tokens) stays in L2 between q·kᵀ, the softmax and the product with v,
// and re-packing k and v per tile costs 1/attnRows of the tile's work.
const attnRows = 64

// Attention computes multi-head scaled dot-product attention for a batch of
// sequences. qkv is [batch, seq, 3·width] (q, k, v side by side, the output
// of CLIP's in_proj); out is [batch, seq, width]. With causal set, position i
// attends to positions ≤ i only (CLIP's text mask).
//
// It is fused per tile of attnRows query rows of one head: scores, softmax
// and the product with v run back to back on one attnRows × seq buffer per
// core, so no score matrix larger than a tile exists and the tile is still
// in cache for each step. Tiles are spread across the cores; each runs the
// single-threaded SGEMM.
func Attention(out, qkv []float32, batch, seq, width, heads int, causal bool) {
	hd := width / heads
	scale := float32(1 / math.Sqrt(float64(hd)))
	ld := 3 * width
	tiles := ceilDiv(seq, attnRows)
	tasks := batch * heads * tiles
	workers := min(runtime.GOMAXPROCS(0), tasks)
	bufs := make([][]float32, workers) // each worker allocates its own
	vk := vecAuto()
	parallelFor(workers, tasks, func(w, t int) {
		if bufs[w] == nil {
			bufs[w] = make([]float32, attnRows*seq)
		}
		b, h, r0 := t/(heads*tiles), t/tiles%heads, t%tiles*attnRows
		rows := min(attnRows, seq-r0)
		cols := seq // keys a row of this tile may see
		if causal {
			cols = r0 + rows
		}
		base := qkv[b*seq*ld:]
		q := base[r0*ld+h*hd:]
		k := base[width+h*hd:]
		v := base[2*width+h*hd:]
		s := bufs[w][:rows*cols]
		sgemmSerial(false, true, rows, cols, hd, scale, q, ld, k, ld, 0, s, cols)
		for i := 0; i < rows; i++ {
			row := s[i*cols : (i+1)*cols]
			if causal {
				maskAfter(row, r0+i)
			}
			softmax(vk, row)
		}
		sgemmSerial(false, false, rows, hd, cols, 1, s, cols, v, ld, 0, out[(b*seq+r0)*width+h*hd:], width)
	})
}

// maskAfter sets row[j] = −Inf for j > i (the causal mask of query i).
func maskAfter(row []float32, i int) {
	ninf := float32(math.Inf(-1))
	for j := i + 1; j < len(row); j++ {
		row[j] = ninf
	}
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
// [seq, seq], on the calling goroutine (the backward runs one head per
// core).
func headProbs(p, q, k []float32, ld, seq, hd int, scale float32, causal bool) {
	sgemmSerial(false, true, seq, seq, hd, scale, q, ld, k, ld, 0, p, seq)
	vk := vecAuto()
	for i := 0; i < seq; i++ {
		row := p[i*seq : (i+1)*seq]
		if causal {
			maskAfter(row, i)
		}
		softmax(vk, row)
	}
}
