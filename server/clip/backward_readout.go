package clip

import "dapo/kernels/cpu"

// ReadoutBackward is the backward of Readout: given dFeat [N,E], the
// gradient of the loss with respect to Readout's output, it returns the
// gradient with respect to final — ln_final and the projection taken back
// into the selected row of each sequence, zeros elsewhere — ready to be
// Backward's dOut. final is only read.
func (t *Text) ReadoutBackward(final Seq, rows []int, dFeat []float32) Seq {
	return readoutBackward(final, rows, dFeat, t.W.LNFinal, t.W.Projection, t.Config.EmbedDim)
}

// GlobalBackward is the backward of Global: the gradient of the loss with
// respect to final, given dGlobal [B,E] for Global's output; only the CLS
// rows are non-zero.
func (v *Vision) GlobalBackward(final Seq, dGlobal []float32) Seq {
	return readoutBackward(final, make([]int, final.B), dGlobal, v.W.LNPost, v.W.Proj, v.Config.EmbedDim)
}

// readoutBackward takes dFeat back through y = ln(final[n, rows[n]])·proj.
func readoutBackward(final Seq, rows []int, dFeat []float32, ln LayerNorm, proj []float32, e int) Seq {
	w := final.W
	dSel := make([]float32, final.B*w)
	cpu.MatMulBackwardInput(dSel, dFeat, final.B, w, e, proj)
	dx := NewSeq(final.B, final.L, w)
	for n := 0; n < final.B; n++ {
		cpu.LayerNormBackward(dx.Row(n, rows[n]), dSel[n*w:(n+1)*w], final.Row(n, rows[n]), 1, w, ln.Weight, cpu.LayerNormEps)
	}
	return dx
}
