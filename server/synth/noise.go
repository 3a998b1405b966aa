package synth

import "math"

// Procedural noise. Everything here is a pure function of its arguments
// (no tables filled at run time, no shared generator), so any goroutine can
// evaluate any pixel in any order and still get the same bits.

// hash2 mixes two lattice coordinates and a seed into 32 well-spread bits
// (murmur3's finaliser); value and gradient noise need only this.
func hash2(x, y int32, seed uint32) uint32 {
	h := uint32(x)*0x27d4eb2d + uint32(y)*0x165667b1 + seed*0x9e3779b9
	h ^= h >> 15
	h *= 0x85ebca77
	h ^= h >> 13
	h *= 0xc2b2ae3d
	h ^= h >> 16
	return h
}

// unit maps a hash to [0, 1).
func unit(h uint32) float64 { return float64(h>>8) / (1 << 24) }

// gradients are Perlin's eight lattice directions; a fixed array, read only.
var gradients = [8][2]float64{
	{1, 0}, {-1, 0}, {0, 1}, {0, -1},
	{math.Sqrt2 / 2, math.Sqrt2 / 2}, {-math.Sqrt2 / 2, math.Sqrt2 / 2},
	{math.Sqrt2 / 2, -math.Sqrt2 / 2}, {-math.Sqrt2 / 2, -math.Sqrt2 / 2},
}

// noise is 2-D gradient (Perlin) noise identified by its seed.
type noise uint32

// at returns gradient noise at (x, y), roughly in [-1, 1], zero on the
// integer lattice and smooth (C2, quintic fade) everywhere.
func (n noise) at(x, y float64) float64 {
	ix, iy := floor32(x), floor32(y)
	dx, dy := x-float64(ix), y-float64(iy)
	s := uint32(n)
	g := func(h uint32, ox, oy float64) float64 {
		v := gradients[h&7]
		return v[0]*ox + v[1]*oy
	}
	n00 := g(hash2(ix, iy, s), dx, dy)
	n10 := g(hash2(ix+1, iy, s), dx-1, dy)
	n01 := g(hash2(ix, iy+1, s), dx, dy-1)
	n11 := g(hash2(ix+1, iy+1, s), dx-1, dy-1)
	u, v := fade(dx), fade(dy)
	// Unit gradients bound 2-D Perlin noise by √2/2; rescale to about ±1.
	return math.Sqrt2 * lerp(lerp(n00, n10, u), lerp(n01, n11, u), v)
}

// fbm sums octaves of noise, each at 2.03× the frequency and half the
// amplitude of the last, normalised to about [-1, 1]. The odd lacunarity and
// a new seed per octave keep the octaves' lattices from lining up.
func (n noise) fbm(x, y float64, octaves int) float64 {
	var sum, norm float64
	amp := 1.0
	for o := range octaves {
		sum += amp * noise(uint32(n)+uint32(o)*0x6a09e667).at(x, y)
		norm += amp
		amp *= 0.5
		x, y = x*2.03+17.1, y*2.03-9.7
	}
	return sum / norm
}

// floor32 is math.Floor for the noise lattice, without the call math.Floor
// costs on baseline amd64; coordinates stay far inside int32.
func floor32(x float64) int32 {
	i := int32(x)
	if float64(i) > x {
		i--
	}
	return i
}

func fade(t float64) float64 { return t * t * t * (t*(t*6-15) + 10) }

func lerp(a, b, t float64) float64 { return a + (b-a)*t }

func clamp01(x float64) float64 { return min(max(x, 0), 1) }

// smoothstep is 0 below e0, 1 above e1 and a cubic ramp between.
func smoothstep(e0, e1, x float64) float64 {
	t := clamp01((x - e0) / (e1 - e0))
	return t * t * (3 - 2*t)
}

// frac is x's fractional part in [0, 1).
func frac(x float64) float64 { return x - math.Floor(x) }

// cell is Worley (cellular) noise: one jittered feature point per unit
// cell. It returns a hash identifying the nearest point and the distances
// to the nearest two, which make crystal mosaics and their boundaries.
func (n noise) cell(x, y float64) (id uint32, f1, f2 float64) {
	ix, iy := floor32(x), floor32(y)
	fx, fy := float64(ix), float64(iy)
	f1, f2 = math.Inf(1), math.Inf(1)
	for dj := int32(-1); dj <= 1; dj++ {
		for di := int32(-1); di <= 1; di++ {
			h := hash2(ix+di, iy+dj, uint32(n))
			// 16 bits per coordinate place the point finely enough.
			px := fx + float64(di) + float64(h&0xffff)/(1<<16)
			py := fy + float64(dj) + float64(h>>16)/(1<<16)
			d := (px-x)*(px-x) + (py-y)*(py-y)
			switch {
			case d < f1:
				f2, f1, id = f1, d, h
			case d < f2:
				f2 = d
			}
		}
	}
	return id, math.Sqrt(f1), math.Sqrt(f2)
}
