package synth

import "math"

// Family A: flat textures that fill the frame (brushed metal, wood,
// fabric). Their surfaces have no removable parts, so only the surface
// defects apply to them.

// paint sets every pixel of the top canvas from f, which is given design
// coordinates (0..designSize across the image) so scenes look alike at any
// size.
func (sc *scene) paint(f func(x, y float64) rgb) {
	n := sc.size
	for j := range n {
		y := (float64(j) + 0.5) / sc.s
		for i := range n {
			sc.top.set(j*n+i, f((float64(i)+0.5)/sc.s, y))
		}
	}
}

// jitterColour scales a colour by 1±k per channel, with a common brightness
// change of 1±k, so normal images vary in tone but stay the same material.
func (sc *scene) jitterColour(c rgb, k float64) rgb {
	b := 1 + k*(2*sc.r.Float64()-1)
	for ch := range c {
		c[ch] *= b * (1 + 0.4*k*(2*sc.r.Float64()-1))
	}
	return c
}

func sq(x float64) float64 { return x * x }

func drawMetalPlate(sc *scene) {
	r := sc.r
	th := r.Float64() * math.Pi
	cs, sn := math.Cos(th), math.Sin(th)
	steel := sc.jitterColour(rgb{0.63, 0.645, 0.67}, 0.06)
	ox, oy := 1000*r.Float64(), 1000*r.Float64()
	brush1, brush2, mottle := noise(r.Uint32()), noise(r.Uint32()), noise(r.Uint32())
	// Brushed metal reflects in a band across the brushing direction.
	sheenAt, sheenWidth, sheenGain := 100*(2*r.Float64()-1), 50+50*r.Float64(), 0.10+0.10*r.Float64()
	sc.paint(func(x, y float64) rgb {
		x, y = x-designSize/2, y-designSize/2
		u, v := x*cs+y*sn, -x*sn+y*cs
		// Stretched noise: long along u, about a pixel across v.
		streak := 0.6*brush1.at(u*0.004+ox, v*0.9) + 0.4*brush2.at(u*0.012+oy, v*2.3)
		m := mottle.fbm(x*0.012+ox, y*0.012+oy, 3)
		sheen := sheenGain * math.Exp(-sq((u-sheenAt)/sheenWidth))
		return steel.scale(1 + 0.07*streak + 0.05*m + sheen)
	})
}

func drawWood(sc *scene) {
	r := sc.r
	// The grain runs roughly top to bottom.
	th := math.Pi/2 + 0.4*(r.Float64()-0.5)
	cs, sn := math.Cos(th), math.Sin(th)
	light := sc.jitterColour(rgb{0.80, 0.63, 0.45}, 0.06)
	dark := sc.jitterColour(rgb{0.52, 0.33, 0.19}, 0.06)
	freq := 1 / (11 + 9*r.Float64())
	ox, oy := 1000*r.Float64(), 1000*r.Float64()
	warp, spacing, fibre, pores, tone := noise(r.Uint32()), noise(r.Uint32()), noise(r.Uint32()), noise(r.Uint32()), noise(r.Uint32())
	years := r.Uint32()
	sc.paint(func(x, y float64) rgb {
		u, v := x*cs+y*sn, -x*sn+y*cs
		// Long, gentle bends along the grain; ring spacing that changes from
		// year to year.
		w := 18 * warp.fbm(u*0.0025+ox, v*0.006+oy, 3)
		t := (v+w)*freq + 0.9*spacing.at(v*0.012+oy, 0.5)
		ring := frac(t)
		// Late wood: a darker band at the end of each year, sharp where the
		// next year's early wood starts; some years darker than others.
		late := smoothstep(0.62, 0.88, ring) * (1 - smoothstep(0.95, 1, ring))
		year := 0.55 + 0.45*unit(hash2(int32(math.Floor(t)), 0, years))
		f := fibre.fbm(u*0.01+oy, v*0.9, 2)
		c := mix(light, dark, clamp01(0.8*late*year+0.10*(f+1)))
		pore := smoothstep(0.5, 0.8, pores.at(u*0.05+ox, v*1.1))
		return c.scale((1 - 0.25*pore) * (1 + 0.07*tone.fbm(x*0.008+ox, y*0.008+oy, 2)))
	})
}

func drawFabric(sc *scene) {
	r := sc.r
	period := 6.5 + 2*r.Float64()
	th := 0.12 * (r.Float64() - 0.5)
	cs, sn := math.Cos(th), math.Sin(th)
	warpColour := sc.jitterColour(rgb{0.15, 0.25, 0.45}, 0.08) // indigo
	weftColour := sc.jitterColour(rgb{0.62, 0.61, 0.57}, 0.04) // undyed, in the warp's shade
	ox, oy := 1000*r.Float64(), 1000*r.Float64()
	wave, slub, fuzz, fibres := noise(r.Uint32()), noise(r.Uint32()), noise(r.Uint32()), noise(r.Uint32())
	sc.paint(func(x, y float64) rgb {
		u, v := (x*cs+y*sn)/period+ox, (-x*sn+y*cs)/period+oy
		// Threads are not quite straight.
		u += 0.12 * wave.at(v*0.08, 3.5)
		v += 0.12 * wave.at(7.5, u*0.08)
		i, j := math.Floor(u), math.Floor(v)
		fu, fv := u-i, v-j
		// 3/1 twill: the warp floats over three wefts and under one, shifted
		// a thread per row, which draws the diagonal wale of denim.
		phase := ((int(i)-int(j))%4 + 4) % 4
		var (
			colour         rgb
			across, along  float64
			length, thread float64
		)
		if phase != 0 {
			colour, across, along, length, thread = warpColour, fu, (float64(phase-1)+fv)/3, v, i
		} else {
			colour, across, along, length, thread = weftColour, fv, fu, u, j+0.5
		}
		// A round thread, dipping where the float ends under a crossing one;
		// slubs make the colour vary along each thread.
		shade := (0.35 + 0.65*math.Sqrt(math.Sin(math.Pi*across))) * (0.78 + 0.22*math.Sqrt(math.Sin(math.Pi*along)))
		shade *= 1 + 0.12*slub.at(length*0.35, thread*1.7)
		hair := 0.05*fuzz.at(x*0.35, y*0.35) + 0.06*fibres.at(length*5, across*3+thread*5.1)
		return colour.scale(shade * (1 + hair))
	})
}
