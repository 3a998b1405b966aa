package synth

import (
	"math"
	"math/rand/v2"
)

// Defects only family B shows: they need parts to remove (missing), an
// outline to deform (bent) or, for crack, are held out to make B's defect
// vocabulary wider than A's.

func drawCrack(sc *scene, r *rand.Rand) ([]float32, fullFunc) {
	s := sc.s
	x, y := sc.site(r, onSurface)
	// The dark gap, and around it a pale rim of chipped material that keeps
	// the crack visible on dark, busy surfaces (granite).
	core, cov := sc.plane(), sc.plane()
	rim := max(0.8*s, 0.7)
	step := (2.5 + 2*r.Float64()) * s
	// walk draws a jagged path that keeps drifting back to its heading and
	// forks now and then; branches are shorter, thinner and fork less.
	var walk func(x, y, heading, length, hw float64, depth int)
	walk = func(x, y, heading, length, hw float64, depth int) {
		dir := heading
		for done := 0.0; done < length; done += step {
			dir += 0.55*r.NormFloat64() + 0.35*(heading-dir)
			nx, ny := x+step*math.Cos(dir), y+step*math.Sin(dir)
			w := max(hw*(1-0.7*done/length), 0.4)
			capsule(core, sc.size, x, y, nx, ny, w)
			capsule(cov, sc.size, x, y, nx, ny, w+rim)
			x, y = nx, ny
			if depth < 2 && r.Float64() < 0.09 {
				side := 1.0
				if r.Float64() < 0.5 {
					side = -1
				}
				walk(x, y, dir+side*(0.5+0.6*r.Float64()), (length-done)*(0.3+0.3*r.Float64()), w*0.75, depth+1)
			}
		}
	}
	length := (50 + 80*r.Float64()) * s
	hw := max((0.6+0.5*r.Float64())*s, 0.5)
	heading := r.Float64() * 2 * math.Pi
	// Grow both ways from the anchor so the crack is centred on it.
	walk(x, y, heading, length/2, hw, 0)
	walk(x, y, heading+math.Pi, length/2, hw, 0)
	restrict(cov, sc.body)
	return cov, func(k int, _, _ float64, c rgb) rgb {
		return mix(c.scale(1.25).add(0.06), c.scale(0.2), float64(core[k]))
	}
}

func drawMissing(sc *scene, r *rand.Rand) ([]float32, fullFunc) {
	s := sc.s
	cx, cy := sc.site(r, onEdge)
	cov := sc.plane()
	if sc.parts == nil || sc.under == nil {
		return cov, func(_ int, _, _ float64, c rgb) rgb { return c }
	}
	// At least a few pixels wide, or small images lose the defect.
	newBlob(r, cx, cy, max((7+10*r.Float64())*s, 2.5), 0.3).fill(cov, sc.size)
	// Only the parts go: what was not there cannot be missing.
	restrict(cov, sc.parts)
	under := sc.under
	return cov, func(_ int, x, y float64, _ rgb) rgb { return under(x/s, y/s) }
}

func drawBent(sc *scene, r *rand.Rand) ([]float32, fullFunc) {
	s := sc.s
	n := sc.size
	cx, cy := sc.site(r, onEdge)
	// At least a pixel and a half of displacement, or small images lose the
	// defect.
	rad := max((14+14*r.Float64())*s, 5)
	amp := max((4+5*r.Float64())*s, 1.5)
	cov := sc.plane()
	if sc.parts == nil {
		return cov, func(_ int, _, _ float64, c rgb) rgb { return c }
	}
	// Push across the outline (along the parts' gradient), in or out.
	gx := samplePlane(sc.parts, n, cx+2, cy) - samplePlane(sc.parts, n, cx-2, cy)
	gy := samplePlane(sc.parts, n, cx, cy+2) - samplePlane(sc.parts, n, cx, cy-2)
	if g := math.Hypot(gx, gy); g > 1e-3 {
		gx, gy = gx/g, gy/g
	} else {
		a := r.Float64() * 2 * math.Pi
		gx, gy = math.Cos(a), math.Sin(a)
	}
	if r.Float64() < 0.5 {
		gx, gy = -gx, -gy
	}
	// A smooth bump (1−d²)² that vanishes at rad shapes the displacement.
	bump := func(x, y float64) (b, bx, by float64) {
		dx, dy := (x-cx)/rad, (y-cy)/rad
		d2 := dx*dx + dy*dy
		if d2 >= 1 {
			return 0, 0, 0
		}
		b = sq(1 - d2)
		g := -4 * (1 - d2) / rad
		return b, g * dx, g * dy
	}
	clean := sc.top.clone()
	parts := sc.parts
	for j := max(int(cy-rad), 0); j < min(int(cy+rad)+1, n); j++ {
		for i := max(int(cx-rad), 0); i < min(int(cx+rad)+1, n); i++ {
			x, y := float64(i)+0.5, float64(j)+0.5
			b, _, _ := bump(x, y)
			disp := amp * b
			// The mask is the product where it moved by half a pixel or more,
			// before or after the move.
			if disp < 0.5 {
				continue
			}
			if max(float64(parts[j*n+i]), samplePlane(parts, n, x-disp*gx, y-disp*gy)) > 0.05 {
				cov[j*n+i] = 1
			}
		}
	}
	lx, ly := sc.lx, sc.ly
	return cov, func(_ int, x, y float64, _ rgb) rgb {
		b, bx, by := bump(x, y)
		sx, sy := x-amp*b*gx, y-amp*b*gy
		// The dent's slope tilts the surface towards or away from the light;
		// faded out towards the mask's edge so no seam shows there.
		fade := smoothstep(0.5/amp, min(2/amp+0.1, 1), b)
		shade := 1 + 0.35*amp*(bx*lx+by*ly)*samplePlane(parts, n, sx, sy)*fade
		return clean.sample(sx, sy).scale(shade)
	}
}
