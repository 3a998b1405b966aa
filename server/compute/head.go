package compute

import (
	"fmt"
	"math"
)

// The fused loss head of a DAPO training step (dapo-spec §4.2–4.3 and
// server/train/head.go): per feature layer l, given the adapted patch
// features F_l [B·G², E],
//
//	P_l = softmax(F̂_l·T̂ᵀ/τ)  (patch level, over the C classes)
//	U_l = bilinear upsample of P_l to S×S, align_corners=True
//	L   = w_img·CE(ĝ·[t̂₀, â]ᵀ/τ, y) + w_loc·Σ_l [Focal(U_l) + Dice(U_l[0], 1−G_b) + Dice(Σ_{c≥1}U_l[c], G_b)]
//
// The upsampled maps [B,C,S,S] are never stored: the forward keeps the
// patch probabilities and one float64 per pixel (the focal loss's
// derivative factor); the backward gathers each patch's gradient from the
// pixels it influences. Both backends compute every pixel and every row in
// float64 and share the host-side parts below (text and global
// normalisation, the image loss, the final loss values and the backward's
// per-image coefficients), so that they agree to float64 rounding.

// HeadSpec is the shape and settings of one fused head call.
type HeadSpec struct {
	Batch, Grid, Size, Classes, Embed, Layers int
	Temperature                               float32 // τ
	Local, Image                              float32 // loss weights λ_local, λ_image
}

// Rows is the number of patch rows per layer, B·G².
func (h HeadSpec) Rows() int { return h.Batch * h.Grid * h.Grid }

// HeadTargets are one batch's targets (dapo-spec §4.1).
type HeadTargets struct {
	Label   []int     // [B] image anomaly flag (0/1)
	ClassID []int32   // [B·S·S] per-pixel class id (0 outside the mask)
	Binary  []float32 // [B·S·S] 1 inside the mask
}

// HeadLosses are the loss values as the reference logs them.
type HeadLosses struct {
	ImageCE                        float32
	Focal, DiceNormal, DiceAnomaly []float32 // per feature layer
	LocalUnweighted, Local, Total  float32
	ImageLogits                    []float32 // [B,2]

	total float64 // unrounded total (finite-difference tests)
}

// HeadState is what a head forward keeps for its backward; Free releases
// it (backend memory). A state serves one backward.
type HeadState interface{ Free() }

// HeadBackend is the fused head on a backend. HeadForward computes the
// losses of feats (per layer [B·G², E], adapted features), text [C,E]
// (raw class features) and global [B,E] (raw global features);
// HeadBackward ADDs dTotal times the gradient of the total loss to dFeats,
// dText and dGlobal.
type HeadBackend interface {
	HeadForward(h HeadSpec, feats []Tensor, text, global Tensor, tg HeadTargets) (HeadLosses, HeadState, error)
	HeadBackward(st HeadState, dTotal float32, dFeats []Tensor, dText, dGlobal Tensor) error
}

// Check validates the spec against the inputs' sizes.
func (h HeadSpec) Check(feats []Tensor, text, global Tensor, tg HeadTargets) error {
	switch {
	case h.Batch <= 0 || h.Grid <= 0 || h.Size <= 0 || h.Embed <= 0 || h.Layers <= 0:
		return fmt.Errorf("head: bad spec %+v", h)
	case h.Classes < 2 || h.Classes > HeadMaxClasses:
		return fmt.Errorf("head: %d classes, want 2..%d", h.Classes, HeadMaxClasses)
	case len(feats) != h.Layers:
		return fmt.Errorf("head: %d feature layers, want %d", len(feats), h.Layers)
	case text.Len() != h.Classes*h.Embed || global.Len() != h.Batch*h.Embed:
		return fmt.Errorf("head: text %d / global %d values, want %d / %d", text.Len(), global.Len(), h.Classes*h.Embed, h.Batch*h.Embed)
	case len(tg.Label) != h.Batch || len(tg.ClassID) != h.Batch*h.Size*h.Size || len(tg.Binary) != h.Batch*h.Size*h.Size:
		return fmt.Errorf("head: targets %d labels, %d ids, %d binary for batch %d at %d px", len(tg.Label), len(tg.ClassID), len(tg.Binary), h.Batch, h.Size)
	}
	for l, f := range feats {
		if f.Len() != h.Rows()*h.Embed {
			return fmt.Errorf("head: layer %d has %d values, want %d", l, f.Len(), h.Rows()*h.Embed)
		}
	}
	for i, y := range tg.Label {
		if y != 0 && y != 1 {
			return fmt.Errorf("head: image %d has label %d", i, y)
		}
	}
	for i, c := range tg.ClassID {
		if c < 0 || int(c) >= h.Classes {
			return fmt.Errorf("head: pixel %d has class %d of %d", i, c, h.Classes)
		}
	}
	return nil
}

// HeadMaxClasses bounds C (the GPU kernels keep one float64 per class per
// thread).
const HeadMaxClasses = 64

// HeadInterp is output coordinate o's bilinear align_corners=True source:
// indices i0 ≤ i1 and the weight f of i1 (1−f of i0), as server/train's
// interpMatrix.
func HeadInterp(o, in, out int) (i0, i1 int, f float64) {
	if in == 1 || out == 1 {
		return 0, 0, 0
	}
	src := float64(o) * float64(in-1) / float64(out-1)
	i0 = int(src)
	if i0 >= in-1 {
		return in - 1, in - 1, 0
	}
	return i0, i0 + 1, src - float64(i0)
}

// HeadOneHot is the focal target's clamp: the one-hot is clamped to
// [1e-5/(C−1), 1−1e-5] in float32 (the reference's tensor).
func HeadOneHot(classes int) (lo, hi float64) {
	return float64(float32(1e-5 / float64(classes-1))), float64(float32(1 - 1e-5))
}

// HeadSums are one image's pixel sums of one layer, in the order the GPU
// kernel writes them.
type HeadSums struct {
	Focal              float64 // Σ (1−p_t)²·log p_t
	InterN, SumN, TgtN float64 // Σ U₀·(1−G_b), Σ U₀, Σ (1−G_b)
	InterA, SumA, TgtA float64 // Σ U_a·G_b, Σ U_a, Σ G_b  (U_a = Σ_{c≥1} U_c)
}

// HeadSumsLen is the number of float64 in HeadSums.
const HeadSumsLen = 7

func (s *HeadSums) add(v []float64) {
	s.Focal += v[0]
	s.InterN += v[1]
	s.SumN += v[2]
	s.TgtN += v[3]
	s.InterA += v[4]
	s.SumA += v[5]
	s.TgtA += v[6]
}

// HeadPixel is one pixel's forward: u holds the C upsampled
// probabilities, cls and gb its targets. It returns the focal term
// (1−p_t)²·log p_t, the derivative factor h = d[(1−p_t)²·log p_t]/dp_t,
// and adds the dice sums into v (HeadSums order).
func HeadPixel(u []float64, cls int, gb, lo, hi float64, v []float64) (term, h float64) {
	pt := 0.0
	ua := 0.0
	for c, x := range u {
		oh := lo
		if c == cls {
			oh = hi
		}
		pt += oh * x
		if c > 0 {
			ua += x
		}
	}
	pt += 1e-5
	q := 1 - pt
	lp := math.Log(pt)
	term = q * q * lp
	h = -2*q*lp + q*q/pt
	v[1] += u[0] * (1 - gb)
	v[2] += u[0]
	v[3] += 1 - gb
	v[4] += ua * gb
	v[5] += ua
	v[6] += gb
	return term, h
}

// HeadText is the host-side part of the head: the normalised class and
// global features and the image loss, forward and backward. Both backends
// use it (C·E and B·E values: small).
type HeadText struct {
	spec  HeadSpec
	label []int
	THat  []float32 // [C,E] normalised class features, the similarity's
	tHat  []float64
	tNorm []float64
	gHat  []float64 // [B,E]
	gNorm []float64
	aHat  []float64 // [E] renormalised mean of t̂₁..t̂_{C−1}
	aNorm float64
	probs []float64 // [B,2]
	// Logits [B,2] and CE are the image loss's.
	Logits []float32
	CE     float64
}

func normRows(x []float32, rows, width int) (hat []float64, norm []float64) {
	hat, norm = make([]float64, len(x)), make([]float64, rows)
	for r := 0; r < rows; r++ {
		s := 0.0
		for _, v := range x[r*width : (r+1)*width] {
			s += float64(v) * float64(v)
		}
		norm[r] = math.Sqrt(s)
		for j, v := range x[r*width : (r+1)*width] {
			hat[r*width+j] = float64(v) / norm[r]
		}
	}
	return hat, norm
}

// normBackward is the gradient through x̂ = x/‖x‖: (dx̂ − x̂·(x̂·dx̂))/‖x‖.
func normBackward(dst, dhat, hat []float64, norm float64) {
	dot := 0.0
	for i := range dhat {
		dot += hat[i] * dhat[i]
	}
	for i := range dhat {
		dst[i] = (dhat[i] - hat[i]*dot) / norm
	}
}

// NewHeadText normalises text [C,E] and global [B,E] and computes the
// image logits and cross-entropy.
func NewHeadText(h HeadSpec, text, global []float32, label []int) *HeadText {
	c, e, b := h.Classes, h.Embed, h.Batch
	t := &HeadText{spec: h, label: label}
	var tHat []float64
	tHat, t.tNorm = normRows(text, c, e)
	t.THat = make([]float32, len(tHat))
	t.tHat = make([]float64, len(tHat))
	for i, v := range tHat {
		t.THat[i] = float32(v)
		t.tHat[i] = float64(t.THat[i]) // the similarity sees float32
	}
	t.gHat, t.gNorm = normRows(global, b, e)
	mean := make([]float64, e)
	for k := 1; k < c; k++ {
		for j := 0; j < e; j++ {
			mean[j] += t.tHat[k*e+j]
		}
	}
	for j := range mean {
		mean[j] /= float64(c - 1)
	}
	s := 0.0
	for _, v := range mean {
		s += v * v
	}
	t.aNorm = math.Sqrt(s)
	t.aHat = make([]float64, e)
	for j, v := range mean {
		t.aHat[j] = v / t.aNorm
	}
	invT := float64(1 / h.Temperature)
	t.Logits = make([]float32, 2*b)
	t.probs = make([]float64, 2*b)
	for i := 0; i < b; i++ {
		var z [2]float64
		for j := 0; j < e; j++ {
			g := t.gHat[i*e+j]
			z[0] += g * t.tHat[j]
			z[1] += g * t.aHat[j]
		}
		z[0], z[1] = z[0]*invT, z[1]*invT
		m := math.Max(z[0], z[1])
		lse := m + math.Log(math.Exp(z[0]-m)+math.Exp(z[1]-m))
		t.CE -= (z[label[i]] - lse) / float64(b)
		for k := 0; k < 2; k++ {
			t.Logits[2*i+k] = float32(z[k])
			t.probs[2*i+k] = math.Exp(z[k] - lse)
		}
	}
	return t
}

// Backward returns dTotal times the gradients of the total loss w.r.t. the
// raw text and global features, given dTHat [C,E], the gradient (already
// times dTotal) that reached T̂ through the similarity of all layers.
func (t *HeadText) Backward(dTotal float64, dTHat []float64) (dText, dGlobal []float32) {
	h := t.spec
	c, e, b := h.Classes, h.Embed, h.Batch
	invT := float64(1 / h.Temperature)
	w := dTotal * float64(h.Image)
	dt := append([]float64(nil), dTHat...)
	dg := make([]float64, b*e)
	da := make([]float64, e)
	for i := 0; i < b; i++ {
		var dz [2]float64
		for k := 0; k < 2; k++ {
			dz[k] = t.probs[2*i+k]
			if k == t.label[i] {
				dz[k]--
			}
			dz[k] *= w / float64(b) * invT
		}
		for j := 0; j < e; j++ {
			dg[i*e+j] = dz[0]*t.tHat[j] + dz[1]*t.aHat[j]
			dt[j] += dz[0] * t.gHat[i*e+j]
			da[j] += dz[1] * t.gHat[i*e+j]
		}
	}
	dmean := make([]float64, e)
	normBackward(dmean, da, t.aHat, t.aNorm)
	for k := 1; k < c; k++ {
		for j := 0; j < e; j++ {
			dt[k*e+j] += dmean[j] / float64(c-1)
		}
	}
	dText, dGlobal = make([]float32, c*e), make([]float32, b*e)
	row := make([]float64, e)
	for k := 0; k < c; k++ {
		normBackward(row, dt[k*e:(k+1)*e], t.tHat[k*e:(k+1)*e], t.tNorm[k])
		for j, v := range row {
			dText[k*e+j] = float32(v)
		}
	}
	for i := 0; i < b; i++ {
		normBackward(row, dg[i*e:(i+1)*e], t.gHat[i*e:(i+1)*e], t.gNorm[i])
		for j, v := range row {
			dGlobal[i*e+j] = float32(v)
		}
	}
	return dText, dGlobal
}

// HeadFinish turns the pixel sums [L][B] and the image loss into the loss
// values: focal = −mean over B·S² pixels, dice = 1 − mean_b (2I+1)/(P+T+1).
func HeadFinish(h HeadSpec, sums [][]HeadSums, t *HeadText) HeadLosses {
	var out HeadLosses
	n := float64(h.Batch) * float64(h.Size) * float64(h.Size)
	local := 0.0
	for _, ls := range sums {
		var focal, dn, da float64
		for _, s := range ls {
			focal += s.Focal
			dn += (2*s.InterN + 1) / (s.SumN + s.TgtN + 1)
			da += (2*s.InterA + 1) / (s.SumA + s.TgtA + 1)
		}
		focal = -focal / n
		dn = 1 - dn/float64(h.Batch)
		da = 1 - da/float64(h.Batch)
		out.Focal = append(out.Focal, float32(focal))
		out.DiceNormal = append(out.DiceNormal, float32(dn))
		out.DiceAnomaly = append(out.DiceAnomaly, float32(da))
		local += focal + dn + da
	}
	out.ImageCE = float32(t.CE)
	out.LocalUnweighted = float32(local)
	out.Local = float32(local * float64(h.Local))
	out.total = local*float64(h.Local) + t.CE*float64(h.Image)
	out.Total = float32(out.total)
	out.ImageLogits = append([]float32(nil), t.Logits...)
	return out
}

// HeadCoefficients are the backward's constants: the focal factor cF
// (dU_c gets cF·h·onehot_c) and, per layer and image, four numbers
// [An, Bn, Aa, Ba]: U₀ gets An·(1−G_b)+Bn, each U_{c≥1} gets Aa·G_b+Ba.
// All include dTotal·λ_local.
func HeadCoefficients(h HeadSpec, sums [][]HeadSums, dTotal float64) (cF float64, coef [][]float64) {
	w := dTotal * float64(h.Local)
	b := float64(h.Batch)
	cF = -w / (b * float64(h.Size) * float64(h.Size))
	for _, ls := range sums {
		c := make([]float64, 4*len(ls))
		for i, s := range ls {
			numN, denN := 2*s.InterN+1, s.SumN+s.TgtN+1
			numA, denA := 2*s.InterA+1, s.SumA+s.TgtA+1
			// d/dU of 1 − mean_b num/den: −(1/B)·(2t/den − num/den²).
			c[4*i] = -w / b * 2 / denN
			c[4*i+1] = w / b * numN / (denN * denN)
			c[4*i+2] = -w / b * 2 / denA
			c[4*i+3] = w / b * numA / (denA * denA)
		}
		coef = append(coef, c)
	}
	return cF, coef
}
