package synth

import "math"

// Family B: objects with parts and outlines (a circuit board, a washer on a
// mat, tiles in grout). Each sets parts, the coverage of what the missing
// defect may remove, and under, what lies beneath it.

func (sc *scene) plane() []float32 { return make([]float32, sc.size*sc.size) }

// pcbLayout maps the board's design coordinates to pixels and draws into
// its planes.
type pcbLayout struct {
	sc               *scene
	cos, sin, dx, dy float64
	track, pad, silk []float32
	trackHW, silkHW  float64 // half widths, design units
}

func (l *pcbLayout) px(x, y float64) (float64, float64) {
	x, y = x-designSize/2, y-designSize/2
	return (x*l.cos - y*l.sin + designSize/2 + l.dx) * l.sc.s, (x*l.sin + y*l.cos + designSize/2 + l.dy) * l.sc.s
}

func (l *pcbLayout) stroke(p []float32, hw float64, pts ...[2]float64) {
	for i := 1; i < len(pts); i++ {
		ax, ay := l.px(pts[i-1][0], pts[i-1][1])
		bx, by := l.px(pts[i][0], pts[i][1])
		capsule(p, l.sc.size, ax, ay, bx, by, hw*l.sc.s)
	}
}

func (l *pcbLayout) padAt(x, y, hx, hy float64) {
	cx, cy := l.px(x, y)
	s := l.sc.s
	e := math.Hypot(hx, hy) * s
	fillSDF(l.pad, l.sc.size, cx-e, cy-e, cx+e, cy+e, func(x, y float64) float64 {
		return roundRect(x, y, cx, cy, hx*s, hy*s, 0.8*s, l.cos, l.sin)
	})
}

// glyphs are silkscreen characters as strokes on a 3×6 grid.
func glyph(c rune) [][2][2]float64 {
	switch c {
	case 'U':
		return [][2][2]float64{{{0, 0}, {0, 6}}, {{0, 6}, {3, 6}}, {{3, 6}, {3, 0}}}
	case 'R':
		return [][2][2]float64{{{0, 6}, {0, 0}}, {{0, 0}, {3, 0}}, {{3, 0}, {3, 3}}, {{3, 3}, {0, 3}}, {{1, 3}, {3, 6}}}
	case 'C':
		return [][2][2]float64{{{3, 0}, {0, 0}}, {{0, 0}, {0, 6}}, {{0, 6}, {3, 6}}}
	case '1':
		return [][2][2]float64{{{0.5, 1}, {2, 0}}, {{2, 0}, {2, 6}}}
	case '2':
		return [][2][2]float64{{{0, 0}, {3, 0}}, {{3, 0}, {3, 3}}, {{3, 3}, {0, 3}}, {{0, 3}, {0, 6}}, {{0, 6}, {3, 6}}}
	case '3':
		return [][2][2]float64{{{0, 0}, {3, 0}}, {{3, 0}, {3, 6}}, {{0, 3}, {3, 3}}, {{0, 6}, {3, 6}}}
	}
	return nil
}

func (l *pcbLayout) label(x, y float64, text string) {
	const unit = 1.2
	for _, c := range text {
		for _, st := range glyph(c) {
			l.stroke(l.silk, l.silkHW, [2]float64{x + st[0][0]*unit, y + st[0][1]*unit}, [2]float64{x + st[1][0]*unit, y + st[1][1]*unit})
		}
		x += 5 * unit
	}
}

func drawPCB(sc *scene) {
	r := sc.r
	rot := float64(r.IntN(4))*math.Pi/2 + 0.04*(r.Float64()-0.5)
	l := &pcbLayout{
		sc: sc, cos: math.Cos(rot), sin: math.Sin(rot), dx: 12 * (2*r.Float64() - 1), dy: 12 * (2*r.Float64() - 1),
		track: sc.plane(), pad: sc.plane(), silk: sc.plane(), trackHW: 1.5 + 0.3*r.Float64(), silkHW: 0.6,
	}
	// An SOIC-like footprint: two rows of pads, tracks fanning out at 45°.
	// All tracks of a row turn at the same height and the outer ones move
	// further, so the parallel diagonals never cross.
	cx, cy := designSize/2+30*(r.Float64()-0.5), designSize/2+30*(r.Float64()-0.5)
	m := 7 + r.IntN(5)
	pitch := 11 + 2*r.Float64()
	half := 26 + 8*r.Float64()
	spread := 1.4 + 0.5*r.Float64()
	turn := 10 + 8*r.Float64()
	for _, side := range []float64{-1, 1} {
		y0 := cy + side*half
		for i := range m {
			x := cx + (float64(i)-float64(m-1)/2)*pitch
			l.padAt(x, y0, 2.6, 5.5)
			if r.Float64() < 0.15 {
				continue // not connected
			}
			shift := (x - cx) * (spread - 1)
			y1 := y0 + side*turn
			y2 := y1 + side*math.Abs(shift)
			l.stroke(l.track, l.trackHW, [2]float64{x, y0}, [2]float64{x, y1}, [2]float64{x + shift, y2}, [2]float64{x + shift, y2 + side*300})
		}
	}
	x0, x1 := cx-(float64(m-1)/2)*pitch, cx+(float64(m-1)/2)*pitch
	body := [][2]float64{{x0 - pitch/2, cy - half + 9}, {x1 + pitch/2, cy - half + 9}, {x1 + pitch/2, cy + half - 9}, {x0 - pitch/2, cy + half - 9}, {x0 - pitch/2, cy - half + 9}}
	l.stroke(l.silk, l.silkHW, body...)
	l.stroke(l.silk, 1.4, [2]float64{x0, cy - half + 14}, [2]float64{x0, cy - half + 14})
	l.label(cx-5, cy-4, "U1")
	// Two-pad passives beside the chip, both tracks leaving outwards; the
	// band between the pad rows is free of the fan-out.
	names := []string{"R1", "C2", "R3", "C1"}
	for k, side := range []float64{-1, 1} {
		px := cx + side*(float64(m)/2*pitch+22+12*r.Float64())
		py := cy + (r.Float64()-0.5)*(half-16)
		l.padAt(px, py-6, 3.5, 3)
		l.padAt(px, py+6, 3.5, 3)
		jog := 6 + 6*r.Float64()
		l.stroke(l.track, l.trackHW, [2]float64{px, py - 6}, [2]float64{px + side*jog, py - 6 - jog}, [2]float64{px + side*300, py - 6 - jog})
		l.stroke(l.track, l.trackHW, [2]float64{px, py + 6}, [2]float64{px + side*jog, py + 6 + jog}, [2]float64{px + side*300, py + 6 + jog})
		l.label(px-12, py-3, names[2*k+r.IntN(2)])
	}

	board := sc.jitterColour(rgb{0.10, 0.34, 0.19}, 0.06)
	trackColour := sc.jitterColour(rgb{0.22, 0.52, 0.25}, 0.05)
	gold := sc.jitterColour(rgb{0.86, 0.69, 0.34}, 0.04)
	silk := rgb{0.90, 0.91, 0.86}
	mottle, grain := noise(r.Uint32()), noise(r.Uint32())
	// Bare solder mask over glass weave: faint cloth pattern and mottling.
	sc.under = func(x, y float64) rgb {
		weave := 0.015 * math.Sin(x*1.3) * math.Sin(y*1.3)
		return board.scale(1 + 0.05*mottle.fbm(x*0.015, y*0.015, 3) + weave)
	}
	n := sc.size
	sc.parts = sc.plane()
	for j := range n {
		for i := range n {
			k := j*n + i
			x, y := (float64(i)+0.5)/sc.s, (float64(j)+0.5)/sc.s
			c := sc.under(x, y)
			// Texture only where a layer shows: most of the board is bare.
			if t := l.track[k]; t > 0 {
				c = mix(c, trackColour.scale(1+0.03*mottle.at(x*0.1, y*0.1)), float64(t))
			}
			if t := l.silk[k]; t > 0 {
				c = mix(c, silk, float64(t))
			}
			if t := l.pad[k]; t > 0 {
				c = mix(c, gold.scale(1+0.06*grain.fbm(x*0.25, y*0.25, 2)), float64(t))
			}
			sc.top.set(k, c)
			sc.parts[k] = max(l.track[k], l.pad[k])
		}
	}
}

func drawWasher(sc *scene) {
	r := sc.r
	cx, cy := designSize/2+16*(r.Float64()-0.5), designSize/2+16*(r.Float64()-0.5)
	ro := 90 + 14*r.Float64()
	ri := ro * (0.44 + 0.12*r.Float64())
	mat := sc.jitterColour(rgb{0.20, 0.21, 0.23}, 0.08)
	steel := sc.jitterColour(rgb{0.60, 0.61, 0.63}, 0.05)
	// The shadow falls away from the light.
	shx, shy := -7*sc.lx, -7*sc.ly
	phiL := math.Atan2(sc.ly, sc.lx)
	rubber, turning, marks := noise(r.Uint32()), noise(r.Uint32()), noise(r.Uint32())
	ring := func(x, y float64) float64 { // signed distance, design units
		d := math.Hypot(x-cx, y-cy)
		return max(d-ro, ri-d)
	}
	sc.under = func(x, y float64) rgb {
		shadow := 1 - 0.5*(1-smoothstep(-6, 14, ring(x-shx, y-shy)))
		return mat.scale((1 + 0.10*rubber.fbm(x*0.12, y*0.12, 3)) * shadow)
	}
	n := sc.size
	sc.parts = sc.plane()
	sc.body = sc.parts
	for j := range n {
		for i := range n {
			k := j*n + i
			x, y := (float64(i)+0.5)/sc.s, (float64(j)+0.5)/sc.s
			bg := sc.under(x, y)
			cov := clamp01(0.5 - ring(x, y)*sc.s)
			sc.parts[k] = float32(cov)
			if cov == 0 {
				sc.top.set(k, bg)
				continue
			}
			d := math.Hypot(x-cx, y-cy)
			phi := math.Atan2(y-cy, x-cx)
			// Turned face: concentric tool marks and the bow-tie highlight of
			// an anisotropic surface.
			t := 0.035*math.Sin(d*2.6+2*turning.at(d*0.2, phi*3)) + 0.02*marks.at(d*1.5, phi*30)
			g := 1 + t + 0.18*math.Cos(2*(phi-phiL)) - 0.06*math.Sin(math.Pi*(d-ri)/(ro-ri))
			// Chamfers tilt outwards at the rim and inwards at the bore.
			lit := math.Cos(phi - phiL)
			g += 0.35 * lit * smoothstep(ro-4, ro-1, d)
			g -= 0.35 * lit * (1 - smoothstep(ri+1, ri+4, d))
			sc.top.set(k, mix(bg, steel.scale(g), cov))
		}
	}
}

func drawStoneTile(sc *scene) {
	r := sc.r
	pitch := 100 + 30*r.Float64()
	grout := 4 + 2*r.Float64()
	th := 0.08 * (r.Float64() - 0.5)
	cs, sn := math.Cos(th), math.Sin(th)
	ox, oy := pitch*r.Float64(), pitch*r.Float64()
	tone := sc.jitterColour(rgb{1, 1, 1}, 0.05)
	groutColour := sc.jitterColour(rgb{0.68, 0.66, 0.62}, 0.04)
	mortar := rgb{0.27, 0.26, 0.24} // adhesive bed, seen where a tile chipped
	cloud, crystals, fines, warp, sand := noise(r.Uint32()), noise(r.Uint32()), noise(r.Uint32()), noise(r.Uint32()), noise(r.Uint32())
	sc.under = func(x, y float64) rgb { return mortar.scale(1 + 0.12*sand.fbm(x*0.3, y*0.3, 2)) }
	n := sc.size
	sc.parts = sc.plane()
	for j := range n {
		for i := range n {
			k := j*n + i
			x, y := (float64(i)+0.5)/sc.s, (float64(j)+0.5)/sc.s
			u, v := x*cs+y*sn+ox, -x*sn+y*cs+oy
			ti, tj := math.Floor(u/pitch), math.Floor(v/pitch)
			fu, fv := u-ti*pitch, v-tj*pitch
			// Distance into the tile from its nearest joint (design units).
			in := min(fu, pitch-fu, fv, pitch-fv) - grout/2
			cov := clamp01(0.5 + in*sc.s)
			sc.parts[k] = float32(cov)
			var g rgb
			if cov < 1 {
				// Joints are recessed: darker next to the tile edges.
				g = groutColour.scale((1 + 0.06*sand.fbm(x*0.3, y*0.3, 2)) * (0.82 + 0.18*smoothstep(-grout/2, 0, in)))
			}
			if cov == 0 {
				sc.top.set(k, g)
				continue
			}
			// Each tile is cut from another part of the slab.
			id := hash2(int32(ti), int32(tj), uint32(cloud))
			sx, sy := x+float64(id&1023), y+float64(id>>10&1023)
			c := granite(sx, sy, crystals, fines, warp).mul(tone).scale(1 + 0.07*cloud.fbm(sx*0.02, sy*0.02, 2) + 0.04*(unit(id)-0.5))
			// Polished bevel: a thin highlight along the edges.
			c = c.scale(1 + 0.12*(1-smoothstep(0, 2.5, in)))
			sc.top.set(k, mix(g, c, cov))
		}
	}
}

// granite is a mosaic of crystals (Worley cells on warped coordinates):
// grey quartz, pink or white feldspar and black mica, with darker grain
// boundaries and a finer mosaic on top.
func granite(x, y float64, crystals, fines, warp noise) rgb {
	x += 2.5 * warp.at(x*0.08, y*0.08)
	y += 2.5 * warp.at(x*0.08+31.5, y*0.08-17.5)
	mineral := func(id uint32) rgb {
		// Rehash: the cell hash also placed the point.
		v, b := unit(hash2(int32(id), 1, 0)), unit(hash2(int32(id), 2, 0))
		switch {
		case v < 0.42: // quartz
			return rgb{0.58, 0.58, 0.59}.scale(0.85 + 0.3*b)
		case v < 0.62: // pink feldspar
			return rgb{0.76, 0.64, 0.59}.scale(0.9 + 0.2*b)
		case v < 0.80: // white feldspar
			return rgb{0.86, 0.85, 0.82}.scale(0.92 + 0.1*b)
		default: // mica and hornblende
			return rgb{0.09, 0.09, 0.10}.scale(0.8 + 0.8*b)
		}
	}
	id, f1, f2 := crystals.cell(x/6, y/6)
	// Crystals are not flat: cleavage and inclusions shade them.
	inner := 1 + 0.10*fines.at(x*0.6, y*0.6)
	c := mineral(id).scale(inner * (0.84 + 0.16*smoothstep(0, 0.15, f2-f1)))
	// Small grains between the crystals, one colour per design unit.
	fid := hash2(int32(math.Floor(x/1.5)), int32(math.Floor(y/1.5)), uint32(fines))
	return mix(c, mineral(fid), 0.2)
}
