package report

import (
	"math/bits"
	"slices"
)

// SampleIndices picks k distinct indices of 0..n-1, sorted, as a pure
// function of (n, k, seed): the same images get heatmap overlays on every
// run and machine. k ≥ n returns all indices; k ≤ 0 or n ≤ 0 none.
//
// It uses Floyd's algorithm (O(k) memory) over a splitmix64 stream that is
// defined here rather than math/rand, whose derived methods may change
// between Go releases.
func SampleIndices(n, k int, seed uint64) []int {
	if n <= 0 || k <= 0 {
		return []int{}
	}
	if k >= n {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	r := splitMix64{state: seed}
	chosen := make(map[int]struct{}, k)
	out := make([]int, 0, k)
	for j := n - k; j < n; j++ {
		t := int(r.below(uint64(j) + 1))
		if _, dup := chosen[t]; dup {
			t = j
		}
		chosen[t] = struct{}{}
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// splitMix64 is Steele, Lea and Flood's generator (also Java's
// SplittableRandom): tiny, fast and statistically fine for sampling.
type splitMix64 struct{ state uint64 }

func (s *splitMix64) next() uint64 {
	s.state += 0x9e3779b97f4a7c15
	z := s.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// below returns a uniform value in [0, n), n > 0, by Lemire's unbiased
// multiply-and-reject method.
func (s *splitMix64) below(n uint64) uint64 {
	hi, lo := bits.Mul64(s.next(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(s.next(), n)
		}
	}
	return hi
}
