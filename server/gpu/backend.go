//go:build dapocuda

package gpu

import (
	"fmt"

	"dapo/kernels/cuda"
	"dapo/server/compute"
)

// Tensor is a device buffer.
type Tensor struct{ cuda.Buf }

// Len is the number of float32 elements.
func (t Tensor) Len() int { return t.Buf.Len }

// Backend runs the towers on one GPU. Not safe for concurrent use: give
// each goroutine its own, or serialise.
type Backend struct {
	Dev  *cuda.Device
	ones cuda.Buf // a column of ones: LinearBackwardWeight's bias sums as a product
}

var (
	_ compute.Backend   = (*Backend)(nil)
	_ compute.Recoverer = (*Backend)(nil)
)

// Open opens GPU ordinal in the given precision (cuda.F32 is the exact,
// golden-parity mode; cuda.TF32 uses tensor cores for the products).
func Open(ordinal int, prec cuda.Precision) (*Backend, error) {
	d, err := cuda.Open(ordinal, prec)
	if err != nil {
		return nil, err
	}
	return &Backend{Dev: d}, nil
}

// Close releases the device.
func (b *Backend) Close() error { return b.Dev.Close() }

// Name says which GPU and mode.
func (b *Backend) Name() string {
	return fmt.Sprintf("cuda:%d (%s, %s, GEMM %s)", b.Dev.Ordinal, b.Dev.Name, b.Dev.Precision, b.Dev.GEMMBackend())
}

func buf(t compute.Tensor) cuda.Buf {
	if t == nil {
		return cuda.Buf{}
	}
	return t.(Tensor).Buf
}

// do runs fn with the device context current on this thread.
func (b *Backend) do(fn func(d *cuda.Device)) {
	b.Dev.Do(func() error { fn(b.Dev); return nil })
}

func (b *Backend) Alloc(n int) compute.Tensor {
	var t Tensor
	b.do(func(d *cuda.Device) { t = Tensor{d.Alloc(n)} })
	return t
}

func (b *Backend) Zeros(n int) compute.Tensor {
	var t Tensor
	b.do(func(d *cuda.Device) { t = Tensor{d.Zeros(n)} })
	return t
}

func (b *Backend) Free(t compute.Tensor) { b.do(func(d *cuda.Device) { d.Free(buf(t)) }) }

func (b *Backend) View(t compute.Tensor, off, n int) compute.Tensor {
	return Tensor{buf(t).Slice(off, off+n)}
}

func (b *Backend) Upload(x []float32) compute.Tensor {
	var t Tensor
	b.do(func(d *cuda.Device) { t = Tensor{d.Upload(x)} })
	return t
}

func (b *Backend) Download(dst []float32, t compute.Tensor) {
	b.do(func(d *cuda.Device) { d.CopyOut(dst, buf(t)) })
}

func (b *Backend) Copy(dst, src compute.Tensor) {
	b.do(func(d *cuda.Device) { d.Copy(buf(dst), buf(src)) })
}

// Err synchronises and reports the first failure.
func (b *Backend) Zero(t compute.Tensor) { b.do(func(d *cuda.Device) { d.Zero(buf(t)) }) }

// Recover forgets a failed pass's error when the device still works (an
// allocation that did not fit, a bad token id), so that a long-running
// server takes the next request; it returns an error when the context
// itself is broken (CUDA's sticky errors, such as an illegal address),
// which only a new process clears.
func (b *Backend) Recover() error {
	var err error
	b.do(func(d *cuda.Device) {
		d.ClearErr()
		d.Sync()
		err = d.Err()
	})
	return err
}

func (b *Backend) Err() error {
	b.do(func(d *cuda.Device) { d.Sync() })
	return b.Dev.Err()
}

func (b *Backend) Linear(y, x compute.Tensor, rows, in, out int, w, bias compute.Tensor) {
	b.do(func(d *cuda.Device) { d.Linear(buf(y), buf(x), rows, in, out, buf(w), buf(bias)) })
}

func (b *Backend) MatMul(y, x compute.Tensor, rows, in, out int, w compute.Tensor) {
	b.do(func(d *cuda.Device) { d.MatMul(buf(y), buf(x), rows, in, out, buf(w)) })
}

// LinearResidual is one GEMM with beta = 1 into y, then the bias.
func (b *Backend) LinearResidual(y, x compute.Tensor, rows, in, out int, w, bias compute.Tensor) {
	b.do(func(d *cuda.Device) {
		d.Sgemm(false, true, rows, out, in, 1, buf(x), in, buf(w), in, 1, buf(y), out)
		if bias != nil {
			d.AddBiasRows(buf(y), rows, out, buf(bias))
		}
	})
}

func (b *Backend) LinearBackwardInput(dx, dy compute.Tensor, rows, in, out int, w compute.Tensor) {
	b.do(func(d *cuda.Device) { d.LinearBackwardInput(buf(dx), buf(dy), rows, in, out, buf(w)) })
}

// LinearBackwardWeight: dW += dyᵀ·x as one GEMM, db += 1ᵀ·dy as a
// second (float32 accumulation in cuBLAS; kernels/cpu sums in float64).
func (b *Backend) LinearBackwardWeight(dw, db, dy, x compute.Tensor, rows, in, out int) {
	b.do(func(d *cuda.Device) {
		d.Sgemm(true, false, out, in, rows, 1, buf(dy), out, buf(x), in, 1, buf(dw), in)
		if db == nil {
			return
		}
		if b.ones.Len < rows {
			d.Free(b.ones)
			ones := make([]float32, rows)
			for i := range ones {
				ones[i] = 1
			}
			b.ones = d.Upload(ones)
		}
		d.Sgemm(false, false, 1, out, rows, 1, b.ones, rows, buf(dy), out, 1, buf(db), out)
	})
}

func (b *Backend) MatMulBackwardInput(dx, dy compute.Tensor, rows, in, out int, w compute.Tensor) {
	b.do(func(d *cuda.Device) { d.MatMulBackwardInput(buf(dx), buf(dy), rows, in, out, buf(w)) })
}

func (b *Backend) Add(dst, src compute.Tensor) {
	b.do(func(d *cuda.Device) { d.Add(buf(dst), buf(src)) })
}

func (b *Backend) LayerNorm(y, x compute.Tensor, rows, width int, weight, bias compute.Tensor) {
	b.do(func(d *cuda.Device) {
		d.LayerNorm(buf(y), buf(x), rows, width, buf(weight), buf(bias), cuda.LayerNormEps)
	})
}

func (b *Backend) LayerNormBackward(dx, dy, x compute.Tensor, rows, width int, weight compute.Tensor) {
	b.do(func(d *cuda.Device) {
		d.LayerNormBackward(buf(dx), buf(dy), buf(x), rows, width, buf(weight), cuda.LayerNormEps)
	})
}

func (b *Backend) L2Normalize(x compute.Tensor, rows, width int) {
	b.do(func(d *cuda.Device) { d.L2Normalize(buf(x), rows, width) })
}

func (b *Backend) BiasActivation(y, pre compute.Tensor, rows, cols int, bias compute.Tensor, quick bool) {
	b.do(func(d *cuda.Device) {
		dst, src := buf(y), buf(pre)
		if bias != nil {
			d.AddBiasRows(src, rows, cols, buf(bias))
		}
		if dst.Ptr != src.Ptr {
			d.Copy(dst.Slice(0, rows*cols), src.Slice(0, rows*cols))
		}
		if quick {
			d.QuickGELU(dst, rows*cols)
		} else {
			d.GELU(dst, rows*cols)
		}
	})
}

func (b *Backend) ActivationBackward(dx, dy, pre compute.Tensor, n int, quick bool) {
	b.do(func(d *cuda.Device) {
		if quick {
			d.QuickGELUBackward(buf(dx), buf(dy), buf(pre), n)
		} else {
			d.GELUBackward(buf(dx), buf(dy), buf(pre), n)
		}
	})
}

func (b *Backend) Attention(out, qkv compute.Tensor, batch, seq, width, heads int, causal bool) {
	b.do(func(d *cuda.Device) { d.Attention(buf(out), cuda.Buf{}, buf(qkv), batch, seq, width, heads, causal) })
}

func (b *Backend) AttentionBackward(dqkv, dout, qkv compute.Tensor, batch, seq, width, heads int, causal bool) {
	b.do(func(d *cuda.Device) {
		d.AttentionBackward(buf(dqkv), buf(dout), buf(qkv), batch, seq, width, heads, causal)
	})
}

func (b *Backend) InsertAfterFirst(out, x, tokens compute.Tensor, batch, seq, width, n int) {
	b.do(func(d *cuda.Device) { d.InsertAfterFirst(buf(out), buf(x), buf(tokens), batch, seq, width, n) })
}

func (b *Backend) RemoveAfterFirst(out, x compute.Tensor, batch, seq, width, n int) {
	b.do(func(d *cuda.Device) { d.RemoveAfterFirst(buf(out), buf(x), batch, seq, width, n) })
}

func (b *Backend) BlendRows(x, tokens compute.Tensor, batch, seq, width, n int, alpha float32) {
	b.do(func(d *cuda.Device) { d.BlendRows(buf(x), buf(tokens), batch, seq, width, n, alpha) })
}

func (b *Backend) BlendRowsBackward(dx, dtokens compute.Tensor, batch, seq, width, n int, alpha float32) {
	b.do(func(d *cuda.Device) { d.BlendRowsBackward(buf(dx), buf(dtokens), batch, seq, width, n, alpha) })
}

func int32s(x []int) []int32 {
	out := make([]int32, len(x))
	for i, v := range x {
		out[i] = int32(v)
	}
	return out
}

func (b *Backend) GatherRows(out, x compute.Tensor, rows []int, seq, width int) {
	b.do(func(d *cuda.Device) {
		idx := d.UploadInts(int32s(rows))
		d.GatherRows(buf(out), buf(x), idx, len(rows), seq, width)
		d.Free(idx)
	})
}

func (b *Backend) DropFirst(out, x compute.Tensor, batch, seq, width int) {
	b.do(func(d *cuda.Device) { d.DropCLS(buf(out), buf(x), batch, seq, width) })
}

func (b *Backend) PatchUnfold(patches, pixels compute.Tensor, batch, size, patch int) {
	b.do(func(d *cuda.Device) { d.PatchUnfold(buf(patches), buf(pixels), batch, size, patch) })
}

func (b *Backend) VisionAssemble(x, emb, cls, pos compute.Tensor, batch, g2, width int) {
	b.do(func(d *cuda.Device) { d.VisionAssemble(buf(x), buf(emb), buf(cls), buf(pos), batch, g2, width) })
}

// EmbedTokens checks the ids on the host (a bad id would read outside the
// table on the device) and gathers on the device.
func (b *Backend) EmbedTokens(x, table compute.Tensor, ids [][]int, pos compute.Tensor, width int) {
	vocab := buf(table).Len / width
	var flat []int32
	l := 0
	for n, row := range ids {
		l = len(row)
		for i, id := range row {
			if id < 0 || id >= vocab {
				b.Dev.Fail(fmt.Errorf("embed tokens: row %d position %d: id %d outside vocabulary of %d", n, i, id, vocab))
				return
			}
			flat = append(flat, int32(id))
		}
	}
	b.do(func(d *cuda.Device) {
		idx := d.UploadInts(flat)
		d.EmbedTokens(buf(x), buf(table), idx, buf(pos), len(ids), l, width)
		d.Free(idx)
	})
}
