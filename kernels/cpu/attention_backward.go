package cpu

import (
	"math"
)

// AttentionBackward adds to dqkv[batch,seq,3·width] the gradient of
// Attention with respect to its packed q, k, v input, given the forward's
// qkv and dout[batch,seq,width], the gradient of its output.
//
// The attention probabilities are not taken from the forward: each
// (sequence, head) recomputes its seq×seq probabilities from q and k, the
// way the forward made them, so no batch·heads·seq² tensor ever exists
// (ViT-L/14 at 518 px, batch 8: 8·16·1374² floats = 967 MB per block).
// Work is split over (sequence, head) pairs as in the forward; each worker
// holds two seq×seq buffers. Pairs write disjoint column blocks of dqkv.
//
// Per head, with P = softmax(scale·q·kᵀ [masked]) and O = P·v:
//
//	dv += Pᵀ·dO
//	dP  = dO·vᵀ
//	dS  = P⊙(dP − rowsum(dP⊙P))
//	dq += scale·dS·k,  dk += scale·dSᵀ·q
func AttentionBackward(dqkv, dout, qkv []float32, batch, seq, width, heads int, causal bool) {
	hd := width / heads
	scale := float32(1 / math.Sqrt(float64(hd)))
	eachHead(batch, heads, seq, 2, func(b, h int, bufs [][]float32) {
		off3 := b * seq * 3 * width
		attendHeadBackward(dqkv[off3:], dout[b*seq*width:], qkv[off3:], bufs[0], bufs[1], seq, width, hd, h, scale, causal)
	})
}

// attendHeadBackward is the backward of attendHead for one (sequence,
// head), reading and writing q, k, v and their gradients through strides.
func attendHeadBackward(dqkv, dout, qkv, probs, dprobs []float32, seq, width, hd, h int, scale float32, causal bool) {
	ld := 3 * width
	q, k, v := qkv[h*hd:], qkv[width+h*hd:], qkv[2*width+h*hd:]
	dq, dk, dv := dqkv[h*hd:], dqkv[width+h*hd:], dqkv[2*width+h*hd:]
	do := dout[h*hd:]

	// Recompute P exactly as the forward does.
	headProbs(probs, q, k, ld, seq, hd, scale, causal)

	sgemmSerial(true, false, seq, hd, seq, 1, probs, seq, do, width, 1, dv, ld)
	sgemmSerial(false, true, seq, seq, hd, 1, do, width, v, ld, 0, dprobs, seq)
	// Softmax backward in place: dprobs becomes the score gradient dS.
	// The scale of the scores is folded into the two products below.
	for i := 0; i < seq; i++ {
		p := probs[i*seq : (i+1)*seq]
		d := dprobs[i*seq : (i+1)*seq]
		var dot float64
		for j, pj := range p {
			dot += float64(d[j]) * float64(pj)
		}
		dd := float32(dot)
		for j, pj := range p {
			d[j] = pj * (d[j] - dd)
		}
	}
	sgemmSerial(false, false, seq, hd, seq, scale, dprobs, seq, k, ld, 1, dq, ld)
	sgemmSerial(true, false, seq, hd, seq, scale, dprobs, seq, q, ld, 1, dk, ld)
}
