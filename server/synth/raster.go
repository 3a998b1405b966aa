package synth

import "math"

// rgb is a colour with channels in [0, 1] (sRGB-encoded, as stored in PNG).
type rgb [3]float64

func (c rgb) scale(k float64) rgb { return rgb{c[0] * k, c[1] * k, c[2] * k} }

func (c rgb) add(k float64) rgb { return rgb{c[0] + k, c[1] + k, c[2] + k} }

func (c rgb) mul(t rgb) rgb { return rgb{c[0] * t[0], c[1] * t[1], c[2] * t[2]} }

func mix(a, b rgb, t float64) rgb {
	return rgb{lerp(a[0], b[0], t), lerp(a[1], b[1], t), lerp(a[2], b[2], t)}
}

// canvas is a size×size float image, three channels per pixel.
type canvas struct {
	size int
	px   []float32
}

func newCanvas(size int) canvas { return canvas{size: size, px: make([]float32, 3*size*size)} }

func (c canvas) get(i int) rgb {
	p := c.px[3*i : 3*i+3 : 3*i+3]
	return rgb{float64(p[0]), float64(p[1]), float64(p[2])}
}

func (c canvas) set(i int, v rgb) {
	p := c.px[3*i : 3*i+3 : 3*i+3]
	p[0], p[1], p[2] = float32(v[0]), float32(v[1]), float32(v[2])
}

func (c canvas) clone() canvas {
	return canvas{size: c.size, px: append([]float32(nil), c.px...)}
}

// sample reads the canvas at continuous pixel coordinates (pixel centres at
// +0.5) with bilinear interpolation, clamping at the border.
func (c canvas) sample(x, y float64) rgb {
	i0, j0, i1, j1, tx, ty := bilinear(c.size, x, y)
	a, b := c.get(j0*c.size+i0), c.get(j0*c.size+i1)
	d, e := c.get(j1*c.size+i0), c.get(j1*c.size+i1)
	return mix(mix(a, b, tx), mix(d, e, tx), ty)
}

// samplePlane is sample for a one-channel plane.
func samplePlane(p []float32, size int, x, y float64) float64 {
	i0, j0, i1, j1, tx, ty := bilinear(size, x, y)
	a, b := float64(p[j0*size+i0]), float64(p[j0*size+i1])
	d, e := float64(p[j1*size+i0]), float64(p[j1*size+i1])
	return lerp(lerp(a, b, tx), lerp(d, e, tx), ty)
}

func bilinear(size int, x, y float64) (i0, j0, i1, j1 int, tx, ty float64) {
	x, y = x-0.5, y-0.5
	fx, fy := math.Floor(x), math.Floor(y)
	tx, ty = x-fx, y-fy
	clampi := func(v int) int { return min(max(v, 0), size-1) }
	i0, j0 = clampi(int(fx)), clampi(int(fy))
	i1, j1 = clampi(int(fx)+1), clampi(int(fy)+1)
	return i0, j0, i1, j1, tx, ty
}

// fillSDF max-combines into plane p the coverage of the shape whose signed
// distance (pixels, negative inside) is sdf, over the box [x0,x1]×[y0,y1]
// grown by a pixel. Coverage 0.5−d is a one-pixel antialiased edge.
func fillSDF(p []float32, size int, x0, y0, x1, y1 float64, sdf func(x, y float64) float64) {
	ia, ib := max(int(math.Floor(x0))-1, 0), min(int(math.Ceil(x1))+1, size)
	ja, jb := max(int(math.Floor(y0))-1, 0), min(int(math.Ceil(y1))+1, size)
	for j := ja; j < jb; j++ {
		y := float64(j) + 0.5
		row := p[j*size : (j+1)*size]
		for i := ia; i < ib; i++ {
			c := float32(clamp01(0.5 - sdf(float64(i)+0.5, y)))
			if c > row[i] {
				row[i] = c
			}
		}
	}
}

// segDist is the distance from (px, py) to the segment a–b, and where along
// it (0 at a, 1 at b) the nearest point lies.
func segDist(px, py, ax, ay, bx, by float64) (d, t float64) {
	vx, vy := bx-ax, by-ay
	wx, wy := px-ax, py-ay
	l2 := vx*vx + vy*vy
	if l2 > 0 {
		t = clamp01((wx*vx + wy*vy) / l2)
	}
	return math.Hypot(wx-t*vx, wy-t*vy), t
}

// capsule draws a segment of half width hw (pixels) with round ends.
func capsule(p []float32, size int, ax, ay, bx, by, hw float64) {
	r := hw + 1
	fillSDF(p, size, min(ax, bx)-r, min(ay, by)-r, max(ax, bx)+r, max(ay, by)+r, func(x, y float64) float64 {
		d, _ := segDist(x, y, ax, ay, bx, by)
		return d - hw
	})
}

// roundRect is the signed distance to a rectangle centred at (cx, cy) with
// half extents hx, hy, corner radius rad and rotation (cos, sin).
func roundRect(x, y, cx, cy, hx, hy, rad, cos, sin float64) float64 {
	dx, dy := x-cx, y-cy
	u, v := math.Abs(dx*cos+dy*sin)-hx+rad, math.Abs(-dx*sin+dy*cos)-hy+rad
	out := math.Hypot(max(u, 0), max(v, 0))
	return out + min(max(u, v), 0) - rad
}
