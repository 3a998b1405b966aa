package imaging

// Pillow's mode conversions (libImaging/Convert.c, Pillow 9.4), in the
// integer arithmetic Pillow uses.

// luma is Pillow's L24 formula: ITU-R 601-2 weights in 16.16 fixed point,
// rounded (rgb2l, p2l, rgba2l).
func luma(r, g, b uint8) uint8 {
	return uint8((uint32(r)*19595 + uint32(g)*38470 + uint32(b)*7471 + 0x8000) >> 16)
}

// mulDiv255 is Pillow's MULDIV255: a*b/255 rounded, without a division.
func mulDiv255(a, b uint8) uint8 {
	t := uint32(a)*uint32(b) + 128
	return uint8(((t >> 8) + t) >> 8)
}

// clipI8 clamps a mode-"I" value to a byte (i2l, i2rgb).
func clipI8(v int32) uint8 {
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v)
}

// cmykToRGB is Pillow 9's cmyk2rgb: (255-k) - c*(255-k)/255 per channel.
func cmykToRGB(c, m, y, k uint8) (uint8, uint8, uint8) {
	nk := 255 - k
	return nk - mulDiv255(c, nk), nk - mulDiv255(m, nk), nk - mulDiv255(y, nk)
}

// premultiply converts RGBA to RGBa or LA to La in place (alpha is the last
// channel), as Pillow does before resizing images with alpha.
func premultiply(p plane8) {
	nc := p.ch
	for i := 0; i < len(p.pix); i += nc {
		a := p.pix[i+nc-1]
		for c := 0; c < nc-1; c++ {
			p.pix[i+c] = mulDiv255(p.pix[i+c], a)
		}
	}
}

// unpremultiply is Pillow's rgba2rgbA / La to LA: colour*255/alpha
// truncated and clipped, left alone where alpha is 0 or 255.
func unpremultiply(p plane8) {
	nc := p.ch
	for i := 0; i < len(p.pix); i += nc {
		a := uint32(p.pix[i+nc-1])
		if a == 0 || a == 255 {
			continue
		}
		for c := 0; c < nc-1; c++ {
			v := 255 * uint32(p.pix[i+c]) / a
			if v > 255 {
				v = 255
			}
			p.pix[i+c] = uint8(v)
		}
	}
}

// toRGB is Pillow's convert("RGB") from the source mode.
func (s *source) toRGB() *RGB {
	w, h := s.size()
	out := &RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	o := out.Pix
	switch s.mode {
	case modeI:
		for i, v := range s.pi.pix {
			c := clipI8(v)
			o[3*i], o[3*i+1], o[3*i+2] = c, c, c
		}
	case mode1, modeL, modeLA:
		nc := s.p8.ch
		for i := 0; i < w*h; i++ {
			c := s.p8.pix[i*nc]
			o[3*i], o[3*i+1], o[3*i+2] = c, c, c
		}
	case modeP, modeRGB:
		copy(o, s.p8.pix)
	case modeRGBA:
		for i := 0; i < w*h; i++ {
			copy(o[3*i:3*i+3], s.p8.pix[4*i:4*i+3])
		}
	case modeCMYK:
		for i := 0; i < w*h; i++ {
			p := s.p8.pix[4*i : 4*i+4]
			o[3*i], o[3*i+1], o[3*i+2] = cmykToRGB(p[0], p[1], p[2], p[3])
		}
	}
	return out
}

// toL is Pillow's convert("L") from the source mode. CMYK has no direct
// conversion in Pillow, which goes through RGB.
func (s *source) toL() *Gray {
	w, h := s.size()
	out := &Gray{W: w, H: h, Pix: make([]uint8, w*h)}
	switch s.mode {
	case modeI:
		for i, v := range s.pi.pix {
			out.Pix[i] = clipI8(v)
		}
	case mode1, modeL, modeLA:
		nc := s.p8.ch
		for i := range out.Pix {
			out.Pix[i] = s.p8.pix[i*nc]
		}
	case modeP, modeRGB, modeRGBA:
		nc := s.p8.ch
		for i := range out.Pix {
			p := s.p8.pix[i*nc:]
			out.Pix[i] = luma(p[0], p[1], p[2])
		}
	case modeCMYK:
		for i := range out.Pix {
			p := s.p8.pix[4*i : 4*i+4]
			out.Pix[i] = luma(cmykToRGB(p[0], p[1], p[2], p[3]))
		}
	}
	return out
}
