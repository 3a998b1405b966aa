package evaluate

import (
	"dapo/shared/scoring"
)

// defectPatches lists the patches of a grid×grid grid whose share of
// foreground mask pixels (mask > 0.5 at the model's size) exceeds one half:
// the patches that lie mostly inside a defect.
func defectPatches(mask []float32, size, grid int) []int {
	if mask == nil || grid < 1 || size%grid != 0 {
		return nil
	}
	ps := size / grid
	var out []int
	for gy := range grid {
		for gx := range grid {
			fg := 0
			for y := gy * ps; y < (gy+1)*ps; y++ {
				for _, v := range mask[y*size+gx*ps : y*size+(gx+1)*ps] {
					if v > 0.5 {
						fg++
					}
				}
			}
			if 2*fg > ps*ps {
				out = append(out, gy*grid+gx)
			}
		}
	}
	return out
}

// patchReservoir keeps a bounded, deterministic sample of defect-region
// patch features per class (reservoir sampling, algorithm R), so the
// embedding figure costs at most perClass·classes·E floats whatever the
// dataset size, and rare classes keep their points.
type patchReservoir struct {
	perClass int
	seen     []int
	kept     [][][]float32
	rng      splitMix64
}

func newPatchReservoir(classes, total int) *patchReservoir {
	return &patchReservoir{
		perClass: max(1, total/max(classes, 1)),
		seen:     make([]int, classes),
		kept:     make([][][]float32, classes),
		rng:      splitMix64{state: 0x5eed_da90},
	}
}

// addPatches L2-normalises the chosen patches of one layer's adapted
// features ([G²·E]) as the scoring stage does and offers them to class c.
func (r *patchReservoir) addPatches(c int, layer []float32, patches []int, e int) {
	for _, p := range patches {
		r.seen[c]++
		j := len(r.kept[c])
		if j >= r.perClass {
			j = int(r.rng.below(uint64(r.seen[c])))
			if j >= r.perClass {
				continue
			}
		}
		v, err := scoring.Normalize(layer[p*e : (p+1)*e])
		if err != nil {
			continue // an all-zero feature has no direction to plot
		}
		if j == len(r.kept[c]) {
			r.kept[c] = append(r.kept[c], v)
		} else {
			r.kept[c][j] = v
		}
	}
}

// total counts the patches offered and kept over all classes.
func (r *patchReservoir) total() (seen, kept int) {
	for c := range r.seen {
		seen += r.seen[c]
		kept += len(r.kept[c])
	}
	return seen, kept
}

// splitMix64 is a tiny deterministic generator, defined here so that the
// sample does not depend on math/rand's implementation.
type splitMix64 struct{ state uint64 }

func (s *splitMix64) next() uint64 {
	s.state += 0x9e3779b97f4a7c15
	z := s.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// below returns a value in [0, n); the modulo bias is negligible for the
// counts sampled here.
func (s *splitMix64) below(n uint64) uint64 { return s.next() % n }
