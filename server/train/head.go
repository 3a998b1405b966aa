package train

import (
	G "gorgonia.org/gorgonia"
)

// Dims are the sizes of one training batch.
type Dims struct {
	Batch, Grid, Size, Classes, Embed, VisionWidth, Layers int
}

// Targets are one batch's training targets, built as the reference does.
type Targets struct {
	Label   []int     // [B] image anomaly flag (0/1)
	ClassID []int64   // [B·S·S] per-pixel class id (0 outside the mask)
	Binary  []float32 // [B·S·S] 1 inside the mask
	HasMask []bool    // [B] images without a mask train with the image loss only
}

// LossNodes are the scalar loss terms of the graph.
type LossNodes struct {
	ImageCE                   *G.Node
	Focal, DiceNormal, DiceAb []*G.Node // per feature layer
	LocalUnweighted, Local    *G.Node
	Total                     *G.Node
	ImageLogits               *G.Node // [B, 2]
}

// HeadWeights are the reference's loss weights.
type HeadWeights struct {
	Local, Image float32
	Temperature  float32
}

// buildHead adds the adapters, similarity, softmax, upsampling and losses:
//
//	F_l = adapter_l(tokens_l); P_l = softmax(F̂_l·T̂ᵀ/τ); U_l = upsample(P_l)
//	L = w_img·CE(ĝ·[t̂₀, â]ᵀ/τ, y) + w_loc·Σ_l [Focal(U_l) + Dice(U_l[0], 1−G_b) + Dice(Σ_{c≥1}U_l[c], G_b)]
//
// tokens are the patch tokens per feature layer [B·G², Wv] (CLS dropped),
// global the raw global feature [B, E], text the raw class features [C, E].
func buildHead(b *builder, d Dims, tokens []*G.Node, global, text *G.Node, adapterW, adapterB []*G.Node, tg Targets, w HeadWeights) LossNodes {
	var out LossNodes
	tHat := b.rowNormalize(text)
	gHat := b.rowNormalize(global)

	// Image loss: 2-way logits against [t̂₀, â], â the renormalised mean
	// of the defect features.
	t0 := b.reshape(b.slice(tHat, G.S(0)), 1, d.Embed)
	abn := b.slice(tHat, G.S(1, d.Classes))
	mean := b.reshape(b.scale(b.sum(abn, 0), 1/float32(d.Classes-1)), 1, d.Embed)
	pair := b.concat(0, t0, b.rowNormalize(mean))
	out.ImageLogits = b.scale(b.mul(gHat, b.transpose(pair)), 1/w.Temperature)
	onehot := make([]float32, 2*d.Batch)
	for i, y := range tg.Label {
		onehot[2*i+y] = 1
	}
	labels := b.constant("image_labels", []int{d.Batch, 2}, onehot)
	if b.ok(out.ImageLogits) {
		logp := b.do(G.LogSoftMax(out.ImageLogits))
		out.ImageCE = b.neg(b.mean(b.sum(b.hadamard(labels, logp), 1)))
	}

	ry, rx := interpMatrix(d.Grid, d.Size), interpMatrix(d.Grid, d.Size)
	ryT := b.constant("interp_y", []int{d.Grid, d.Size}, transpose32(ry, d.Size, d.Grid))
	rxT := b.constant("interp_x", []int{d.Grid, d.Size}, transpose32(rx, d.Size, d.Grid))
	focalTarget := b.constant("focal_target", []int{d.Batch, d.Classes, d.Size * d.Size}, clampedOneHot(tg.ClassID, d))
	gtB := b.constant("gt_binary", []int{d.Batch, d.Size * d.Size}, tg.Binary)
	notB := make([]float32, len(tg.Binary))
	for i, v := range tg.Binary {
		notB[i] = 1 - v
	}
	gtN := b.constant("gt_normal", []int{d.Batch, d.Size * d.Size}, notB)

	var local *G.Node
	for l := range tokens {
		f := b.broadcastAdd(b.mul(tokens[l], b.transpose(adapterW[l])), adapterB[l])
		logits := b.scale(b.mul(b.rowNormalize(f), b.transpose(tHat)), 1/w.Temperature)
		probs := b.softmax(logits) // [B·G², C]
		up := upsample(b, probs, ryT, rxT, d)
		flat := b.reshape(up, d.Batch, d.Classes, d.Size*d.Size)
		focal := focalLoss(b, flat, focalTarget, d)
		normal := b.reshape(b.slice(flat, nil, G.S(0)), d.Batch, d.Size*d.Size)
		abnormal := b.sum(b.slice(flat, nil, G.S(1, d.Classes)), 1)
		dn, da := diceLoss(b, normal, gtN, d), diceLoss(b, abnormal, gtB, d)
		out.Focal, out.DiceNormal, out.DiceAb = append(out.Focal, focal), append(out.DiceNormal, dn), append(out.DiceAb, da)
		term := b.add(b.add(focal, dn), da)
		if local == nil {
			local = term
		} else {
			local = b.add(local, term)
		}
	}
	out.LocalUnweighted = local
	out.Local = b.scale(local, w.Local)
	out.Total = b.add(out.Local, b.scale(out.ImageCE, w.Image))
	return out
}

// upsample maps per-patch class probabilities [B·G², C] to [B, C, S, S]
// with bilinear align_corners=True interpolation, as two matrix products
// (y, then x) with the interpolation matrices.
func upsample(b *builder, probs, ryT, rxT *G.Node, d Dims) *G.Node {
	bc := d.Batch * d.Classes
	p := b.transpose(b.reshape(probs, d.Batch, d.Grid*d.Grid, d.Classes), 0, 2, 1) // [B, C, G·G] = (b,c,i,j)
	p = b.transpose(b.reshape(p, bc, d.Grid, d.Grid), 0, 2, 1)                     // (bc, j, i)
	y := b.mul(b.reshape(p, bc*d.Grid, d.Grid), ryT)                               // (bc·j, y)
	y = b.transpose(b.reshape(y, bc, d.Grid, d.Size), 0, 2, 1)                     // (bc, y, j)
	x := b.mul(b.reshape(y, bc*d.Size, d.Grid), rxT)                               // (bc·y, x)
	return b.reshape(x, d.Batch, d.Classes, d.Size, d.Size)
}

// focalLoss is the reference's FocalLoss on probabilities (no softmax
// inside), γ = 2, α = 1: p_t = Σ_c onehot_c·p_c + 1e-5 with the one-hot
// clamped to [1e-5/(C−1), 1−1e-5]; mean of −(1−p_t)²·log p_t.
func focalLoss(b *builder, probs, target *G.Node, d Dims) *G.Node {
	pt := b.sum(b.hadamard(probs, target), 1) // [B, S·S]
	if !b.ok(pt) {
		return nil
	}
	pt = b.do(G.Add(pt, G.NewConstant(float32(1e-5))))
	if !b.ok(pt) {
		return nil
	}
	one := G.NewConstant(float32(1))
	q := b.do(G.Sub(one, pt))
	terms := b.hadamard(b.square(q), b.log(pt))
	// Mean over B·S·S pixels in two levels (rows of S, then the row sums):
	// gorgonia sums sequentially in float32, which over 10⁴–10⁶ pixels
	// drifts past the reference's (pairwise) rounding; PyTorch's mean does
	// not.
	rowSums := b.sum(b.reshape(terms, d.Batch*d.Size, d.Size), 1)
	return b.neg(b.scale(b.mean(rowSums), 1/float32(d.Size)))
}

// diceLoss is BinaryDiceLoss with smooth 1: 1 − mean_b (2Σpt+1)/(Σp+Σt+1).
func diceLoss(b *builder, p, t *G.Node, d Dims) *G.Node {
	inter := b.sum(b.hadamard(p, t), 1)
	den := b.add(b.sum(p, 1), b.sum(t, 1))
	if !b.ok(inter, den) {
		return nil
	}
	one := G.NewConstant(float32(1))
	num := b.do(G.Add(b.scale(inter, 2), one))
	den = b.do(G.Add(den, one))
	if !b.ok(num, den) {
		return nil
	}
	return b.do(G.Sub(one, b.mean(b.div(num, den))))
}

// interpMatrix is the [S, G] matrix of bilinear align_corners=True
// interpolation weights along one axis.
func interpMatrix(in, out int) []float32 {
	m := make([]float32, out*in)
	for o := 0; o < out; o++ {
		if in == 1 || out == 1 {
			m[o*in] = 1
			continue
		}
		src := float64(o) * float64(in-1) / float64(out-1)
		i0 := int(src)
		if i0 >= in-1 {
			m[o*in+in-1] = 1
			continue
		}
		f := src - float64(i0)
		m[o*in+i0] += float32(1 - f)
		m[o*in+i0+1] += float32(f)
	}
	return m
}

func transpose32(m []float32, rows, cols int) []float32 {
	t := make([]float32, len(m))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			t[c*rows+r] = m[r*cols+c]
		}
	}
	return t
}

// clampedOneHot builds the focal target [B, C, S·S] from class ids.
func clampedOneHot(ids []int64, d Dims) []float32 {
	lo, hi := float32(1e-5/float64(d.Classes-1)), float32(1-1e-5)
	n := d.Size * d.Size
	out := make([]float32, d.Batch*d.Classes*n)
	for i := range out {
		out[i] = lo
	}
	for bi := 0; bi < d.Batch; bi++ {
		for p := 0; p < n; p++ {
			c := ids[bi*n+p]
			out[(bi*d.Classes+int(c))*n+p] = hi
		}
	}
	return out
}
