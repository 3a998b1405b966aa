package report

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func unit(v []float64) []float64 {
	n := math.Sqrt(dot(v, v))
	out := make([]float64, len(v))
	for i := range v {
		out[i] = v[i] / n
	}
	return out
}

// axisOf recovers the unit direction a projection uses for component k:
// project(mean + e_j) - project(mean) for each basis vector e_j.
func axisOf(project func([]float64) [2]float64, mean []float64, k int) []float64 {
	base := project(mean)
	a := make([]float64, len(mean))
	for j := range mean {
		p := append([]float64(nil), mean...)
		p[j]++
		a[j] = project(p)[k] - base[k]
	}
	return a
}

// lineAndPlane builds points on a line (plane) in d dimensions through an
// offset, along unit directions u (and w ⟂ u), with more spread along u.
func lineAndPlane(n, d int, plane bool) (pts [][]float64, mean, u, w []float64) {
	r := splitMix64{11}
	rnd := func() float64 { return float64(r.next()>>11)/(1<<53) - 0.5 }
	off, u, w := make([]float64, d), make([]float64, d), make([]float64, d)
	for j := range d {
		off[j], u[j], w[j] = 3+rnd(), rnd(), rnd()
	}
	u = unit(u)
	axpy(-dot(u, w), u, w)
	w = unit(w)
	mean = make([]float64, d)
	for range n {
		p := append([]float64(nil), off...)
		axpy(4*rnd(), u, p)
		if plane {
			axpy(rnd(), w, p)
		}
		pts = append(pts, p)
		axpy(1/float64(n), p, mean)
	}
	return pts, mean, u, w
}

func TestPCA2Line(t *testing.T) {
	// d = 5 takes the exact path, d = 300 with n = 400 the subspace one,
	// d = 300 with n = 50 the exact Gram (n < d) path.
	for _, c := range []struct{ n, d int }{{40, 5}, {400, 300}, {50, 300}} {
		pts, mean, u, _ := lineAndPlane(c.n, c.d, false)
		project, explained, err := PCA2(pts)
		if err != nil {
			t.Fatal(err)
		}
		a := axisOf(project, mean, 0)
		if cos := math.Abs(dot(a, u)); math.Abs(cos-1) > 1e-9 {
			t.Errorf("n=%d d=%d: |cos(PC1, line)| = %v", c.n, c.d, cos)
		}
		if math.Abs(explained[0]-1) > 1e-9 || explained[1] > 1e-9 {
			t.Errorf("n=%d d=%d: explained %v, want [1 0]", c.n, c.d, explained)
		}
		// Each point projects to its signed distance along the line.
		for _, p := range pts[:5] {
			diff := make([]float64, c.d)
			copy(diff, p)
			axpy(-1, mean, diff)
			got := project(p)
			if math.Abs(math.Abs(got[0])-math.Abs(dot(diff, u))) > 1e-9 || math.Abs(got[1]) > 1e-9 {
				t.Errorf("n=%d d=%d: projection %v, want (±%v, 0)", c.n, c.d, got, dot(diff, u))
			}
		}
	}
}

func TestPCA2Plane(t *testing.T) {
	for _, c := range []struct{ n, d int }{{60, 4}, {500, 200}} {
		pts, mean, u, w := lineAndPlane(c.n, c.d, true)
		project, explained, err := PCA2(pts)
		if err != nil {
			t.Fatal(err)
		}
		a0, a1 := axisOf(project, mean, 0), axisOf(project, mean, 1)
		// The plane is spread 4× more along u, so PC1 ≈ u, PC2 ≈ w up to
		// the sample's own slight correlation; both must lie in the plane.
		for k, a := range [][]float64{a0, a1} {
			inPlane := dot(a, u)*dot(a, u) + dot(a, w)*dot(a, w)
			if math.Abs(inPlane-1) > 1e-9 {
				t.Errorf("n=%d d=%d: PC%d leaves the plane (%v)", c.n, c.d, k+1, inPlane)
			}
		}
		if cos := math.Abs(dot(a0, u)); cos < 0.99 {
			t.Errorf("n=%d d=%d: |cos(PC1, u)| = %v", c.n, c.d, cos)
		}
		if math.Abs(dot(a0, a1)) > 1e-9 {
			t.Errorf("n=%d d=%d: components not orthogonal", c.n, c.d)
		}
		if s := explained[0] + explained[1]; math.Abs(s-1) > 1e-9 || explained[0] < explained[1] {
			t.Errorf("n=%d d=%d: explained %v", c.n, c.d, explained)
		}
	}
}

// The sign convention makes the largest coordinate of each axis positive.
func TestPCA2Sign(t *testing.T) {
	pts := [][]float64{{0, 0}, {-1, -3}, {1, 3}, {2, 6.1}}
	project, _, err := PCA2(pts)
	if err != nil {
		t.Fatal(err)
	}
	a := axisOf(project, []float64{0.5, 1.525}, 0)
	if a[1] <= 0 {
		t.Errorf("PC1 = %v, want its largest coordinate positive", a)
	}
}

// The subspace iteration must agree with the full eigendecomposition on
// data with a clear but not huge spectral gap.
func TestSubspaceMatchesExact(t *testing.T) {
	const n, d = 600, 150
	r := splitMix64{5}
	rnd := func() float64 { return float64(r.next()>>11)/(1<<53) - 0.5 }
	x := mat.NewDense(n, d, nil)
	for i := range n {
		for j := range d {
			x.Set(i, j, rnd()*math.Exp(-float64(j)/20))
		}
	}
	// Centre the columns, as PCA2 does.
	for j := range d {
		col := mat.Col(nil, j, x)
		var m float64
		for _, v := range col {
			m += v / n
		}
		for i := range n {
			x.Set(i, j, x.At(i, j)-m)
		}
	}
	ea, ev, err := exactAxes(x)
	if err != nil {
		t.Fatal(err)
	}
	sa, sv, err := subspaceAxes(x)
	if err != nil {
		t.Fatal(err)
	}
	for k := range 2 {
		if cos := math.Abs(dot(ea[k], sa[k])); cos < 1-1e-8 {
			t.Errorf("axis %d: |cos| = %v", k, cos)
		}
		if math.Abs(ev[k]-sv[k]) > 1e-9*ev[0] {
			t.Errorf("variance %d: exact %v, subspace %v", k, ev[k], sv[k])
		}
	}
}

func TestPCA2Degenerate(t *testing.T) {
	// One point, identical points, one dimension: valid, zero variance.
	for _, pts := range [][][]float64{
		{{1, 2, 3}},
		{{1, 2, 3}, {1, 2, 3}, {1, 2, 3}},
	} {
		project, explained, err := PCA2(pts)
		if err != nil {
			t.Fatal(err)
		}
		if explained != [2]float64{} {
			t.Errorf("%v: explained %v", pts, explained)
		}
		if got := project([]float64{5, 5, 5}); got != [2]float64{} {
			t.Errorf("%v: projection %v, want origin for zero-variance axes", pts, got)
		}
	}
	project, explained, err := PCA2([][]float64{{1}, {3}})
	if err != nil {
		t.Fatal(err)
	}
	if got := project([]float64{4}); got != [2]float64{2, 0} || explained != [2]float64{1, 0} {
		t.Errorf("1-D: projection %v explained %v", got, explained)
	}
	if got := project([]float64{1, 2}); !math.IsNaN(got[0]) || !math.IsNaN(got[1]) {
		t.Errorf("wrong length projects to %v, want NaN", got)
	}
	// Two points: one axis.
	_, explained, err = PCA2([][]float64{{0, 0, 0}, {1, 1, 0}})
	if err != nil || explained != [2]float64{1, 0} {
		t.Errorf("two points: %v, %v", explained, err)
	}

	for _, bad := range [][][]float64{nil, {{}}, {{1, 2}, {3}}, {{1, math.NaN()}}, {{math.Inf(1)}}} {
		if _, _, err := PCA2(bad); err == nil {
			t.Errorf("PCA2(%v) accepted", bad)
		}
	}
}
