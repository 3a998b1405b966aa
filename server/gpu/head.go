//go:build dapocuda

package gpu

import (
	"fmt"

	"dapo/kernels/cuda"
	"dapo/server/compute"
)

// gpuHead is the GPU head's saved state: everything of size rows or
// pixels stays on the device.
type gpuHead struct {
	be                     *Backend
	spec                   compute.HeadSpec
	text                   *compute.HeadText
	that, cls, bin         cuda.Buf
	fhat, norm, probs, hpt []cuda.Buf
	sums                   [][]compute.HeadSums
	used                   bool
}

func (s *gpuHead) Free() {
	s.be.do(func(d *cuda.Device) {
		for _, b := range []cuda.Buf{s.that, s.cls, s.bin} {
			d.Free(b)
		}
		for _, bs := range [][]cuda.Buf{s.fhat, s.norm, s.probs, s.hpt} {
			for _, b := range bs {
				d.Free(b)
			}
		}
	})
	s.fhat, s.norm, s.probs, s.hpt = nil, nil, nil, nil
	s.that, s.cls, s.bin = cuda.Buf{}, cuda.Buf{}, cuda.Buf{}
}

// HeadForward runs the fused head's forward on the device (kernels in
// src/head.cu); only C·E + B·E feature values, the targets and the
// per-block pixel sums cross the bus.
func (b *Backend) HeadForward(h compute.HeadSpec, feats []compute.Tensor, text, global compute.Tensor, tg compute.HeadTargets) (compute.HeadLosses, compute.HeadState, error) {
	if err := h.Check(feats, text, global, tg); err != nil {
		return compute.HeadLosses{}, nil, err
	}
	textH, globalH := make([]float32, text.Len()), make([]float32, global.Len())
	b.Download(textH, text)
	b.Download(globalH, global)
	st := &gpuHead{be: b, spec: h, text: compute.NewHeadText(h, textH, globalH, tg.Label)}
	rows := h.Rows()
	invT := float64(1 / h.Temperature)
	lo, hi := compute.HeadOneHot(h.Classes)
	nblk := cuda.HeadPixelBlocks(h.Size)
	partials := make([][]float64, h.Layers)
	b.do(func(d *cuda.Device) {
		st.that = d.Upload(st.text.THat)
		st.cls = d.UploadInts(tg.ClassID)
		st.bin = d.Upload(tg.Binary)
		part := d.AllocF64(h.Batch * nblk * compute.HeadSumsLen)
		defer d.Free(part)
		for l, f := range feats {
			fhat, norm, probs := d.Alloc(rows*h.Embed), d.AllocF64(rows), d.Alloc(rows*h.Classes)
			hpt := d.AllocF64(h.Batch * h.Size * h.Size)
			d.HeadRowsForward(probs, fhat, norm, buf(f), st.that, rows, h.Classes, h.Embed, invT)
			d.HeadPixelsForward(hpt, part, probs, st.cls, st.bin, h.Batch, h.Grid, h.Size, h.Classes, lo, hi)
			partials[l] = make([]float64, h.Batch*nblk*compute.HeadSumsLen)
			d.CopyOutF64(partials[l], part)
			st.fhat, st.norm, st.probs, st.hpt = append(st.fhat, fhat), append(st.norm, norm), append(st.probs, probs), append(st.hpt, hpt)
		}
	})
	if err := b.Err(); err != nil {
		st.Free()
		return compute.HeadLosses{}, nil, fmt.Errorf("head forward on %s: %w", b.Name(), err)
	}
	for l := range partials {
		sums := make([]compute.HeadSums, h.Batch)
		for i := range sums {
			for k := 0; k < nblk; k++ {
				v := partials[l][(i*nblk+k)*compute.HeadSumsLen:]
				s := &sums[i]
				s.Focal += v[0]
				s.InterN += v[1]
				s.SumN += v[2]
				s.TgtN += v[3]
				s.InterA += v[4]
				s.SumA += v[5]
				s.TgtA += v[6]
			}
		}
		st.sums = append(st.sums, sums)
	}
	return compute.HeadFinish(h, st.sums, st.text), st, nil
}

// HeadBackward runs the fused head's backward on the device and frees the
// state's buffers.
func (b *Backend) HeadBackward(state compute.HeadState, dTotal float32, dFeats []compute.Tensor, dText, dGlobal compute.Tensor) error {
	st, ok := state.(*gpuHead)
	if !ok || st == nil {
		return fmt.Errorf("head backward: state %T is not the GPU's", state)
	}
	if st.used {
		return fmt.Errorf("head backward: state already used")
	}
	st.used = true
	defer st.Free()
	h := st.spec
	if len(dFeats) != h.Layers {
		return fmt.Errorf("head backward: %d feature gradients, want %d", len(dFeats), h.Layers)
	}
	rows := h.Rows()
	invT := float64(1 / h.Temperature)
	lo, hi := compute.HeadOneHot(h.Classes)
	cF, coef := compute.HeadCoefficients(h, st.sums, float64(dTotal))
	dTHat := make([]float64, h.Classes*h.Embed)
	b.do(func(d *cuda.Device) {
		dsim := d.AllocF64(rows * h.Classes)
		dthat := d.Zeros(2 * h.Classes * h.Embed)
		for l := 0; l < h.Layers; l++ {
			cb := d.UploadF64(coef[l])
			d.HeadPixelsBackward(dsim, st.probs[l], st.hpt[l], st.cls, st.bin, cb, cF, lo, hi, invT, h.Batch, h.Grid, h.Size, h.Classes)
			d.HeadFeatBackward(buf(dFeats[l]), dsim, st.fhat[l], st.norm[l], st.that, rows, h.Classes, h.Embed)
			d.HeadTextBackward(dthat, dsim, st.fhat[l], rows, h.Classes, h.Embed)
			d.Free(cb)
		}
		d.CopyOutF64(dTHat, dthat)
		d.Free(dthat)
		d.Free(dsim)
	})
	if err := b.Err(); err != nil {
		return fmt.Errorf("head backward on %s: %w", b.Name(), err)
	}
	dt, dg := st.text.Backward(float64(dTotal), dTHat)
	b.do(func(d *cuda.Device) {
		for _, p := range []struct {
			dst compute.Tensor
			v   []float32
		}{{dText, dt}, {dGlobal, dg}} {
			t := d.Upload(p.v)
			d.Add(buf(p.dst), t)
			d.Free(t)
		}
	})
	return b.Err()
}
