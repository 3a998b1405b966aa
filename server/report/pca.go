package report

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// PCA2 fits a two-component PCA to points (n × d, all rows of one length,
// finite) and returns the projection onto the top two principal axes,
// centred on the points' mean, with each axis's share of the total
// variance. The projection of a vector of another length is (NaN, NaN).
//
// Axes are eigenvectors of the smaller of the d×d covariance and the n×n
// Gram matrix (the same spectrum), which keeps 5000 CLIP patch features of
// dimension 768 at a 768×768 problem. Each axis's sign is fixed, as
// scikit-learn's svd_flip does, by making its largest-magnitude
// coordinate positive, so plots do not mirror between runs. An axis
// without variance (fewer than three distinct points) is zero and projects
// everything to 0.
func PCA2(points [][]float64) (project func([]float64) [2]float64, explained [2]float64, err error) {
	n := len(points)
	if n == 0 {
		return nil, explained, errors.New("pca: no points")
	}
	d := len(points[0])
	if d == 0 {
		return nil, explained, errors.New("pca: points have no coordinates")
	}
	mean := make([]float64, d)
	for i, p := range points {
		if len(p) != d {
			return nil, explained, fmt.Errorf("pca: point %d has %d coordinates, want %d", i, len(p), d)
		}
		for j, v := range p {
			if !finite(v) {
				return nil, explained, fmt.Errorf("pca: point %d coordinate %d is %v", i, j, v)
			}
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	x := mat.NewDense(n, d, nil)
	var total float64
	for i, p := range points {
		row := x.RawRowView(i)
		for j, v := range p {
			row[j] = v - mean[j]
			total += row[j] * row[j]
		}
	}

	axes, vars, err := topTwoAxes(x)
	if err != nil {
		return nil, explained, err
	}
	for k := range 2 {
		// Directions with only rounding-level variance are arbitrary; zero
		// them rather than plot noise.
		if total == 0 || vars[k] <= 1e-12*total {
			axes[k] = make([]float64, d)
			continue
		}
		explained[k] = vars[k] / total
		flipSign(axes[k])
	}
	project = func(v []float64) [2]float64 {
		if len(v) != d {
			return [2]float64{math.NaN(), math.NaN()}
		}
		var out [2]float64
		for k := range 2 {
			for j, a := range axes[k] {
				out[k] += (v[j] - mean[j]) * a
			}
		}
		return out
	}
	return project, explained, nil
}

// exactLimit is the largest min(n, d) solved by a full eigendecomposition;
// beyond it the O(n·d²) Gram product dominates (seconds for 5000 × 768 in
// pure Go), so subspace iteration takes over.
const exactLimit = 128

// topTwoAxes returns the two leading right singular vectors of the centred
// data x (d-vectors, the second zero when d = 1) and their squared
// singular values.
func topTwoAxes(x *mat.Dense) (axes [2][]float64, vars [2]float64, err error) {
	n, d := x.Dims()
	if min(n, d) > exactLimit {
		return subspaceAxes(x)
	}
	return exactAxes(x)
}

// exactAxes is topTwoAxes by a full eigendecomposition.
func exactAxes(x *mat.Dense) (axes [2][]float64, vars [2]float64, err error) {
	n, d := x.Dims()
	var s mat.SymDense
	if d <= n {
		s.SymOuterK(1, x.T()) // XᵀX
	} else {
		s.SymOuterK(1, x) // XXᵀ
	}
	var eig mat.EigenSym
	if !eig.Factorize(&s, true) {
		return axes, vars, errors.New("pca: eigendecomposition did not converge")
	}
	vals := eig.Values(nil) // ascending
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	m := len(vals)
	for k := range 2 {
		axes[k] = make([]float64, d)
		if k >= m {
			break
		}
		col := m - 1 - k
		vars[k] = max(vals[col], 0)
		if d <= n {
			mat.Col(axes[k], col, &vecs)
			continue
		}
		// Right singular vector from the left one: v = Xᵀu / σ.
		if vars[k] == 0 {
			continue
		}
		u := mat.NewVecDense(n, mat.Col(nil, col, &vecs))
		v := mat.NewVecDense(d, axes[k])
		v.MulVec(x.T(), u)
		v.ScaleVec(1/math.Sqrt(vars[k]), v)
	}
	return axes, vars, nil
}

// Subspace iteration settings: a block wider than the two wanted vectors
// converges at the rate λ₁₇/λ₂ rather than λ₃/λ₂; the tolerance is on the
// eigen-residual relative to λ₁, far below what a plot can show, and the
// iteration cap bounds the cost on flat spectra where the axes are
// ill-defined anyway.
const (
	subspaceBlock   = 16
	subspaceTol     = 1e-7
	subspaceMaxIter = 60
	subspaceSeed    = 0x5eed_dca0
)

// subspaceAxes finds the top two eigenpairs of XᵀX by block power
// iteration with Rayleigh–Ritz, touching X only through products with a
// d × 16 block. The start block is pseudo-random with a fixed seed, so the
// result is deterministic.
func subspaceAxes(x *mat.Dense) (axes [2][]float64, vars [2]float64, err error) {
	n, d := x.Dims()
	b := min(subspaceBlock, d)
	q := mat.NewDense(d, b, nil)
	r := splitMix64{state: subspaceSeed}
	for i := range d {
		for j := range b {
			q.Set(i, j, float64(r.next()>>11)/(1<<53)-0.5)
		}
	}
	orthonormalize(q)
	y := mat.NewDense(n, b, nil)
	z := mat.NewDense(d, b, nil)
	var h mat.Dense
	var eig mat.EigenSym
	var w, ritz, cv mat.Dense
	for iter := 0; ; iter++ {
		y.Mul(x, q)
		z.Mul(x.T(), y) // z = XᵀX q
		h.Mul(q.T(), z)
		hs := mat.NewSymDense(b, nil)
		for i := range b {
			for j := i; j < b; j++ {
				hs.SetSym(i, j, (h.At(i, j)+h.At(j, i))/2)
			}
		}
		if !eig.Factorize(hs, true) {
			return axes, vars, errors.New("pca: eigendecomposition did not converge")
		}
		vals := eig.Values(nil)
		eig.VectorsTo(&w)
		top := w.Slice(0, b, b-2, b) // columns for λ₂, λ₁
		ritz.Reset()
		ritz.Mul(q, top)
		cv.Reset()
		cv.Mul(z, top) // XᵀX applied to the Ritz vectors
		lam1 := max(vals[b-1], 0)
		converged := true
		for k := range 2 {
			col := 1 - k // top is ordered λ₂, λ₁
			lam := max(vals[b-1-k], 0)
			var res float64
			for i := range d {
				e := cv.At(i, col) - lam*ritz.At(i, col)
				res += e * e
			}
			if math.Sqrt(res) > subspaceTol*lam1 {
				converged = false
			}
		}
		if converged || iter+1 >= subspaceMaxIter || lam1 == 0 {
			for k := range 2 {
				axes[k] = mat.Col(nil, 1-k, &ritz)
				vars[k] = max(vals[b-1-k], 0)
			}
			return axes, vars, nil
		}
		q.Copy(z)
		orthonormalize(q)
	}
}

// orthonormalize replaces the columns of a by an orthonormal basis of
// their span: modified Gram–Schmidt run twice ("twice is enough" for
// orthogonality to working precision). A column that vanishes (rank
// deficiency) is replaced by a coordinate vector orthogonal to the others.
func orthonormalize(a *mat.Dense) {
	rows, cols := a.Dims()
	col := make([][]float64, cols)
	for j := range cols {
		col[j] = mat.Col(nil, j, a)
	}
	for j := range cols {
		norm0 := math.Sqrt(dot(col[j], col[j]))
		for range 2 {
			for k := range j {
				axpy(-dot(col[k], col[j]), col[k], col[j])
			}
		}
		norm := math.Sqrt(dot(col[j], col[j]))
		if norm <= 1e-10*norm0 || norm == 0 {
			// Take the first coordinate axis mostly outside the span so far.
			for e := range rows {
				clear(col[j])
				col[j][e] = 1
				for range 2 {
					for k := range j {
						axpy(-dot(col[k], col[j]), col[k], col[j])
					}
				}
				if norm = math.Sqrt(dot(col[j], col[j])); norm > 0.5 {
					break
				}
			}
		}
		for i := range col[j] {
			col[j][i] /= norm
		}
		a.SetCol(j, col[j])
	}
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func axpy(alpha float64, x, y []float64) {
	for i, v := range x {
		y[i] += alpha * v
	}
}

// flipSign makes the largest-magnitude coordinate positive (the first one
// on ties).
func flipSign(a []float64) {
	best := 0
	for j, v := range a {
		if math.Abs(v) > math.Abs(a[best]) {
			best = j
		}
	}
	if a[best] < 0 {
		for j := range a {
			a[j] = -a[j]
		}
	}
}
