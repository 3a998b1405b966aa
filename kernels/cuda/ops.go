//go:build dapocuda

package cuda

import "math"

// The launchers below mirror kernels/cpu: same names, same argument order
// (device buffers in place of slices), same semantics — backward kernels
// ADD into their gradient outputs. All queue on the default stream.

// LayerNormEps is the epsilon of CLIP's layer norms (kernels/cpu).
const LayerNormEps = 1e-5

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices
// (kernels/cpu Sgemm): cuBLAS when loaded, else the own kernel; TF32 in the
// TF32 precision mode.
func (d *Device) Sgemm(transA, transB bool, m, n, k int, alpha float32, a Buf, lda int, b Buf, ldb int, beta float32, c Buf, ldc int) {
	if d.err != nil || m == 0 || n == 0 {
		return
	}
	tf32 := d.Precision == TF32
	if d.blas != nil {
		if err := d.blas.setMath(tf32); err != nil {
			d.fail("%v", err)
			return
		}
		if err := d.blas.sgemm(transA, transB, m, n, k, alpha, a.Ptr, lda, b.Ptr, ldb, beta, c.Ptr, ldc); err != nil {
			d.fail("%v", err)
		}
		return
	}
	grid := [3]int{(n + 63) / 64, (m + 63) / 64, 1}
	if tf32 {
		d.launchSgemmTf32(grid, 128, flag(transA), flag(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	d.launchSgemmF32(grid, 256, flag(transA), flag(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Linear computes y[rows,out] = x[rows,in]·Wᵀ + bias (W [out,in]); bias may
// be the zero Buf.
func (d *Device) Linear(y, x Buf, rows, in, out int, w, bias Buf) {
	d.Sgemm(false, true, rows, out, in, 1, x, in, w, in, 0, y, out)
	if bias.Ptr != 0 {
		d.AddBiasRows(y, rows, out, bias)
	}
}

// MatMul computes y[rows,out] = x[rows,in]·W (W [in,out]).
func (d *Device) MatMul(y, x Buf, rows, in, out int, w Buf) {
	d.Sgemm(false, false, rows, out, in, 1, x, in, w, out, 0, y, out)
}

// LinearBackwardInput adds dy·W to dx (the input gradient of Linear).
func (d *Device) LinearBackwardInput(dx, dy Buf, rows, in, out int, w Buf) {
	d.Sgemm(false, false, rows, in, out, 1, dy, out, w, in, 1, dx, in)
}

// MatMulBackwardInput adds dy·Wᵀ to dx (the input gradient of MatMul).
func (d *Device) MatMulBackwardInput(dx, dy Buf, rows, in, out int, w Buf) {
	d.Sgemm(false, true, rows, in, out, 1, dy, out, w, out, 1, dx, in)
}

// AddBiasRows adds bias[cols] to every row of x[rows,cols].
func (d *Device) AddBiasRows(x Buf, rows, cols int, bias Buf) {
	d.launchAddBiasRows(grid1(rows*cols), 256, x, bias, rows, cols)
}

// Add computes dst[i] += src[i] over dst.Len elements.
func (d *Device) Add(dst, src Buf) {
	d.launchAddInplace(grid1(dst.Len), 256, dst, src, dst.Len)
}

// QuickGELU applies x·σ(1.702x) to the first n elements in place.
func (d *Device) QuickGELU(x Buf, n int) { d.launchQuickgelu(grid1(n), 256, x, n) }

// GELU applies the exact (erf) GELU in place.
func (d *Device) GELU(x Buf, n int) { d.launchGelu(grid1(n), 256, x, n) }

// QuickGELUBackward adds dy⊙f'(pre) to dx.
func (d *Device) QuickGELUBackward(dx, dy, pre Buf, n int) {
	d.launchQuickgeluBackward(grid1(n), 256, dx, dy, pre, n)
}

// GELUBackward adds dy⊙f'(pre) to dx for the exact GELU.
func (d *Device) GELUBackward(dx, dy, pre Buf, n int) {
	d.launchGeluBackward(grid1(n), 256, dx, dy, pre, n)
}

// rowBlock is the thread count of the one-block-per-row kernels.
func rowBlock(width int) int {
	switch {
	case width >= 1024:
		return 512
	case width >= 256:
		return 256
	default:
		return 128
	}
}

// LayerNorm normalises each row of x[rows,width] into y (may alias x).
func (d *Device) LayerNorm(y, x Buf, rows, width int, weight, bias Buf, eps float64) {
	d.launchLayernorm([3]int{rows, 1, 1}, rowBlock(width), y, x, rows, width, weight, bias, eps)
}

// LayerNormBackward adds the input gradient of LayerNorm to dx.
func (d *Device) LayerNormBackward(dx, dy, x Buf, rows, width int, weight Buf, eps float64) {
	d.launchLayernormBackward([3]int{rows, 1, 1}, rowBlock(width), dx, dy, x, rows, width, weight, eps)
}

// L2Normalize scales each row to unit norm in place.
func (d *Device) L2Normalize(x Buf, rows, width int) {
	d.launchL2Normalize([3]int{rows, 1, 1}, rowBlock(width), x, rows, width)
}

// SoftmaxRows applies a stable softmax to each row in place.
func (d *Device) SoftmaxRows(x Buf, rows, cols int) {
	d.launchSoftmaxRows([3]int{rows, 1, 1}, rowBlock(cols), x, rows, cols)
}

// SoftmaxRowsBackward adds y⊙(dy − Σdy·y) to dx.
func (d *Device) SoftmaxRowsBackward(dx, dy, y Buf, rows, cols int) {
	d.launchSoftmaxRowsBackward([3]int{rows, 1, 1}, rowBlock(cols), dx, dy, y, rows, cols)
}

// Attention geometry of the fused kernels (src/dapo.cu: AW, HMAX).
const (
	attnRowsPerBlock = 4
	attnMaxHeadDim   = 128
)

func (d *Device) attnCheck(width, heads int) bool {
	if heads <= 0 || width%heads != 0 || width/heads > attnMaxHeadDim {
		d.fail("attention: width %d / %d heads: head dim must divide and be ≤ %d", width, heads, attnMaxHeadDim)
		return false
	}
	return true
}

// attnSeqsPerLaunch is how many sequences one attention launch covers: the
// kernels put the (sequence, head) pairs on gridDim.y, which CUDA caps at
// 65535 (the text side of 1000 words × 6 templates at 12 heads would pass
// it).
func attnSeqsPerLaunch(heads int) int { return max(1, 65535/heads) }

// off is b from element i on, or the zero Buf when b is unset.
func off(b Buf, i int) Buf {
	if b.Ptr == 0 {
		return b
	}
	return b.Off(i)
}

// Attention is multi-head attention over packed qkv [B,L,3W] into out
// [B,L,W] (kernels/cpu Attention). lse, when non-zero, receives the
// per-(b, head, query) log-sum-exp [B·H·L] the fused backward can reuse.
// Non-causal attention over at least attnGEMMMinSeq tokens runs as batched
// products (attentionGEMM), the rest through the fused kernel.
func (d *Device) Attention(out, lse, qkv Buf, batch, seq, width, heads int, causal bool) {
	if !d.attnCheck(width, heads) {
		return
	}
	if lse.Ptr == 0 && d.attnByGEMM(batch, seq, width, heads, causal) {
		d.attentionGEMM(out, qkv, batch, seq, width, heads)
		return
	}
	per := attnSeqsPerLaunch(heads)
	for b0 := 0; b0 < batch; b0 += per {
		nb := min(per, batch-b0)
		grid := [3]int{(seq + attnRowsPerBlock - 1) / attnRowsPerBlock, nb * heads, 1}
		d.launchAttentionForward(grid, 32*attnRowsPerBlock, out.Off(b0*seq*width), off(lse, b0*heads*seq),
			qkv.Off(b0*seq*3*width), nb, seq, width, heads, flag(causal))
	}
}

// AttentionBackward adds the gradient with respect to the packed qkv to
// dqkv, given dout (kernels/cpu AttentionBackward). Like the CPU kernel it
// recomputes what it needs from qkv (one forward pass for the row
// statistics); no L×L tensor is stored.
func (d *Device) AttentionBackward(dqkv, dout, qkv Buf, batch, seq, width, heads int, causal bool) {
	if !d.attnCheck(width, heads) {
		return
	}
	if d.attnByGEMM(batch, seq, width, heads, causal) {
		d.attentionBackwardGEMM(dqkv, dout, qkv, batch, seq, width, heads)
		return
	}
	stats := batch * heads * seq
	lse, delta := d.Alloc(stats), d.Alloc(stats)
	tmp := d.Alloc(batch * seq * width)
	d.Attention(tmp, lse, qkv, batch, seq, width, heads, causal)
	per := attnSeqsPerLaunch(heads)
	for b0 := 0; b0 < batch; b0 += per {
		nb := min(per, batch-b0)
		grid := [3]int{(seq + attnRowsPerBlock - 1) / attnRowsPerBlock, nb * heads, 1}
		dq, dl, o, q, ls := dqkv.Off(b0*seq*3*width), delta.Off(b0*heads*seq), dout.Off(b0*seq*width), qkv.Off(b0*seq*3*width), lse.Off(b0*heads*seq)
		d.launchAttentionBackwardDq(grid, 32*attnRowsPerBlock, dq, dl, o, q, ls, nb, seq, width, heads, flag(causal))
		d.launchAttentionBackwardDkv(grid, 32*attnRowsPerBlock, dq, dl, o, q, ls, nb, seq, width, heads, flag(causal))
	}
	d.Free(tmp)
	d.Free(delta)
	d.Free(lse)
}

// Attention as products: from attnGEMMMinSeq tokens on, non-causal
// attention materialises the scores of a group of (sequence, head) pairs
// and runs the products on cuBLAS (tensor cores in the TF32 mode), with
// the softmax and its backward in float64 reductions. The fused kernel's
// scalar loops reached about 2 TFLOP/s at ViT-L/14@518 (28 ms of a 34 ms
// block on an H200). Causal masks, sequences shorter than attnGEMMMinSeq
// and score groups over attnGEMMMaxScores keep the fused kernel.
const (
	attnGEMMMinSeq    = 32
	attnGEMMMaxScores = 1 << 27 // floats per score group (512 MiB)
)

// attnLoop is how the products cover the batch: outer strided-batched
// calls of inner (sequence, head) pairs each, the inner pairs stride
// apart in qkv (qkvInner) and in out (outInner), the outer groups
// qkvOuter and outOuter apart. The smaller of batch and heads is the
// outer loop: the vision tower loops over its few images with the heads
// batched, the text side over its heads with its 210 sequences batched.
type attnLoop struct{ outer, inner, qkvOuter, qkvInner, outOuter, outInner int }

func attnLoopFor(batch, seq, width, heads int) attnLoop {
	hd := width / heads
	if batch <= heads {
		return attnLoop{outer: batch, inner: heads, qkvOuter: seq * 3 * width, qkvInner: hd, outOuter: seq * width, outInner: hd}
	}
	return attnLoop{outer: heads, inner: batch, qkvOuter: hd, qkvInner: seq * 3 * width, outOuter: hd, outInner: seq * width}
}

func (d *Device) attnByGEMM(batch, seq, width, heads int, causal bool) bool {
	return d.blas != nil && d.blas.batched && !causal && seq >= attnGEMMMinSeq &&
		attnLoopFor(batch, seq, width, heads).inner*seq*seq <= attnGEMMMaxScores
}

// sgemmBatched computes C_i = α·op(A_i)·op(B_i) + β·C_i for i < batch,
// with X_i = X + i·strideX (elements), on cuBLAS.
func (d *Device) sgemmBatched(transA, transB bool, m, n, k int, alpha float32, a Buf, lda, strideA int, b Buf, ldb, strideB int, beta float32, c Buf, ldc, strideC, batch int) {
	if d.err != nil || m == 0 || n == 0 || batch == 0 {
		return
	}
	if err := d.blas.setMath(d.Precision == TF32); err != nil {
		d.fail("%v", err)
		return
	}
	if err := d.blas.sgemmStridedBatched(transA, transB, m, n, k, alpha, a.Ptr, lda, strideA, b.Ptr, ldb, strideB, beta, c.Ptr, ldc, strideC, batch); err != nil {
		d.fail("%v", err)
	}
}

// attnScale is 1/√(head dim), as the fused kernel and kernels/cpu.
func attnScale(width, heads int) float32 { return float32(1 / math.Sqrt(float64(width/heads))) }

// attnScores fills p [inner, L, L] with softmax(scale·q·kᵀ) for outer
// group o's (sequence, head) pairs; q, k, v are that group's views.
func (d *Device) attnScores(p Buf, lp attnLoop, qkv Buf, o, seq, width, heads int) (q, k, v Buf) {
	base := qkv.Off(o * lp.qkvOuter)
	q, k, v = base, base.Off(width), base.Off(2*width)
	d.sgemmBatched(false, true, seq, seq, width/heads, attnScale(width, heads), q, 3*width, lp.qkvInner, k, 3*width, lp.qkvInner, 0, p, seq, seq*seq, lp.inner)
	d.SoftmaxRows(p, lp.inner*seq, seq)
	return q, k, v
}

// attentionGEMM is Attention as products.
func (d *Device) attentionGEMM(out, qkv Buf, batch, seq, width, heads int) {
	lp, hd := attnLoopFor(batch, seq, width, heads), width/heads
	p := d.Alloc(lp.inner * seq * seq)
	defer d.Free(p)
	for o := 0; o < lp.outer; o++ {
		_, _, v := d.attnScores(p, lp, qkv, o, seq, width, heads)
		// out = P·v per pair
		d.sgemmBatched(false, false, seq, hd, seq, 1, p, seq, seq*seq, v, 3*width, lp.qkvInner, 0, out.Off(o*lp.outOuter), width, lp.outInner, lp.inner)
	}
}

// attentionBackwardGEMM is AttentionBackward as products: with
// S = scale·q·kᵀ, P = softmax(S) and out = P·v, per pair
//
//	dv += Pᵀ·dout,  dP = dout·vᵀ,  dS = P⊙(dP − Σ dP⊙P),
//	dq += scale·dS·k,  dk += scale·dSᵀ·q.
func (d *Device) attentionBackwardGEMM(dqkv, dout, qkv Buf, batch, seq, width, heads int) {
	lp, hd, scale := attnLoopFor(batch, seq, width, heads), width/heads, attnScale(width, heads)
	n := lp.inner * seq * seq
	p, dp, ds := d.Alloc(n), d.Alloc(n), d.Alloc(n)
	defer func() {
		d.Free(p)
		d.Free(dp)
		d.Free(ds)
	}()
	for o := 0; o < lp.outer; o++ {
		q, k, v := d.attnScores(p, lp, qkv, o, seq, width, heads)
		dbase := dqkv.Off(o * lp.qkvOuter)
		dq, dk, dv := dbase, dbase.Off(width), dbase.Off(2*width)
		do := dout.Off(o * lp.outOuter)
		ld, st := 3*width, lp.qkvInner
		d.sgemmBatched(true, false, seq, hd, seq, 1, p, seq, seq*seq, do, width, lp.outInner, 1, dv, ld, st, lp.inner)
		d.sgemmBatched(false, true, seq, seq, hd, 1, do, width, lp.outInner, v, ld, st, 0, dp, seq, seq*seq, lp.inner)
		d.Zero(ds)
		d.SoftmaxRowsBackward(ds, dp, p, lp.inner*seq, seq)
		d.sgemmBatched(false, false, seq, hd, seq, scale, ds, seq, seq*seq, k, ld, st, 1, dq, ld, st, lp.inner)
		d.sgemmBatched(true, false, seq, hd, seq, scale, ds, seq, seq*seq, q, ld, st, 1, dk, ld, st, lp.inner)
	}
}

// InsertAfterFirst writes x [B,L,W] with the n prompt rows tokens [n,W]
// after row 0 into out [B,L+n,W] (deep-prompt insertion).
func (d *Device) InsertAfterFirst(out, x, tokens Buf, batch, seq, width, n int) {
	d.launchInsertAfterFirst(grid1(batch*(seq+n)*width), 256, out, x, tokens, batch, seq, width, n)
}

// RemoveAfterFirst writes x [B,L,W] without rows 1..n into out [B,L−n,W].
func (d *Device) RemoveAfterFirst(out, x Buf, batch, seq, width, n int) {
	d.launchRemoveAfterFirst(grid1(batch*(seq-n)*width), 256, out, x, batch, seq, width, n)
}

// BlendRows sets rows 1..n of every sequence to alpha·row + (1−alpha)·token.
func (d *Device) BlendRows(x, tokens Buf, batch, seq, width, n int, alpha float32) {
	d.launchBlendRows(grid1(batch*n*width), 256, x, tokens, batch, seq, width, n, alpha)
}

// BlendRowsBackward adds (1−alpha)·Σ_b dx[rows 1..n] to dtokens and scales
// those rows of dx by alpha.
func (d *Device) BlendRowsBackward(dx, dtokens Buf, batch, seq, width, n int, alpha float32) {
	d.launchBlendRowsBackward(grid1(n*width), 256, dx, dtokens, batch, seq, width, n, alpha)
}

// PatchUnfold turns pixels [B,3,S,S] into patches [B·G², 3·p·p].
func (d *Device) PatchUnfold(patches, pixels Buf, batch, size, patch int) {
	g := size / patch
	d.launchPatchUnfold(grid1(batch*g*g*3*patch*patch), 256, patches, pixels, batch, size, patch)
}

// VisionAssemble writes x [B,1+G²,W] = [class; emb] + pos.
func (d *Device) VisionAssemble(x, emb, cls, pos Buf, batch, g2, width int) {
	d.launchVisionAssemble(grid1(batch*(1+g2)*width), 256, x, emb, cls, pos, batch, g2, width)
}

// GatherRows writes out [N,W] = x[n, rows[n]] for x [N,L,W]; rows holds
// int32 indices (UploadInts).
func (d *Device) GatherRows(out, x, rows Buf, n, seq, width int) {
	d.launchGatherRows(grid1(n*width), 256, out, x, rows, n, seq, width)
}

// EmbedTokens writes x [N,L,W] = table[ids] (+ pos when non-zero); ids are
// int32 (UploadInts).
func (d *Device) EmbedTokens(x, table, ids, pos Buf, n, seq, width int) {
	d.launchEmbedTokens(grid1(n*seq*width), 256, x, table, ids, pos, n, seq, width)
}

// DropCLS writes rows 1.. of x [B,L,W] into out [B·(L−1),W].
func (d *Device) DropCLS(out, x Buf, batch, seq, width int) {
	d.launchDropCls(grid1(batch*(seq-1)*width), 256, out, x, batch, seq, width)
}

// flag is a bool as the kernels' int flags.
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}
