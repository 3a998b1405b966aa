package synth

import (
	"fmt"
	"hash/fnv"
	"image"
	"math"
	"math/rand/v2"
	"slices"
)

// Image size limits (pixels per side).
const (
	MinSize = 32
	MaxSize = 2048
)

// MaskThreshold is the defect coverage from which a pixel belongs to the
// mask. Pixels below it are left exactly as the defect-free render, so a
// defect changes no pixel outside its mask; inside, the pixel moves at least
// this fraction of the way to the defect's full colour.
const MaskThreshold = 0.1

// designSize is the image side the products' dimensions are written for;
// other sizes scale them, so a 512² image shows the same scene as a 256².
const designSize = 256

// Stream constants of the two PCG streams a render uses: the scene's draws
// never depend on the defect, so one seed gives the same normal image under
// every defect.
const (
	sceneStream  = 0x9e3779b97f4a7c15
	defectStream = 0xd1b54a32d192ed03
)

// scene is one image being drawn: the product's colours before lighting and
// the planes defects consult to know where they may go.
type scene struct {
	size int
	s    float64 // pixels per design unit
	r    *rand.Rand
	top  canvas
	// under gives, at design coordinates, what the removable parts cover
	// (the missing defect shows it); nil for products without parts.
	under func(x, y float64) rgb
	// body is where surface defects may sit (nil: the whole image); parts
	// is the coverage of removable parts (nil: none).
	body, parts []float32
	// lx, ly is the direction light comes from, in image coordinates; the
	// products and the defects shade with it so highlights agree.
	lx, ly float64
	light  lighting
}

// lighting is the photographic part applied after the defects: an exposure
// and white balance, a linear light fall-off, vignetting and sensor noise.
type lighting struct {
	exposure, gradient, gx, gy, vignette float64
	balance                              rgb
	grain                                noise
}

func newScene(size int, r *rand.Rand) *scene {
	a := r.Float64() * 2 * math.Pi
	sc := &scene{size: size, s: float64(size) / designSize, r: r, top: newCanvas(size), lx: math.Cos(a), ly: math.Sin(a)}
	g := r.Float64() * 2 * math.Pi
	sc.light = lighting{
		exposure: 0.94 + 0.12*r.Float64(),
		gradient: 0.05 + 0.12*r.Float64(),
		gx:       math.Cos(g), gy: math.Sin(g),
		vignette: 0.10 + 0.15*r.Float64(),
		balance:  rgb{0.98 + 0.04*r.Float64(), 1, 0.98 + 0.04*r.Float64()},
		grain:    noise(r.Uint32()),
	}
	return sc
}

// sensorNoise is the standard deviation of the per-pixel noise, in 8-bit
// levels.
const sensorNoise = 1.6

// finish applies the lighting and quantises to 8 bits.
func (sc *scene) finish() *image.RGBA {
	n := sc.size
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	l := sc.light
	// Triangular noise (sum of two uniforms) has standard deviation 0.408
	// of its half width.
	amp := sensorNoise / 255 / 0.408
	for j := range n {
		y := (float64(j)+0.5)/float64(n) - 0.5
		for i := range n {
			x := (float64(i)+0.5)/float64(n) - 0.5
			k := j*n + i
			gain := l.exposure * (1 + 2*l.gradient*(x*l.gx+y*l.gy)) * (1 - 2*l.vignette*(x*x+y*y))
			c := sc.top.get(k).mul(l.balance).scale(gain)
			o := img.Pix[4*k : 4*k+4 : 4*k+4]
			for ch := range 3 {
				h := hash2(int32(i), int32(3*j+ch), uint32(l.grain))
				e := (float64(h&0xffff)+float64(h>>16))/65536 - 1
				o[ch] = quantize(c[ch] + amp*e)
			}
			o[3] = 255
		}
	}
	return img
}

func quantize(v float64) uint8 { return uint8(clamp01(v)*255 + 0.5) }

// siteKind says where a defect is anchored.
type siteKind int

const (
	onSurface siteKind = iota // anywhere on the product's body
	onEdge                    // on the outline of a removable part
)

// site picks a defect's anchor point (pixels) away from the image border.
// Rejection sampling keeps it generic over products; it falls back to a
// surface point, then to the centre, so it always answers.
func (sc *scene) site(r *rand.Rand, kind siteKind) (x, y float64) {
	n := sc.size
	margin := 0.12 * float64(n)
	span := float64(n) - 2*margin
	plane := func(p []float32, i, j int) float64 {
		if p == nil {
			return 1
		}
		i, j = min(max(i, 0), n-1), min(max(j, 0), n-1)
		return float64(p[j*n+i])
	}
	for _, k := range []siteKind{kind, onSurface} {
		for range 4096 {
			x, y = margin+r.Float64()*span, margin+r.Float64()*span
			i, j := int(x), int(y)
			switch k {
			case onSurface:
				if plane(sc.body, i, j) >= 0.99 {
					return x, y
				}
			case onEdge:
				if sc.parts == nil || plane(sc.parts, i, j) < 0.5 {
					continue
				}
				const d = 2
				if plane(sc.parts, i-d, j) < 0.5 || plane(sc.parts, i+d, j) < 0.5 ||
					plane(sc.parts, i, j-d) < 0.5 || plane(sc.parts, i, j+d) < 0.5 {
					return x, y
				}
			}
		}
	}
	return float64(n) / 2, float64(n) / 2
}

// fullFunc gives a defect's colour at full strength at pixel k (centre x, y)
// from the defect-free colour there.
type fullFunc func(k int, x, y float64, clean rgb) rgb

// composite blends a defect into the scene: each pixel with coverage of at
// least MaskThreshold moves that far towards the defect's full colour and
// joins the mask; every other pixel is left untouched.
func (sc *scene) composite(cov []float32, full fullFunc) *image.Gray {
	n := sc.size
	mask := image.NewGray(image.Rect(0, 0, n, n))
	for j := range n {
		for i := range n {
			k := j*n + i
			a := float64(cov[k])
			if a < MaskThreshold {
				continue
			}
			c := sc.top.get(k)
			sc.top.set(k, mix(c, full(k, float64(i)+0.5, float64(j)+0.5, c), min(a, 1)))
			mask.Pix[k] = 255
		}
	}
	return mask
}

// restrict multiplies a coverage plane by p (nil: no change).
func restrict(cov, p []float32) {
	if p == nil {
		return
	}
	for i := range cov {
		cov[i] *= p[i]
	}
}

func streamOf(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// Render draws one image of product with the given defect (Good for a
// normal image) and returns it with its mask: 255 where the defect changed
// the image, 0 elsewhere (all 0 for Good). It is a pure function of its
// arguments. With one seed, the defective image differs from the Good one
// only inside the mask.
func Render(product, defect string, size int, seed uint64) (*image.RGBA, *image.Gray, error) {
	p, err := lookupProduct(product)
	if err != nil {
		return nil, nil, err
	}
	if !p.hasDefect(defect) {
		return nil, nil, fmt.Errorf("synth: product %s (family %s) has no defect %q (defects: %v)", product, p.Family, defect, p.Defects)
	}
	if size < MinSize || size > MaxSize {
		return nil, nil, fmt.Errorf("synth: image size %d outside [%d, %d]", size, MinSize, MaxSize)
	}
	sc := newScene(size, rand.New(rand.NewPCG(seed, sceneStream)))
	p.draw(sc)
	if defect == Good {
		return sc.finish(), image.NewGray(image.Rect(0, 0, size, size)), nil
	}
	// A defect anchored where the product is thin (a track at a small
	// size) can end up covering no pixel; redraw it from the next stream
	// rather than write a defective image with an empty mask.
	const attempts = 8
	for a := range uint64(attempts) {
		r := rand.New(rand.NewPCG(seed, defectStream^streamOf(defect)+a))
		cov, full, err := drawDefect(defect, sc, r)
		if err != nil {
			return nil, nil, err
		}
		if slices.ContainsFunc(cov, func(c float32) bool { return c >= MaskThreshold }) {
			mask := sc.composite(cov, full)
			return sc.finish(), mask, nil
		}
	}
	return nil, nil, fmt.Errorf("synth: %s on %s (size %d, seed %d) covered no pixel in %d attempts", defect, product, size, seed, attempts)
}
