package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Surface defects, shared by both families. Each returns its coverage plane
// (how strongly the defect covers each pixel, 0 outside it) and its colour
// at full coverage; scene.composite blends them and derives the mask.

func drawDefect(key string, sc *scene, r *rand.Rand) ([]float32, fullFunc, error) {
	var draw func(*scene, *rand.Rand) ([]float32, fullFunc)
	switch key {
	case Scratch:
		draw = drawScratch
	case Hole:
		draw = drawHole
	case Contamination:
		draw = drawContamination
	case Discoloration:
		draw = drawDiscoloration
	case Crack:
		draw = drawCrack
	case Missing:
		draw = drawMissing
	case Bent:
		draw = drawBent
	default:
		return nil, nil, fmt.Errorf("synth: no drawing for defect %q", key)
	}
	cov, full := draw(sc, r)
	return cov, full, nil
}

func drawScratch(sc *scene, r *rand.Rand) ([]float32, fullFunc) {
	s := sc.s
	cx, cy := sc.site(r, onSurface)
	length := (40 + 120*r.Float64()) * s
	a := r.Float64() * 2 * math.Pi
	dx, dy := math.Cos(a)*length/2, math.Sin(a)*length/2
	// A quadratic Bézier bent by moving the control point off the chord
	// and the ends the other way, so that its middle stays on the anchor.
	bend := (r.Float64() - 0.5) * 0.6
	ox, oy := -dy*bend, dx*bend
	qx, qy := cx-ox, cy-oy
	ax, ay, bx, by := cx-dx+ox, cy-dy+oy, cx+dx+ox, cy+dy+oy
	hw := max((0.35+0.45*r.Float64())*s, 0.45)
	cov := sc.plane()
	const segments = 24
	px, py := ax, ay
	for i := 1; i <= segments; i++ {
		t := float64(i) / segments
		x := (1-t)*(1-t)*ax + 2*(1-t)*t*qx + t*t*bx
		y := (1-t)*(1-t)*ay + 2*(1-t)*t*qy + t*t*by
		// Thinner at the ends, where the tool entered and left.
		w := hw * (0.45 + 0.55*math.Sin(math.Pi*(t-0.5/segments)))
		capsule(cov, sc.size, px, py, x, y, w)
		px, py = x, y
	}
	restrict(cov, sc.body)
	sign := 1.0
	if r.Float64() < 0.5 {
		sign = -1
	}
	delta := sign * (0.20 + 0.18*r.Float64())
	wear := noise(r.Uint32())
	return cov, func(_ int, x, y float64, c rgb) rgb {
		return c.add(delta * (0.75 + 0.25*wear.at(x*0.05/s, y*0.05/s)))
	}
}

func drawHole(sc *scene, r *rand.Rand) ([]float32, fullFunc) {
	s := sc.s
	cx, cy := sc.site(r, onSurface)
	rad := (3 + 9*r.Float64()) * s
	rim := (1.5 + 1.5*r.Float64()) * s
	cov := sc.plane()
	out := rad + rim
	fillSDF(cov, sc.size, cx-out, cy-out, cx+out, cy+out, func(x, y float64) float64 {
		return math.Hypot(x-cx, y-cy) - out
	})
	restrict(cov, sc.body)
	lx, ly := sc.lx, sc.ly
	return cov, func(_ int, x, y float64, c rgb) rgb {
		d := math.Hypot(x-cx, y-cy)
		nx, ny := (x-cx)/max(d, 1e-9), (y-cy)/max(d, 1e-9)
		facing := nx*lx + ny*ly
		// Inside, the wall opposite the light catches some of it; the
		// bottom stays dark.
		wall := max(0, -facing) * smoothstep(0.3*rad, rad, d)
		inner := c.scale(0.10 + 0.30*wall)
		// The raised burr around it: lit on the side towards the light.
		t := clamp01((d - rad) / rim)
		burr := c.scale(0.92 + 0.45*facing*math.Sin(math.Pi*t))
		return mix(burr, inner, clamp01(0.5+rad-d))
	}
}

// blob is an irregular closed shape: a circle whose radius wanders with
// angle.
type blob struct {
	cx, cy, rad, wobble float64
	shape               noise
}

func newBlob(r *rand.Rand, cx, cy, rad, wobble float64) blob {
	return blob{cx: cx, cy: cy, rad: rad, wobble: wobble, shape: noise(r.Uint32())}
}

// radius at angle phi; sampling noise on a circle keeps it periodic.
func (b blob) radius(phi float64) float64 {
	return b.rad * (1 + b.wobble*b.shape.fbm(0.8*math.Cos(phi)+5, 0.8*math.Sin(phi)+5, 4))
}

// dist is an approximate signed distance (pixels) to the outline.
func (b blob) dist(x, y float64) float64 {
	return math.Hypot(x-b.cx, y-b.cy) - b.radius(math.Atan2(y-b.cy, x-b.cx))
}

func (b blob) fill(p []float32, size int) {
	e := b.rad * (1 + 2*b.wobble)
	fillSDF(p, size, b.cx-e, b.cy-e, b.cx+e, b.cy+e, b.dist)
}

func drawContamination(sc *scene, r *rand.Rand) ([]float32, fullFunc) {
	s := sc.s
	cx, cy := sc.site(r, onSurface)
	rad := (6 + 20*r.Float64()) * s
	cov := sc.plane()
	newBlob(r, cx, cy, rad, 0.35).fill(cov, sc.size)
	// Spatter around the main blob.
	for range r.IntN(7) {
		a, d := r.Float64()*2*math.Pi, rad*(1.2+1.2*r.Float64())
		newBlob(r, cx+d*math.Cos(a), cy+d*math.Sin(a), (0.8+1.8*r.Float64())*s, 0.3).fill(cov, sc.size)
	}
	restrict(cov, sc.body)
	tex := noise(r.Uint32())
	grain := func(x, y float64, f float64) float64 { return tex.fbm(x*f/s, y*f/s, 3) }
	var full fullFunc
	switch r.IntN(4) {
	case 0: // dirt
		dirt := rgb{0.30, 0.22, 0.14}
		full = func(_ int, x, y float64, _ rgb) rgb { return dirt.scale(1 + 0.35*grain(x, y, 0.3)) }
	case 1: // oil: darkens and keeps the texture beneath
		for i := range cov {
			cov[i] *= 0.85
		}
		full = func(_ int, x, y float64, c rgb) rgb {
			return c.mul(rgb{0.42, 0.40, 0.36}).scale(1 + 0.15*grain(x, y, 0.05))
		}
	case 2: // rust
		rust := rgb{0.55, 0.27, 0.11}
		full = func(_ int, x, y float64, _ rgb) rgb { return rust.scale(1 + 0.30*grain(x, y, 0.25)) }
	default: // powder
		powder := rgb{0.90, 0.89, 0.84}
		full = func(_ int, x, y float64, _ rgb) rgb { return powder.scale(1 + 0.08*grain(x, y, 0.4)) }
	}
	return cov, full
}

func drawDiscoloration(sc *scene, r *rand.Rand) ([]float32, fullFunc) {
	s := sc.s
	cx, cy := sc.site(r, onSurface)
	b := newBlob(r, cx, cy, (18+32*r.Float64())*s, 0.3)
	strength := 0.75 + 0.2*r.Float64()
	cov := sc.plane()
	e := b.rad * 1.7
	n := sc.size
	for j := max(int(cy-e), 0); j < min(int(cy+e)+1, n); j++ {
		for i := max(int(cx-e), 0); i < min(int(cx+e)+1, n); i++ {
			x, y := float64(i)+0.5, float64(j)+0.5
			d := math.Hypot(x-cx, y-cy) / b.radius(math.Atan2(y-cy, x-cx))
			// Soft edge: full inside half the radius, fading to nothing at it.
			cov[j*n+i] = float32(strength * (1 - smoothstep(0.45, 1, d)))
		}
	}
	restrict(cov, sc.body)
	var tint func(c rgb) rgb
	switch r.IntN(4) {
	case 0: // heat tint: straw to brown
		tint = func(c rgb) rgb { return c.mul(rgb{1.12, 0.92, 0.62}) }
	case 1: // bluish temper colour
		tint = func(c rgb) rgb { return c.mul(rgb{0.78, 0.84, 1.10}) }
	case 2: // water stain: darker
		tint = func(c rgb) rgb { return c.scale(0.62) }
	default: // bleached: paler and greyer
		tint = func(c rgb) rgb {
			l := (c[0] + c[1] + c[2]) / 3
			return mix(c, rgb{l, l, l}, 0.85).scale(1.35)
		}
	}
	return cov, func(_ int, _, _ float64, c rgb) rgb { return tint(c) }
}
