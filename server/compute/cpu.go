package compute

import (
	"fmt"

	"dapo/kernels/cpu"
)

// Host is a CPU tensor: a plain slice (weights are used in place, no copy).
type Host []float32

// Len is the number of elements.
func (h Host) Len() int { return len(h) }

// CPU is the Backend over kernels/cpu. Its operations run synchronously.
type CPU struct{ err error }

var _ Backend = (*CPU)(nil)

func host(t Tensor) []float32 {
	if t == nil {
		return nil
	}
	return t.(Host)
}

// Name is "cpu".
func (c *CPU) Name() string { return "cpu" }

// Alloc returns a zeroed slice (Go has no uninitialised memory).
func (c *CPU) Alloc(n int) Tensor { return Host(make([]float32, n)) }

// Zeros returns a zeroed slice.
func (c *CPU) Zeros(n int) Tensor { return Host(make([]float32, n)) }

// Free does nothing: the garbage collector owns host memory.
func (c *CPU) Free(Tensor) {}

// View aliases elements [off, off+n).
func (c *CPU) View(t Tensor, off, n int) Tensor { return Host(host(t)[off : off+n : off+n]) }

// Upload wraps x without copying.
func (c *CPU) Upload(x []float32) Tensor { return Host(x) }

// Download copies t into dst.
func (c *CPU) Download(dst []float32, t Tensor) { copy(dst, host(t)) }

// Copy copies src into dst.
func (c *CPU) Copy(dst, src Tensor) { copy(host(dst), host(src)) }

// Zero clears t.
func (c *CPU) Zero(t Tensor) { clear(host(t)) }

// Err reports the first failure.
func (c *CPU) Err() error { return c.err }

func (c *CPU) Linear(y, x Tensor, rows, in, out int, w, bias Tensor) {
	cpu.Linear(host(y), host(x), rows, in, out, host(w), host(bias))
}
func (c *CPU) MatMul(y, x Tensor, rows, in, out int, w Tensor) {
	cpu.MatMul(host(y), host(x), rows, in, out, host(w))
}
func (c *CPU) LinearResidual(y, x Tensor, rows, in, out int, w, bias Tensor) {
	cpu.LinearResidual(host(y), host(x), rows, in, out, host(w), host(bias))
}
func (c *CPU) LinearBackwardInput(dx, dy Tensor, rows, in, out int, w Tensor) {
	cpu.LinearBackwardInput(host(dx), host(dy), rows, in, out, host(w))
}
func (c *CPU) LinearBackwardWeight(dw, db, dy, x Tensor, rows, in, out int) {
	cpu.LinearBackwardWeight(host(dw), host(db), host(dy), host(x), rows, in, out)
}
func (c *CPU) MatMulBackwardInput(dx, dy Tensor, rows, in, out int, w Tensor) {
	cpu.MatMulBackwardInput(host(dx), host(dy), rows, in, out, host(w))
}
func (c *CPU) Add(dst, src Tensor) { cpu.Add(host(dst), host(src)) }
func (c *CPU) LayerNorm(y, x Tensor, rows, width int, weight, bias Tensor) {
	cpu.LayerNorm(host(y), host(x), rows, width, host(weight), host(bias), cpu.LayerNormEps)
}
func (c *CPU) LayerNormBackward(dx, dy, x Tensor, rows, width int, weight Tensor) {
	cpu.LayerNormBackward(host(dx), host(dy), host(x), rows, width, host(weight), cpu.LayerNormEps)
}
func (c *CPU) L2Normalize(x Tensor, rows, width int) { cpu.L2Normalize(host(x), rows, width) }
func (c *CPU) BiasActivation(y, pre Tensor, rows, cols int, bias Tensor, quick bool) {
	if quick {
		cpu.BiasQuickGELU(host(y), host(pre), rows, cols, host(bias))
	} else {
		cpu.BiasGELU(host(y), host(pre), rows, cols, host(bias))
	}
}
func (c *CPU) ActivationBackward(dx, dy, pre Tensor, n int, quick bool) {
	if quick {
		cpu.QuickGELUBackward(host(dx)[:n], host(dy), host(pre))
	} else {
		cpu.GELUBackward(host(dx)[:n], host(dy), host(pre))
	}
}
func (c *CPU) Attention(out, qkv Tensor, batch, seq, width, heads int, causal bool) {
	cpu.Attention(host(out), host(qkv), batch, seq, width, heads, causal)
}
func (c *CPU) AttentionBackward(dqkv, dout, qkv Tensor, batch, seq, width, heads int, causal bool) {
	cpu.AttentionBackward(host(dqkv), host(dout), host(qkv), batch, seq, width, heads, causal)
}

func (c *CPU) InsertAfterFirst(out, x, tokens Tensor, batch, seq, width, n int) {
	o, in, tok := host(out), host(x), host(tokens)
	l2 := seq + n
	for b := 0; b < batch; b++ {
		copy(o[b*l2*width:], in[b*seq*width:b*seq*width+width])
		copy(o[(b*l2+1)*width:], tok[:n*width])
		copy(o[(b*l2+1+n)*width:(b+1)*l2*width], in[(b*seq+1)*width:(b+1)*seq*width])
	}
}

func (c *CPU) RemoveAfterFirst(out, x Tensor, batch, seq, width, n int) {
	o, in := host(out), host(x)
	l2 := seq - n
	for b := 0; b < batch; b++ {
		copy(o[b*l2*width:], in[b*seq*width:b*seq*width+width])
		copy(o[(b*l2+1)*width:(b+1)*l2*width], in[(b*seq+1+n)*width:(b+1)*seq*width])
	}
}

func (c *CPU) BlendRows(x, tokens Tensor, batch, seq, width, n int, alpha float32) {
	xs, tok := host(x), host(tokens)
	keep := 1 - alpha
	for b := 0; b < batch; b++ {
		for j := 0; j < n; j++ {
			row := xs[(b*seq+1+j)*width : (b*seq+2+j)*width]
			for i := range row {
				row[i] = alpha*row[i] + keep*tok[j*width+i]
			}
		}
	}
}

func (c *CPU) BlendRowsBackward(dx, dtokens Tensor, batch, seq, width, n int, alpha float32) {
	g, dt := host(dx), host(dtokens)
	keep := 1 - alpha
	for j := 0; j < n; j++ {
		for i := 0; i < width; i++ {
			var s float32
			for b := 0; b < batch; b++ {
				p := &g[(b*seq+1+j)*width+i]
				s += *p
				*p *= alpha
			}
			dt[j*width+i] += keep * s
		}
	}
}

func (c *CPU) GatherRows(out, x Tensor, rows []int, seq, width int) {
	o, in := host(out), host(x)
	for n, r := range rows {
		copy(o[n*width:(n+1)*width], in[(n*seq+r)*width:])
	}
}

func (c *CPU) DropFirst(out, x Tensor, batch, seq, width int) {
	o, in := host(out), host(x)
	for b := 0; b < batch; b++ {
		copy(o[b*(seq-1)*width:(b+1)*(seq-1)*width], in[(b*seq+1)*width:(b+1)*seq*width])
	}
}

func (c *CPU) PatchUnfold(patches, pixels Tensor, batch, s, p int) {
	dst, img := host(patches), host(pixels)
	g, kdim := s/p, 3*p*p
	for b := 0; b < batch; b++ {
		for gy := 0; gy < g; gy++ {
			for gx := 0; gx < g; gx++ {
				d := dst[((b*g+gy)*g+gx)*kdim:]
				for ch := 0; ch < 3; ch++ {
					for ky := 0; ky < p; ky++ {
						src := img[((b*3+ch)*s+gy*p+ky)*s+gx*p:]
						copy(d[(ch*p+ky)*p:(ch*p+ky)*p+p], src[:p])
					}
				}
			}
		}
	}
}

func (c *CPU) VisionAssemble(x, emb, cls, pos Tensor, batch, g2, width int) {
	xs, e, cl, ps := host(x), host(emb), host(cls), host(pos)
	l := 1 + g2
	for b := 0; b < batch; b++ {
		copy(xs[b*l*width:], cl[:width])
		copy(xs[(b*l+1)*width:(b+1)*l*width], e[b*g2*width:(b+1)*g2*width])
		for i := 0; i < l; i++ {
			cpu.Add(xs[(b*l+i)*width:(b*l+i+1)*width], ps[i*width:(i+1)*width])
		}
	}
}

func (c *CPU) EmbedTokens(x, table Tensor, ids [][]int, pos Tensor, width int) {
	xs, tab, ps := host(x), host(table), host(pos)
	vocab := len(tab) / width
	for n, row := range ids {
		l := len(row)
		for i, id := range row {
			if id < 0 || id >= vocab {
				c.fail(fmt.Errorf("embed tokens: row %d position %d: id %d outside vocabulary of %d", n, i, id, vocab))
				return
			}
			dst := xs[(n*l+i)*width : (n*l+i+1)*width]
			copy(dst, tab[id*width:(id+1)*width])
			if ps != nil {
				cpu.Add(dst, ps[i*width:(i+1)*width])
			}
		}
	}
}

func (c *CPU) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}
