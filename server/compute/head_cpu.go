package compute

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// cpuHead is the CPU head's saved state.
type cpuHead struct {
	spec  HeadSpec
	text  *HeadText
	fHat  [][]float32 // per layer [rows,E]
	norm  [][]float64 // per layer [rows]
	probs [][]float32 // per layer [rows,C]
	hpt   [][]float64 // per layer [B·S²] focal derivative factor
	cls   []int32
	bin   []float32
	sums  [][]HeadSums
	used  bool
}

func (s *cpuHead) Free() {}

// parallel runs fn(i) for i in [0,n) on the CPUs.
func parallel(n int, fn func(i int)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	next := make(chan int, n)
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// HeadForward is the fused head's forward in plain Go (float64 per row and
// per pixel).
func (c *CPU) HeadForward(h HeadSpec, feats []Tensor, text, global Tensor, tg HeadTargets) (HeadLosses, HeadState, error) {
	if err := h.Check(feats, text, global, tg); err != nil {
		return HeadLosses{}, nil, err
	}
	st := &cpuHead{spec: h, cls: tg.ClassID, bin: tg.Binary}
	st.text = NewHeadText(h, host(text), host(global), tg.Label)
	rows, e, cn, s := h.Rows(), h.Embed, h.Classes, h.Size
	invT := float64(1 / h.Temperature)
	lo, hi := HeadOneHot(cn)
	g2 := h.Grid * h.Grid
	for l := range feats {
		x := host(feats[l])
		fHat, norm, probs := make([]float32, rows*e), make([]float64, rows), make([]float32, rows*cn)
		parallel(h.Batch, func(b int) {
			z := make([]float64, cn)
			for r := b * g2; r < (b+1)*g2; r++ {
				headSoftmaxRow(probs[r*cn:(r+1)*cn], fHat[r*e:(r+1)*e], &norm[r], x[r*e:(r+1)*e], st.text.THat, z, invT)
			}
		})
		hpt := make([]float64, h.Batch*s*s)
		sums := make([]HeadSums, h.Batch)
		parallel(h.Batch, func(b int) {
			u := make([]float64, cn)
			v := make([]float64, HeadSumsLen)
			for y := 0; y < s; y++ {
				for x := 0; x < s; x++ {
					headUpsample(u, probs, b, y, x, h)
					p := (b*s+y)*s + x
					term, d := HeadPixel(u, int(tg.ClassID[p]), float64(tg.Binary[p]), lo, hi, v)
					v[0] += term
					hpt[p] = d
				}
			}
			sums[b].add(v)
		})
		st.fHat, st.norm, st.probs, st.hpt = append(st.fHat, fHat), append(st.norm, norm), append(st.probs, probs), append(st.hpt, hpt)
		st.sums = append(st.sums, sums)
	}
	return HeadFinish(h, st.sums, st.text), st, nil
}

// headSoftmaxRow normalises one feature row and computes its class
// probabilities softmax(x̂·T̂ᵀ/τ); z is scratch of C.
func headSoftmaxRow(p, fHat []float32, norm *float64, x, tHat []float32, z []float64, invT float64) {
	e := len(x)
	s := 0.0
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	*norm = math.Sqrt(s)
	for j, v := range x {
		fHat[j] = float32(float64(v) / *norm)
	}
	m := math.Inf(-1)
	for c := range z {
		d := 0.0
		t := tHat[c*e : (c+1)*e]
		for j, v := range fHat {
			d += float64(v) * float64(t[j])
		}
		z[c] = d * invT
		m = math.Max(m, z[c])
	}
	sum := 0.0
	for c := range z {
		z[c] = math.Exp(z[c] - m)
		sum += z[c]
	}
	for c := range z {
		p[c] = float32(z[c] / sum)
	}
}

// headUpsample writes the C bilinearly upsampled probabilities of pixel
// (y, x) of image b into u.
func headUpsample(u []float64, probs []float32, b, y, x int, h HeadSpec) {
	g, cn := h.Grid, h.Classes
	y0, y1, fy := HeadInterp(y, g, h.Size)
	x0, x1, fx := HeadInterp(x, g, h.Size)
	r00, r01 := ((b*g+y0)*g+x0)*cn, ((b*g+y0)*g+x1)*cn
	r10, r11 := ((b*g+y1)*g+x0)*cn, ((b*g+y1)*g+x1)*cn
	for c := range u {
		top := (1-fx)*float64(probs[r00+c]) + fx*float64(probs[r01+c])
		bot := (1-fx)*float64(probs[r10+c]) + fx*float64(probs[r11+c])
		u[c] = (1-fy)*top + fy*bot
	}
}

// HeadBackward is the fused head's backward in plain Go.
func (c *CPU) HeadBackward(state HeadState, dTotal float32, dFeats []Tensor, dText, dGlobal Tensor) error {
	st, ok := state.(*cpuHead)
	if !ok || st == nil {
		return fmt.Errorf("head backward: state %T is not the CPU's", state)
	}
	if st.used {
		return fmt.Errorf("head backward: state already used")
	}
	st.used = true
	h := st.spec
	if len(dFeats) != h.Layers {
		return fmt.Errorf("head backward: %d feature gradients, want %d", len(dFeats), h.Layers)
	}
	e, cn, s, g := h.Embed, h.Classes, h.Size, h.Grid
	g2 := g * g
	invT := float64(1 / h.Temperature)
	lo, hi := HeadOneHot(cn)
	cF, coef := HeadCoefficients(h, st.sums, float64(dTotal))
	dTHat := make([]float64, cn*e)
	perImage := make([][]float64, h.Batch) // summed in order: deterministic
	for l := 0; l < h.Layers; l++ {
		probs, hpt, fHat, norm := st.probs[l], st.hpt[l], st.fHat[l], st.norm[l]
		dx := host(dFeats[l])
		parallel(h.Batch, func(b int) {
			// dU per pixel, scattered to the (up to) 4 patches it reads.
			dp := make([]float64, g2*cn)
			du := make([]float64, cn)
			an, bn, aa, ba := coef[l][4*b], coef[l][4*b+1], coef[l][4*b+2], coef[l][4*b+3]
			for y := 0; y < s; y++ {
				y0, y1, fy := HeadInterp(y, g, s)
				for x := 0; x < s; x++ {
					x0, x1, fx := HeadInterp(x, g, s)
					p := (b*s+y)*s + x
					headPixelGrad(du, int(st.cls[p]), float64(st.bin[p]), hpt[p], cF, lo, hi, an, bn, aa, ba)
					for _, t := range [4]struct {
						r int
						w float64
					}{{y0*g + x0, (1 - fy) * (1 - fx)}, {y0*g + x1, (1 - fy) * fx}, {y1*g + x0, fy * (1 - fx)}, {y1*g + x1, fy * fx}} {
						row := dp[t.r*cn : (t.r+1)*cn]
						for k, v := range du {
							row[k] += t.w * v
						}
					}
				}
			}
			// Softmax, similarity and normalisation backward per row.
			dt := make([]float64, cn*e)
			dsim := make([]float64, cn)
			for i := 0; i < g2; i++ {
				r := b*g2 + i
				headRowGrad(dsim, dp[i*cn:(i+1)*cn], probs[r*cn:(r+1)*cn], invT)
				headFeatGrad(dx[r*e:(r+1)*e], dsim, fHat[r*e:(r+1)*e], norm[r], st.text.THat)
				fr := fHat[r*e : (r+1)*e]
				for k, d := range dsim {
					row := dt[k*e : (k+1)*e]
					for j, v := range fr {
						row[j] += d * float64(v)
					}
				}
			}
			perImage[b] = dt
		})
		for _, dt := range perImage {
			for i, v := range dt {
				dTHat[i] += v
			}
		}
	}
	dt, dg := st.text.Backward(float64(dTotal), dTHat)
	for i, v := range dt {
		host(dText)[i] += v
	}
	for i, v := range dg {
		host(dGlobal)[i] += v
	}
	return nil
}

// headPixelGrad writes dL/dU_c of one pixel into du.
func headPixelGrad(du []float64, cls int, gb, hpt, cF, lo, hi, an, bn, aa, ba float64) {
	f := cF * hpt
	dn, da := an*(1-gb)+bn, aa*gb+ba
	for c := range du {
		oh := lo
		if c == cls {
			oh = hi
		}
		du[c] = f * oh
		if c == 0 {
			du[c] += dn
		} else {
			du[c] += da
		}
	}
}

// headRowGrad is the softmax backward of one row, times 1/τ: the gradient
// w.r.t. the similarity x̂·t̂_c.
func headRowGrad(dsim, dp []float64, p []float32, invT float64) {
	s := 0.0
	for c, v := range dp {
		s += float64(p[c]) * v
	}
	for c, v := range dp {
		dsim[c] = float64(p[c]) * (v - s) * invT
	}
}

// headFeatGrad adds the gradient w.r.t. the raw feature row to dx, given
// the similarity gradient dsim [C].
func headFeatGrad(dx []float32, dsim []float64, fHat []float32, norm float64, tHat []float32) {
	e := len(fHat)
	dot := 0.0
	for j, v := range fHat {
		d := 0.0
		for c, s := range dsim {
			d += s * float64(tHat[c*e+j])
		}
		dot += float64(v) * d
	}
	for j, v := range fHat {
		d := 0.0
		for c, s := range dsim {
			d += s * float64(tHat[c*e+j])
		}
		dx[j] += float32((d - float64(v)*dot) / norm)
	}
}
