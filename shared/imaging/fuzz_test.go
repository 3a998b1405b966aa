package imaging

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"testing"
)

const fuzzMaxPixels = 1 << 20

func FuzzDecode(f *testing.F) {
	// Seeds: every PNG colour type Go writes, grey+alpha by hand, a JPEG of
	// each subsampling, and damaged versions.
	gray := image.NewGray(image.Rect(0, 0, 5, 3))
	rgba := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(i * 37)
	}
	pal := image.NewPaletted(image.Rect(0, 0, 3, 2), color.Palette{color.Black, color.NRGBA{1, 2, 3, 4}})
	g16 := image.NewGray16(image.Rect(0, 0, 2, 2))
	var seeds [][]byte
	for _, img := range []image.Image{gray, rgba, pal, g16} {
		var b bytes.Buffer
		if err := pngEncode(&b, img); err == nil {
			seeds = append(seeds, b.Bytes())
		}
	}
	seeds = append(seeds, rawPNG(2, 1, 4, 8, [][]byte{{1, 2, 3, 4}}))
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio444} {
		y := image.NewYCbCr(image.Rect(0, 0, 17, 9), ratio)
		for i := range y.Y {
			y.Y[i] = uint8(i)
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, y, nil); err == nil {
			seeds = append(seeds, b.Bytes())
		}
	}
	for _, s := range seeds {
		f.Add(s)
		f.Add(s[:len(s)/2])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxPixels: fuzzMaxPixels}
		img, err := DecodeRGBBytes(data, lim)
		if err != nil {
			return
		}
		if img.W < 1 || img.H < 1 || img.W*img.H > fuzzMaxPixels || len(img.Pix) != img.W*img.H*3 {
			t.Fatalf("bad image %dx%d with %d bytes", img.W, img.H, len(img.Pix))
		}
		l, err := DecodeMaskLBytes(data, lim)
		if err != nil || l.W != img.W || l.H != img.H || len(l.Pix) != l.W*l.H {
			t.Fatalf("mask decode disagrees: %v", err)
		}
		r, err := DecodeResize(data, 7, 5, lim)
		if err != nil || r.W != 7 || r.H != 5 || len(r.Pix) != 7*5*3 {
			t.Fatalf("resize: %v", err)
		}
	})
}

func FuzzResize(f *testing.F) {
	f.Add(uint16(256), uint16(256), uint16(518), uint16(518), uint64(1))
	f.Add(uint16(1), uint16(1), uint16(600), uint16(1), uint64(2))
	f.Add(uint16(600), uint16(599), uint16(1), uint16(2), uint64(3))
	f.Add(uint16(97), uint16(131), uint16(70), uint16(70), uint64(4))
	f.Fuzz(func(t *testing.T, w0, h0, w1, h1 uint16, seed uint64) {
		// Map to 1..600.
		sw, sh := 1+int(w0)%600, 1+int(h0)%600
		dw, dh := 1+int(w1)%600, 1+int(h1)%600
		rng := rand.New(rand.NewPCG(seed, 7))
		img := &RGB{W: sw, H: sh, Pix: make([]uint8, sw*sh*3)}
		for i := range img.Pix {
			img.Pix[i] = uint8(rng.Uint32())
		}
		out := ResizeBicubic(img, dw, dh)
		if out.W != dw || out.H != dh || len(out.Pix) != dw*dh*3 {
			t.Fatalf("%dx%d -> %dx%d: got %dx%d, %d bytes", sw, sh, dw, dh, out.W, out.H, len(out.Pix))
		}
		g := ResizeBilinearGray(&Gray{W: sw, H: sh, Pix: img.Pix[:sw*sh]}, dw, dh)
		if g.W != dw || g.H != dh || len(g.Pix) != dw*dh {
			t.Fatalf("bilinear %dx%d -> %dx%d: got %dx%d", sw, sh, dw, dh, g.W, g.H)
		}
		// A constant image stays constant (the kernels sum to one).
		c := uint8(seed)
		flat := &Gray{W: sw, H: sh, Pix: bytes.Repeat([]byte{c}, sw*sh)}
		for _, v := range ResizeBicubicGray(flat, dw, dh).Pix {
			if v != c {
				t.Fatalf("constant %d not kept: %d", c, v)
			}
		}
		// The "I" and NEAREST paths too.
		src := &source{mode: modeI, pi: planeI{w: sw, h: sh, pix: make([]int32, sw*sh)}}
		if r := src.resizeBicubic(dw, dh); r.pi.w != dw || r.pi.h != dh || len(r.pi.pix) != dw*dh {
			t.Fatalf("mode I: %dx%d", r.pi.w, r.pi.h)
		}
		if n := resampleNearest8(plane8{w: sw, h: sh, ch: 1, pix: flat.Pix}, dw, dh); len(n.pix) != dw*dh {
			t.Fatalf("nearest: %d bytes", len(n.pix))
		}
	})
}
