package imaging

// ResizeBicubic resizes like Pillow's img.resize((w, h), Image.BICUBIC) on
// an RGB image: Keys' cubic (a = -0.5), antialiased when downsampling,
// 8-bit fixed point, bit-exact with Pillow 9. Aspect ratio is not kept. It
// panics if w or h is below 1 (Pillow raises ValueError).
func ResizeBicubic(img *RGB, w, h int) *RGB {
	p := resample8(plane8{w: img.W, h: img.H, ch: 3, pix: img.Pix}, w, h, bicubicFilter)
	return &RGB{W: p.w, H: p.h, Pix: p.pix}
}

// ResizeBicubicGray is ResizeBicubic for a mode "L" image.
func ResizeBicubicGray(g *Gray, w, h int) *Gray {
	p := resample8(plane8{w: g.W, h: g.H, ch: 1, pix: g.Pix}, w, h, bicubicFilter)
	return &Gray{W: p.w, H: p.h, Pix: p.pix}
}

// ResizeBilinearGray resizes like Pillow's g.resize((w, h), Image.BILINEAR)
// (triangle filter, antialiased when downsampling), which is what
// torchvision's default Resize does to the reference's masks.
func ResizeBilinearGray(g *Gray, w, h int) *Gray {
	p := resample8(plane8{w: g.W, h: g.H, ch: 1, pix: g.Pix}, w, h, bilinearFilter)
	return &Gray{W: p.w, H: p.h, Pix: p.pix}
}

// resizeBicubic resizes in the source's own mode, as the reference does
// (its transform resizes the opened image and converts to RGB afterwards):
// "P" and "1" fall back to NEAREST, "RGBA"/"LA" are resized premultiplied
// and converted back, "I" uses Pillow's float64 path. A same-size resize is
// a plain copy in Pillow, skipping the premultiplication round trip.
func (s *source) resizeBicubic(w, h int) *source {
	checkSize(w, h)
	sw, sh := s.size()
	if w == sw && h == sh {
		return s
	}
	switch s.mode {
	case modeI:
		return &source{mode: modeI, pi: resampleI(s.pi, w, h, bicubicFilter)}
	case mode1, modeP:
		return &source{mode: s.mode, p8: resampleNearest8(s.p8, w, h)}
	case modeRGBA, modeLA:
		pre := plane8{w: s.p8.w, h: s.p8.h, ch: s.p8.ch, pix: append([]uint8(nil), s.p8.pix...)}
		premultiply(pre)
		out := resample8(pre, w, h, bicubicFilter)
		unpremultiply(out)
		return &source{mode: s.mode, p8: out}
	}
	return &source{mode: s.mode, p8: resample8(s.p8, w, h, bicubicFilter)}
}

// DecodeResize decodes a PNG or JPEG and resizes it to w x h the way the
// reference image transform does: PIL resize((w, h), BICUBIC) on the image
// as opened, then convert("RGB"). For RGB and grey files this equals
// ResizeBicubic(DecodeRGB(...)); for palette, alpha and 16-bit grey files it
// reproduces Pillow's mode-specific behaviour (see the package doc).
func DecodeResize(data []byte, w, h int, lim Limits) (*RGB, error) {
	if w < 1 || h < 1 {
		return nil, errSize(w, h)
	}
	src, err := decodeSource(data, lim)
	if err != nil {
		return nil, err
	}
	return src.resizeBicubic(w, h).toRGB(), nil
}

// ImageTensor is the whole reference image preprocessing: decode, resize
// to size x size (aspect not kept), convert to RGB, ToTensor, CLIP
// Normalize. The result is a float32 [3, size, size] tensor (CHW).
func ImageTensor(data []byte, size int, lim Limits) ([]float32, error) {
	img, err := DecodeResize(data, size, size, lim)
	if err != nil {
		return nil, err
	}
	return Normalize(img), nil
}
