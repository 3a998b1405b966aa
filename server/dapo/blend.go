package dapo

import "dapo/server/clip"

// insertAfterFirst returns x with n new rows per sequence after row 0
// (after SOT or CLS), filled from tokens [n, W] (the same for every
// sequence).
func insertAfterFirst(x clip.Seq, tokens []float32, n int) clip.Seq {
	out := clip.NewSeq(x.B, x.L+n, x.W)
	w := x.W
	for b := 0; b < x.B; b++ {
		copy(out.Row(b, 0), x.Row(b, 0))
		copy(out.Data[(b*out.L+1)*w:(b*out.L+1+n)*w], tokens[:n*w])
		copy(out.Data[(b*out.L+1+n)*w:(b+1)*out.L*w], x.Data[(b*x.L+1)*w:(b+1)*x.L*w])
	}
	return out
}

// blendRows overwrites rows 1..n of every sequence with
// alpha·(current rows) + (1−alpha)·tokens: the progressive deep prompt.
func blendRows(x clip.Seq, tokens []float32, n int, alpha float32) {
	w := x.W
	keep := 1 - alpha
	for b := 0; b < x.B; b++ {
		for j := 0; j < n; j++ {
			row := x.Row(b, 1+j)
			tok := tokens[j*w : (j+1)*w]
			for i := range row {
				row[i] = alpha*row[i] + keep*tok[i]
			}
		}
	}
}

// removeAfterFirst drops rows 1..n of every sequence.
func removeAfterFirst(x clip.Seq, n int) clip.Seq {
	out := clip.NewSeq(x.B, x.L-n, x.W)
	w := x.W
	for b := 0; b < x.B; b++ {
		copy(out.Row(b, 0), x.Row(b, 0))
		copy(out.Data[(b*out.L+1)*w:(b+1)*out.L*w], x.Data[(b*x.L+1+n)*w:(b+1)*x.L*w])
	}
	return out
}
