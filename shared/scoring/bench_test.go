package scoring

import (
	"math/rand"
	"testing"
)

// vitL is the production shape: ViT-L/14 at 518 px gives a 37×37 grid of
// 768-d features (E = 768 after the adapter), 4 feature layers, and MVTec's
// 20 defect words plus normal.
const (
	vitLGrid   = 37
	vitLSize   = 518
	vitLE      = 768
	vitLC      = 21
	vitLLayers = 4
)

func randUnit(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	u, _ := Normalize(v)
	return u
}

func randInput(seed int64, grid, size, e, c, layers int) Input {
	r := rand.New(rand.NewSource(seed))
	in := Input{Grid: grid, Size: size, Global: randUnit(r, e)}
	for k := 0; k < c; k++ {
		in.Text = append(in.Text, randUnit(r, e))
	}
	for l := 0; l < layers; l++ {
		f := make([]float32, grid*grid*e)
		for i := range f {
			f[i] = float32(r.NormFloat64())
		}
		in.Layers = append(in.Layers, f)
	}
	return in
}

func benchScore(b *testing.B, opts Options) {
	in := randInput(1, vitLGrid, vitLSize, vitLE, vitLC, vitLLayers)
	s, err := NewScorer(in.Text, in.Grid, in.Size, 0, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Score(in.Global, in.Layers); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScoreViTL518(b *testing.B) { benchScore(b, Options{}) }

func BenchmarkScoreViTL518Subset(b *testing.B) {
	benchScore(b, Options{Subset: []int{0, 3, 7, 12, 15, 20}, PixelThreshold: 1})
}

func BenchmarkScoreViTL518Workers4(b *testing.B) { benchScore(b, Options{Workers: 4}) }

func BenchmarkScoreViTL518KeepAll(b *testing.B) {
	benchScore(b, Options{KeepPerLayer: true, KeepClassProbs: true})
}

func BenchmarkUpsampleViTL518(b *testing.B) {
	r := rand.New(rand.NewSource(2))
	src := make([]float32, vitLGrid*vitLGrid*vitLC)
	for i := range src {
		src[i] = r.Float32()
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Upsample(src, vitLGrid, vitLGrid, vitLC, vitLSize, vitLSize); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSmoothSigma4(b *testing.B) {
	r := rand.New(rand.NewSource(3))
	m := make([]float32, vitLSize*vitLSize)
	for i := range m {
		m[i] = r.Float32()
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := GaussianSmooth(m, vitLSize, vitLSize, Smoothing{Sigma: 4}); err != nil {
			b.Fatal(err)
		}
	}
}
