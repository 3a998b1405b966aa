package scoring

import (
	"math"
	"math/big"
	"math/rand"
	"testing"
)

// bilinearRef is the textbook align_corners=True bilinear interpolation in
// float64 with exact source coordinates, independent of the kernel's
// rounding choices.
func bilinearRef(src []float32, inH, inW, c, outH, outW, oy, ox, k int) float64 {
	coord := func(o, in, out int) (int, int, float64) {
		if out == 1 {
			return 0, 0, 0
		}
		r := float64(o) * float64(in-1) / float64(out-1)
		i := int(math.Floor(r))
		if i >= in-1 {
			return in - 1, in - 1, 0
		}
		return i, i + 1, r - float64(i)
	}
	y0, y1, fy := coord(oy, inH, outH)
	x0, x1, fx := coord(ox, inW, outW)
	at := func(y, x int) float64 { return float64(src[(y*inW+x)*c+k]) }
	return (1-fy)*((1-fx)*at(y0, x0)+fx*at(y0, x1)) + fy*((1-fx)*at(y1, x0)+fx*at(y1, x1))
}

func TestUpsampleMatchesTextbookBilinear(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for _, sz := range [][5]int{{5, 5, 6, 70, 70}, {37, 37, 3, 518, 518}, {3, 4, 2, 7, 11}, {2, 2, 1, 2, 2}, {4, 4, 2, 1, 1}, {6, 6, 1, 3, 3}} {
		inH, inW, c, outH, outW := sz[0], sz[1], sz[2], sz[3], sz[4]
		src := make([]float32, inH*inW*c)
		for i := range src {
			src[i] = r.Float32()
		}
		got, err := Upsample(src, inH, inW, c, outH, outW)
		if err != nil {
			t.Fatal(err)
		}
		maxd := 0.0
		for oy := 0; oy < outH; oy++ {
			for ox := 0; ox < outW; ox++ {
				for k := 0; k < c; k++ {
					want := bilinearRef(src, inH, inW, c, outH, outW, oy, ox, k)
					maxd = math.Max(maxd, math.Abs(float64(got[(oy*outW+ox)*c+k])-want))
				}
			}
		}
		// PyTorch rounds the scale (in-1)/(out-1) to float32, which moves the
		// source coordinate by up to (in-1)·2⁻²⁴ (values here are in [0, 1]).
		if tol := 2e-7 + float64(max(inH, inW)-1)*0x1p-23; maxd > tol {
			t.Errorf("%v: max |diff| to textbook bilinear %g > %g", sz, maxd, tol)
		}
		// The first corner is always exact; the last one only when the
		// float32 scale times (out-1) lands on in-1 (it does for 5→70, the
		// dev set, not for 37→518, in PyTorch as here).
		for k := 0; k < c; k++ {
			if got[k] != src[k] {
				t.Errorf("%v: first corner not exact", sz)
			}
		}
	}
}

func TestUpsampleIdentity(t *testing.T) {
	src := []float32{1, 2, 3, 4, 5, 6, 7, 8}
	got, err := Upsample(src, 2, 2, 2, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range src {
		if got[i] != src[i] {
			t.Fatalf("same-size upsample changed %v to %v", src, got)
		}
	}
}

func TestUpsampleErrors(t *testing.T) {
	if _, err := Upsample(make([]float32, 5), 2, 2, 1, 4, 4); err == nil {
		t.Error("wrong length accepted")
	}
	if _, err := Upsample(nil, 0, 2, 1, 4, 4); err == nil {
		t.Error("zero size accepted")
	}
	if _, err := Upsample(make([]float32, 4), 2, 2, 1, maxSize+1, 4); err == nil {
		t.Error("huge output accepted")
	}
}

// TestFma32 compares with the exactly rounded a·b+c from math/big,
// including sums that land halfway between float32 values in float64.
func TestFma32(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	exact := func(a, b, c float32) float32 {
		x := new(big.Float).SetPrec(300).SetFloat64(float64(a))
		x.Mul(x, new(big.Float).SetPrec(300).SetFloat64(float64(b)))
		x.Add(x, new(big.Float).SetPrec(300).SetFloat64(float64(c)))
		f, _ := x.Float32()
		return f
	}
	check := func(a, b, c float32) {
		if got, want := fma32(a, b, c), exact(a, b, c); got != want {
			t.Fatalf("fma32(%g, %g, %g) = %g, want %g", a, b, c, got, want)
		}
	}
	for i := 0; i < 200000; i++ {
		a := float32(r.NormFloat64())
		b := float32(r.NormFloat64() * math.Pow(2, float64(r.Intn(40)-20)))
		c := float32(r.NormFloat64() * math.Pow(2, float64(r.Intn(40)-20)))
		check(a, b, c)
	}
	// c = 1, a·b = 2^-24 + 2^-60: the float64 sum rounds to the float32
	// midpoint 1 + 2^-24, which a second rounding would take to 1.
	check(float32(1+math.Pow(2, -23)), float32(math.Pow(2, -25)), 1)
	check(-float32(1+math.Pow(2, -23)), float32(math.Pow(2, -25)), -1)
	check(float32(1+math.Pow(2, -23)), -float32(math.Pow(2, -25)), 1)
}

func TestTorchSumOrder(t *testing.T) {
	// Five values: row_sum gives (((x0+x4)+x1)+x2)+x3, which the goldens
	// confirm; the values make every other order round differently.
	x := []float32{1, 1e-8, 3e-8, 5e-8, 1e-8}
	want := (((x[0] + x[4]) + x[1]) + x[2]) + x[3]
	if got := torchSum(x); got != want {
		t.Errorf("torchSum 5 = %g, want %g", got, want)
	}
	// 20 values: lanes l = x[l]+x[8+l], then tail x[16..19] in order,
	// then the lanes in order.
	r := rand.New(rand.NewSource(5))
	y := make([]float32, 20)
	for i := range y {
		y[i] = float32(r.Float64() * math.Pow(10, float64(r.Intn(6)-3)))
	}
	var s float32
	for _, v := range y[16:] {
		s += v
	}
	for l := 0; l < 8; l++ {
		s += y[l] + y[8+l]
	}
	if got := torchSum(y); got != s {
		t.Errorf("torchSum 20 = %g, want %g", got, s)
	}
	// Any length: close to the float64 sum, and the fast path equals the
	// general cascade.
	for n := 1; n < 700; n++ {
		v := make([]float32, n)
		var ref float64
		for i := range v {
			v[i] = r.Float32()
			ref += float64(v[i])
		}
		got := torchSum(v)
		if math.Abs(float64(got)-ref) > 1e-6*ref+1e-7 {
			t.Fatalf("n=%d: torchSum %g, float64 %g", n, got, ref)
		}
		if n >= vecLanes {
			nv := n / vecLanes
			if gen := sumLanes(rowSumLanes(v, vecLanes, nv), v[nv*vecLanes:]); gen != got {
				t.Fatalf("n=%d: fast path %g, cascade %g", n, got, gen)
			}
		}
	}
}

func TestTorchSumRows(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	for _, sh := range [][2]int{{5, 32}, {20, 768}, {3, 5}, {40, 13}, {1, 8}, {100, 40}} {
		rows, cols := sh[0], sh[1]
		x := make([]float32, rows*cols)
		for i := range x {
			x[i] = r.Float32()
		}
		got := make([]float32, cols)
		torchSumRows(got, x, rows, cols)
		for j := 0; j < cols; j++ {
			var ref float64
			for i := 0; i < rows; i++ {
				ref += float64(x[i*cols+j])
			}
			if math.Abs(float64(got[j])-ref) > 1e-6*ref {
				t.Fatalf("%v col %d: %g, float64 %g", sh, j, got[j], ref)
			}
		}
	}
	// Five rows of 32 columns (the dev set's text): plain order per column.
	x := make([]float32, 5*32)
	for i := range x {
		x[i] = r.Float32()
	}
	got := make([]float32, 32)
	torchSumRows(got, x, 5, 32)
	for j := 0; j < 32; j++ {
		want := x[j] + x[32+j] + x[64+j] + x[96+j] + x[128+j]
		if got[j] != want {
			t.Fatalf("col %d: %g, want in-order %g", j, got[j], want)
		}
	}
}

func TestTorchNorm(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, n := range []int{1, 3, 8, 32, 100, 768} {
		v := make([]float32, n)
		var ref float64
		for i := range v {
			v[i] = float32(r.NormFloat64())
			ref += float64(v[i]) * float64(v[i])
		}
		ref = math.Sqrt(ref)
		if got := torchNorm(v); math.Abs(float64(got)-ref) > 1e-6*ref {
			t.Errorf("n=%d: %g, want %g", n, got, ref)
		}
	}
}
