package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// gemmKernel is a register-tiled micro-kernel together with the cache
// blocking tuned for it. The driver (sgemmWith) packs op(A) into panels of
// mr rows and op(B) into panels of nr columns, both k-major and zero-padded,
// so the kernel only ever sees full, contiguous tiles.
type gemmKernel struct {
	mr, nr int // register tile of C
	kc     int // k depth of a packed block: one B panel (kc·nr) stays in L1
	mc     int // rows of A packed per block: mc·kc stays in L2
	nc     int // most columns of B packed per block (all of k at once)
	// tile sets the mr×nr tile at c (row stride ldc) to
	// alpha·(a-panel · b-panel) + beta·c over kc steps, kc a multiple of
	// kStep. With beta 0 it must not read c.
	tile func(kc int, a, b, c []float32, ldc int, alpha, beta float32)
	rows rowKernel // for m < mr, where packing does not pay
	// gather packs a panel whose lanes are stored rows (see packPanels);
	// nil means gatherPanel.
	gather func(panel, x []float32, ld, l, lanes, p0, kb, w int)
}

const (
	// kStep is the k padding of packed panels, so kernels can unroll by it.
	kStep = 4
	// maxTile bounds mr·nr over all kernels (the edge-tile scratch buffer).
	maxTile = 4 * 32
	// smallWork is the m·n·k below which packing costs more than it saves.
	smallWork = 16 * 16 * 16
	// threadWork is the m·n·k each extra goroutine must have to pay for itself.
	threadWork = 1 << 20
	// bChunk is the number of B panels packed per task.
	bChunk = 4
	// packBudget caps the packed B buffer, in floats (32 MiB).
	packBudget = 8 << 20
	// minRows is the smallest row block split off for load balance.
	minRows = 64
)

// packPool recycles packing buffers between calls.
var packPool = sync.Pool{New: func() any { return new([]float32) }}

func getPack(n int) *[]float32 {
	p := packPool.Get().(*[]float32)
	if cap(*p) < n {
		*p = make([]float32, n)
	}
	*p = (*p)[:n]
	return p
}

// sgemmWith is Sgemm over a given micro-kernel and at most threads
// goroutines. It is the packed algorithm in the Goto/BLIS loop order:
//
//	for each nc block of columns:
//	    pack B[k, nc] into kc×nr panels (split across goroutines)
//	    for each mc block of rows (a task), for each kc block of depth:
//	        pack A[mc, kc] into mr-row panels
//	        for each B panel (kept in L1), for each A panel: tile
func sgemmWith(kern gemmKernel, threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkSgemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	work := int64(m) * int64(n) * int64(k)
	if work <= smallWork {
		sgemmSmall(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if m < kern.mr {
		sgemmRows(kern.rows, threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	threads = int(min(int64(max(threads, 1)), max(work/threadWork, 1)))

	mr, nr := kern.mr, kern.nr
	// Row blocks: a multiple of the goroutine count, and with several
	// goroutines four per goroutine down to blocks of minRows, so a late
	// or preempted goroutine leaves little imbalance behind.
	rowBlocks := ceilDiv(m, kern.mc)
	if threads > 1 {
		rowBlocks = max(rowBlocks, min(4*threads, m/minRows))
	}
	if rowBlocks < threads {
		rowBlocks = min(threads, ceilDiv(m, mr))
	} else {
		rowBlocks = ceilDiv(rowBlocks, threads) * threads
	}
	mcEff := roundUp(ceilDiv(m, rowBlocks), mr)
	rowBlocks = ceilDiv(m, mcEff)

	// Even k blocks: 577 = 3×196 rather than 256+256+65, whose short
	// block would pay a full pass of packing and C updates for little work.
	kcEff := roundUp(ceilDiv(k, ceilDiv(k, kern.kc)), kStep)
	kBlocks := ceilDiv(k, kcEff)
	// B is packed whole in k for each nc block of columns, so a call has
	// one pack phase and one compute phase per nc block: every phase end
	// waits for the slowest goroutine, and a core lent to another process
	// for a time slice makes that wait long.
	ncEff := min(kern.nc, max(nr, packBudget/(kBlocks*kcEff)/nr*nr))
	ncMax := roundUp(min(ncEff, n), nr)
	bStride := kcEff * ncMax // floats per packed k block
	bBuf := getPack(kBlocks * bStride)
	defer packPool.Put(bBuf)
	aBufs := make([]*[]float32, threads)
	for w := range aBufs {
		aBufs[w] = getPack(mcEff*kcEff + maxTile) // A block, then an edge scratch tile
	}
	defer func() {
		for _, p := range aBufs {
			packPool.Put(p)
		}
	}()

	type block struct{ jc, nb, panels, packTasks, colGroups, perGroup int }
	var blocks []block
	var tasks []int
	for jc := 0; jc < n; jc += ncEff {
		nb := min(ncEff, n-jc)
		panels := ceilDiv(nb, nr)
		// Too few row blocks to feed every goroutine: split columns too.
		colGroups := 1
		if rowBlocks < threads {
			colGroups = min(ceilDiv(threads, rowBlocks), panels)
		}
		packTasks := ceilDiv(panels, bChunk)
		blocks = append(blocks, block{jc, nb, panels, packTasks, colGroups, ceilDiv(panels, colGroups)})
		tasks = append(tasks, kBlocks*packTasks, rowBlocks*colGroups)
	}
	runPhases(threads, tasks, func(w, ph, t int) {
		bl := blocks[ph/2]
		if ph%2 == 0 { // pack chunk t%packTasks of k block t/packTasks
			kbi, q0 := t/bl.packTasks, t%bl.packTasks*bChunk
			pc := kbi * kcEff
			kb := min(kcEff, k-pc)
			kbPad := roundUp(kb, kStep)
			width := min(bl.nb-q0*nr, bChunk*nr)
			packPanels(kern.gather, (*bBuf)[kbi*bStride+q0*kbPad*nr:], b, ldb, transB, bl.jc+q0*nr, width, pc, kb, kbPad, nr)
			return
		}
		rb, cg := t/bl.colGroups, t%bl.colGroups
		i0 := rb * mcEff
		mb := min(mcEff, m-i0)
		q0, q1 := cg*bl.perGroup, min((cg+1)*bl.perGroup, bl.panels)
		if q0 >= q1 {
			return
		}
		buf := *aBufs[w]
		scratch := buf[mcEff*kcEff:]
		for kbi := range kBlocks {
			pc := kbi * kcEff
			kb := min(kcEff, k-pc)
			kbPad := roundUp(kb, kStep)
			bBeta := beta
			if pc > 0 {
				bBeta = 1
			}
			ap := buf[:roundUp(mb, mr)*kbPad]
			packPanels(kern.gather, ap, a, lda, !transA, i0, mb, pc, kb, kbPad, mr)
			bp := (*bBuf)[kbi*bStride:]
			for q := q0; q < q1; q++ {
				j := q * nr
				macroRow(kern, kbPad, ap, bp[q*kbPad*nr:(q+1)*kbPad*nr], scratch, mb, min(nr, bl.nb-j), c[i0*ldc+bl.jc+j:], ldc, alpha, bBeta)
			}
		}
	})
}

// macroRow runs the kernel down one B panel against every A panel of a
// packed block; ragged bottom/right tiles go through scratch (maxTile
// floats; a local array would escape through the indirect call).
func macroRow(kern gemmKernel, kbPad int, ap, bq, scratch []float32, mb, w int, c []float32, ldc int, alpha, beta float32) {
	mr, nr := kern.mr, kern.nr
	for r := 0; r < mb; r += mr {
		a := ap[r*kbPad : (r+mr)*kbPad]
		h := min(mr, mb-r)
		if h == mr && w == nr {
			kern.tile(kbPad, a, bq, c[r*ldc:], ldc, alpha, beta)
			continue
		}
		buf := scratch[:mr*nr]
		kern.tile(kbPad, a, bq, buf, nr, 1, 0)
		for i := 0; i < h; i++ {
			row := c[(r+i)*ldc : (r+i)*ldc+w]
			t := buf[i*nr : i*nr+w]
			if beta == 0 {
				for j := range row {
					row[j] = alpha * t[j]
				}
			} else {
				for j := range row {
					row[j] = alpha*t[j] + beta*row[j]
				}
			}
		}
	}
}

// parallelFor runs fn(worker, task) for every task in [0, tasks) on at most
// workers goroutines (the caller's included); worker indexes a per-goroutine
// buffer.
func parallelFor(workers, tasks int, fn func(w, t int)) {
	runPhases(workers, []int{tasks}, func(w, _, t int) { fn(w, t) })
}

// runPhases runs fn(worker, phase, task) for every task of every phase, a
// phase starting only once the previous one has finished, on at most
// workers goroutines. Tasks are claimed from atomic counters, so the caller
// alone can finish everything: it returns once the last task is done and
// never waits for a helper goroutine to be scheduled (waking an idle core
// can take tens of µs, as long as a whole attention-sized product). The
// wait between phases spins, yielding: phases are short and balanced.
func runPhases(workers int, tasks []int, fn func(w, ph, t int)) {
	if workers <= 1 {
		for ph, n := range tasks {
			for t := 0; t < n; t++ {
				fn(0, ph, t)
			}
		}
		return
	}
	type phase struct{ next, done atomic.Int64 }
	phases := make([]phase, len(tasks))
	wait := func(ph int) {
		for i := 1; phases[ph].done.Load() < int64(tasks[ph]); i++ {
			if i%64 == 0 { // yield now and then: a helper may be queued here
				runtime.Gosched()
			}
		}
	}
	run := func(w int) {
		for ph := range phases {
			if ph > 0 {
				wait(ph - 1)
			}
			p := &phases[ph]
			for {
				t := int(p.next.Add(1) - 1)
				if t >= tasks[ph] {
					break
				}
				fn(w, ph, t)
				p.done.Add(1)
			}
		}
	}
	for w := 1; w < workers; w++ {
		go run(w)
	}
	run(0)
	wait(len(phases) - 1)
}

// scaleC sets C = beta·C; beta 0 clears C without reading it (it may hold
// NaN garbage).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// sgemmSmall is the direct triple loop for products too small to pack.
func sgemmSmall(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	as, ap := lda, 1 // strides of op(A) along i and p
	if transA {
		as, ap = 1, lda
	}
	bp, bs := ldb, 1 // strides of op(B) along p and j
	if transB {
		bp, bs = 1, ldb
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			ai, bj := i*as, j*bs
			for p := 0; p < k; p++ {
				s += a[ai+p*ap] * b[bj+p*bp]
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

// checkSgemm panics, as BLAS does, on strides or slices too short for the
// shapes, so the unsafe-free packing below never needs to guess.
func checkSgemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic("cpu: Sgemm: negative dimension")
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMatrix("A", ar, ac, a, lda)
	checkMatrix("B", br, bc, b, ldb)
	checkMatrix("C", m, n, c, ldc)
}

func checkMatrix(name string, rows, cols int, x []float32, ld int) {
	if ld < max(1, cols) {
		panic("cpu: Sgemm: bad leading dimension for " + name)
	}
	if rows > 0 && cols > 0 && len(x) < (rows-1)*ld+cols {
		panic("cpu: Sgemm: " + name + " too short")
	}
}

// sgemmThreads is the goroutine budget for one call.
func sgemmThreads() int { return runtime.GOMAXPROCS(0) }

func ceilDiv(a, b int) int { return (a + b - 1) / b }
func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// sgemmSerial is Sgemm on the calling goroutine alone, for kernels that
// already split their work across the cores (attention heads).
func sgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmWith(bestKernel(), 1, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
