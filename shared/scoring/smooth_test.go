package scoring

import (
	"math"
	"math/rand"
	"testing"
)

// The analytic kernel: exp(-x²/2σ²) normalised over x in [-r, r].
func kernelRef(sigma float64, r int) []float64 {
	var sum float64
	w := make([]float64, 2*r+1)
	for i := range w {
		x := float64(i - r)
		w[i] = math.Exp(-x * x / (2 * sigma * sigma))
		sum += w[i]
	}
	for i := range w {
		w[i] /= sum
	}
	return w
}

func TestGaussianImpulse(t *testing.T) {
	// σ=1, truncate 4: radius 4. An impulse in the middle of a 15×15 map
	// spreads into the outer product of the 1-D kernel.
	n := 15
	m := make([]float32, n*n)
	m[7*n+7] = 1
	got, err := GaussianSmooth(m, n, n, Smoothing{Sigma: 1})
	if err != nil {
		t.Fatal(err)
	}
	k := kernelRef(1, 4)
	for dy := -5; dy <= 5; dy++ {
		for dx := -5; dx <= 5; dx++ {
			want := 0.0
			if abs(dy) <= 4 && abs(dx) <= 4 {
				want = k[dy+4] * k[dx+4]
			}
			if d := math.Abs(float64(got[(7+dy)*n+7+dx]) - want); d > 1e-7 {
				t.Fatalf("(%d,%d): %g, want %g", dy, dx, got[(7+dy)*n+7+dx], want)
			}
		}
	}
	// scipy's "reflect" repeats the edge pixel: an impulse in the corner
	// gets its own weight plus that of its mirror image at -1.
	clear(m)
	m[0] = 1
	got, err = GaussianSmooth(m, n, n, Smoothing{Sigma: 1})
	if err != nil {
		t.Fatal(err)
	}
	edge := k[4] + k[3]
	if d := math.Abs(float64(got[0]) - edge*edge); d > 1e-7 {
		t.Errorf("corner %g, want (k0+k1)² = %g", got[0], edge*edge)
	}
}

func TestGaussianMatchesDirect2D(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	w, h := 13, 7 // smaller than the radius in one direction: reflection wraps
	m := make([]float32, w*h)
	for i := range m {
		m[i] = r.Float32()
	}
	sm := Smoothing{Sigma: 2.5, Truncate: 3}
	got, err := GaussianSmooth(m, w, h, sm)
	if err != nil {
		t.Fatal(err)
	}
	rad := int(3*2.5 + 0.5)
	k := kernelRef(2.5, rad)
	mirror := func(i, n int) int { // reflect by unfolding, step by step
		for i < 0 || i >= n {
			if i < 0 {
				i = -i - 1
			} else {
				i = 2*n - 1 - i
			}
		}
		return i
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var want float64
			for dy := -rad; dy <= rad; dy++ {
				for dx := -rad; dx <= rad; dx++ {
					want += k[dy+rad] * k[dx+rad] * float64(m[mirror(y+dy, h)*w+mirror(x+dx, w)])
				}
			}
			if d := math.Abs(float64(got[y*w+x]) - want); d > 2e-7 {
				t.Fatalf("(%d,%d): %g, direct %g", y, x, got[y*w+x], want)
			}
		}
	}
	// A constant map stays constant.
	for i := range m {
		m[i] = 0.75
	}
	got, _ = GaussianSmooth(m, w, h, sm)
	for i, v := range got {
		if math.Abs(float64(v)-0.75) > 1e-6 {
			t.Fatalf("constant map changed at %d: %g", i, v)
		}
	}
}

func TestGaussianErrors(t *testing.T) {
	if _, err := GaussianSmooth(make([]float32, 5), 2, 2, Smoothing{Sigma: 1}); err == nil {
		t.Error("wrong length accepted")
	}
	if _, err := GaussianSmooth(make([]float32, 4), 2, 2, Smoothing{}); err == nil {
		t.Error("sigma 0 accepted by GaussianSmooth")
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
