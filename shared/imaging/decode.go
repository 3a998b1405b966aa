package imaging

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
)

// Default limits. 1<<26 pixels (64 Mi, e.g. 8192x8192) is far above any
// anomaly-detection dataset image and far below what would exhaust memory.
const (
	DefaultMaxPixels = 1 << 26
	DefaultMaxBytes  = 1 << 30
)

// Limits bounds what a decoder accepts. Zero fields take the defaults.
type Limits struct {
	// MaxPixels bounds width*height, checked from the header before any
	// pixel is decoded (decompression bombs).
	MaxPixels int64
	// MaxBytes bounds the encoded size read from an io.Reader.
	MaxBytes int64
}

func (l Limits) maxPixels() int64 {
	if l.MaxPixels > 0 {
		return l.MaxPixels
	}
	return DefaultMaxPixels
}

func (l Limits) maxBytes() int64 {
	if l.MaxBytes > 0 {
		return l.MaxBytes
	}
	return DefaultMaxBytes
}

// Errors callers may test with errors.Is.
var (
	ErrUnsupportedFormat = errors.New("imaging: unsupported image format")
	ErrTooLarge          = errors.New("imaging: image exceeds the size limit")
)

// RGB is an 8-bit RGB image, row-major, 3 bytes per pixel (HWC).
type RGB struct {
	W, H int
	Pix  []uint8
}

// Gray is an 8-bit single-channel image (Pillow mode "L"), row-major.
type Gray struct {
	W, H int
	Pix  []uint8
}

// mode is the Pillow mode a file opens as; it decides how Pillow resizes
// and converts it.
type mode int

const (
	mode1    mode = iota // bilevel; stored as L with values 0/255
	modeL                // 8-bit grey (also 1/2/4-bit grey scaled, as Pillow does)
	modeP                // palette; stored expanded to RGB (its resize is NEAREST)
	modeRGB              // 8-bit RGB (16-bit RGB PNGs keep the high byte)
	modeRGBA             // straight (not premultiplied) RGBA
	modeLA               // grey + alpha, stored as 2 channels
	modeI                // 32-bit integer: what Pillow 9 makes of 16-bit grey PNGs
	modeCMYK             // CMYK JPEG, ink values (not inverted)
)

var modeNames = [...]string{"1", "L", "P", "RGB", "RGBA", "LA", "I", "CMYK"}

func (m mode) String() string { return modeNames[m] }

// source is a decoded image in its Pillow mode.
type source struct {
	mode mode
	p8   plane8 // every mode but I
	pi   planeI // mode I
}

func (s *source) size() (int, int) {
	if s.mode == modeI {
		return s.pi.w, s.pi.h
	}
	return s.p8.w, s.p8.h
}

// readAll reads at most lim.maxBytes() bytes, failing beyond that.
func readAll(r io.Reader, lim Limits) ([]byte, error) {
	max := lim.maxBytes()
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("imaging: read: %w", err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: encoded data exceeds %d bytes", ErrTooLarge, max)
	}
	return data, nil
}

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// sniff names the container format from its magic bytes.
func sniff(b []byte) string {
	has := func(off int, m string) bool {
		return len(b) >= off+len(m) && string(b[off:off+len(m)]) == m
	}
	switch {
	case len(b) == 0:
		return "empty input"
	case bytes.HasPrefix(b, pngMagic):
		return "png"
	case has(0, "\xff\xd8\xff"):
		return "jpeg"
	case has(0, "GIF87a"), has(0, "GIF89a"):
		return "GIF"
	case has(0, "BM"):
		return "BMP"
	case has(0, "II*\x00"), has(0, "MM\x00*"):
		return "TIFF"
	case has(0, "RIFF") && has(8, "WEBP"):
		return "WebP"
	case has(4, "ftypavif"), has(4, "ftypavis"):
		return "AVIF"
	case has(4, "ftypheic"), has(4, "ftypheix"), has(4, "ftypmif1"):
		return "HEIF"
	case has(0, "\x00\x00\x00\x0cjP  "), has(0, "\xff\x4f\xff\x51"):
		return "JPEG 2000"
	case has(0, "\x00\x00\x01\x00"):
		return "ICO"
	case has(0, "8BPS"):
		return "PSD"
	case has(0, "qoif"):
		return "QOI"
	case has(0, "%PDF"):
		return "PDF"
	case has(0, "PK\x03\x04"):
		return "ZIP archive"
	case has(0, "\x1f\x8b"):
		return "gzip data"
	case len(b) >= 2 && b[0] == 'P' && b[1] >= '1' && b[1] <= '7':
		return "PNM"
	}
	return "unknown data"
}

// decodeSource decodes PNG or JPEG bytes into their Pillow mode, refusing
// images above the pixel limit before their pixels are decoded.
func decodeSource(data []byte, lim Limits) (src *source, err error) {
	format := sniff(data)
	var cfg image.Config
	switch format {
	case "png":
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case "jpeg":
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	default:
		return nil, fmt.Errorf("%w: %s (only PNG and JPEG are read)", ErrUnsupportedFormat, format)
	}
	if err != nil {
		return nil, fmt.Errorf("imaging: %s header: %w", format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("imaging: %s header: empty image %dx%d", format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > lim.maxPixels() {
		return nil, fmt.Errorf("%w: %s is %dx%d = %d pixels, limit %d", ErrTooLarge, format, cfg.Width, cfg.Height, px, lim.maxPixels())
	}
	// Defence in depth: a decoder bug must surface as an error, not bring
	// down a server.
	defer func() {
		if r := recover(); r != nil {
			src, err = nil, fmt.Errorf("imaging: %s decoder failed: %v", format, r)
		}
	}()
	var img image.Image
	if format == "png" {
		img, err = png.Decode(bytes.NewReader(data))
	} else {
		img, err = jpeg.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("imaging: decode %s: %w", format, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, fmt.Errorf("imaging: decode %s: got %dx%d, header says %dx%d", format, b.Dx(), b.Dy(), cfg.Width, cfg.Height)
	}
	if format == "png" {
		// DecodeConfig has checked that IHDR comes first: bit depth at
		// byte 24, colour type at 25.
		return fromPNG(img, data[24], data[25])
	}
	return fromJPEG(img)
}

// fromPNG maps Go's decoded PNG to the mode Pillow 9 opens it as. Go's
// image type alone is not enough (a tRNS chunk turns grey or RGB into
// NRGBA), so the IHDR colour type decides.
func fromPNG(img image.Image, depth, colorType uint8) (*source, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	switch colorType {
	case 0: // grey
		if depth == 16 {
			return &source{mode: modeI, pi: planeI{w: w, h: h, pix: grey16(img)}}, nil
		}
		m := modeL
		if depth == 1 {
			m = mode1
		}
		return &source{mode: m, p8: pick(img, 1, 0)}, nil
	case 2:
		return &source{mode: modeRGB, p8: pick(img, 3, 0, 1, 2)}, nil
	case 3:
		return &source{mode: modeP, p8: pick(img, 3, 0, 1, 2)}, nil
	case 4:
		if depth == 16 {
			// Pillow 9 opens 16-bit grey+alpha as RGBA ("LA;16B" rawmode).
			return &source{mode: modeRGBA, p8: pick(img, 4, 0, 1, 2, 3)}, nil
		}
		return &source{mode: modeLA, p8: pick(img, 2, 0, 3)}, nil
	case 6:
		return &source{mode: modeRGBA, p8: pick(img, 4, 0, 1, 2, 3)}, nil
	}
	return nil, fmt.Errorf("imaging: png: unexpected colour type %d", colorType)
}

// fromJPEG maps Go's decoded JPEG to Pillow's mode: grey "L", colour "RGB",
// four-channel "CMYK".
func fromJPEG(img image.Image) (*source, error) {
	switch m := img.(type) {
	case *image.Gray:
		return &source{mode: modeL, p8: pick(img, 1, 0)}, nil
	case *image.CMYK:
		return &source{mode: modeCMYK, p8: pick(img, 4, 0, 1, 2, 3)}, nil
	case *image.YCbCr:
		return &source{mode: modeRGB, p8: ycbcrToRGB(m)}, nil
	}
	return &source{mode: modeRGB, p8: pick(img, 3, 0, 1, 2)}, nil
}

// pick copies the given channels (indices into straight R,G,B,A, or C,M,Y,K
// for CMYK images) into an interleaved plane. 16-bit samples keep their
// high byte, which is what Pillow's ";16B" unpackers do.
func pick(img image.Image, nc int, chans ...int) plane8 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	p := plane8{w: w, h: h, ch: nc, pix: make([]uint8, w*h*nc)}
	if pickFast(img, p, chans) {
		return p
	}
	var px [4]uint8
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			straight(img, b.Min.X+x, b.Min.Y+y, &px)
			o := (y*w + x) * nc
			for i, c := range chans {
				p.pix[o+i] = px[c]
			}
		}
	}
	return p
}

// pickFast copies whole rows for the common 8-bit layouts whose channels
// are already straight and in order (RGB(A) from RGBA/NRGBA, grey from Gray).
func pickFast(img image.Image, p plane8, chans []int) bool {
	for i, c := range chans {
		if c != i {
			return false
		}
	}
	var pix []uint8
	var stride, step int
	b := img.Bounds()
	switch m := img.(type) {
	case *image.RGBA:
		pix, stride, step = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 4
	case *image.NRGBA:
		pix, stride, step = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 4
	case *image.Gray:
		pix, stride, step = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 1
	default:
		return false
	}
	if p.ch > step {
		return false
	}
	for y := 0; y < p.h; y++ {
		src := pix[y*stride : y*stride+p.w*step]
		dst := p.pix[y*p.w*p.ch : (y+1)*p.w*p.ch]
		if step == p.ch {
			copy(dst, src)
			continue
		}
		for x := 0; x < p.w; x++ {
			copy(dst[x*p.ch:x*p.ch+p.ch], src[x*step:x*step+p.ch])
		}
	}
	return true
}

// straight writes the pixel's non-premultiplied 8-bit channels. Go's
// decoders give straight colour for NRGBA/NRGBA64/palette entries; RGBA and
// RGBA64 only come out of them fully opaque, where straight = premultiplied.
func straight(img image.Image, x, y int, px *[4]uint8) {
	switch m := img.(type) {
	case *image.Gray:
		v := m.Pix[m.PixOffset(x, y)]
		*px = [4]uint8{v, v, v, 255}
	case *image.RGBA:
		i := m.PixOffset(x, y)
		copy(px[:], m.Pix[i:i+4])
	case *image.NRGBA:
		i := m.PixOffset(x, y)
		copy(px[:], m.Pix[i:i+4])
	case *image.RGBA64:
		i := m.PixOffset(x, y)
		*px = [4]uint8{m.Pix[i], m.Pix[i+2], m.Pix[i+4], m.Pix[i+6]}
	case *image.NRGBA64:
		i := m.PixOffset(x, y)
		*px = [4]uint8{m.Pix[i], m.Pix[i+2], m.Pix[i+4], m.Pix[i+6]}
	case *image.Gray16:
		v := m.Pix[m.PixOffset(x, y)]
		*px = [4]uint8{v, v, v, 255}
	case *image.CMYK:
		i := m.PixOffset(x, y)
		copy(px[:], m.Pix[i:i+4])
	case *image.Paletted:
		idx := m.Pix[m.PixOffset(x, y)]
		var c color.Color = color.Black
		if int(idx) < len(m.Palette) {
			c = m.Palette[idx]
		}
		n := color.NRGBAModel.Convert(c).(color.NRGBA)
		if nc, ok := c.(color.NRGBA); ok {
			n = nc // keep colour under alpha 0 exactly
		}
		*px = [4]uint8{n.R, n.G, n.B, n.A}
	case *image.YCbCr:
		yi, ci := m.YOffset(x, y), m.COffset(x, y)
		r, g, b := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
		*px = [4]uint8{r, g, b, 255}
	default:
		n := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
		*px = [4]uint8{n.R, n.G, n.B, n.A}
	}
}

// grey16 reads the full 16-bit grey value of each pixel (mode "I").
func grey16(img image.Image) []int32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]int32, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var v uint16
			switch m := img.(type) {
			case *image.Gray16:
				i := m.PixOffset(b.Min.X+x, b.Min.Y+y)
				v = uint16(m.Pix[i])<<8 | uint16(m.Pix[i+1])
			case *image.NRGBA64: // grey with tRNS: R = G = B = grey
				i := m.PixOffset(b.Min.X+x, b.Min.Y+y)
				v = uint16(m.Pix[i])<<8 | uint16(m.Pix[i+1])
			default:
				r, _, _, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				v = uint16(r)
			}
			out[y*w+x] = int32(v)
		}
	}
	return out
}

// DecodeRGB decodes a PNG or JPEG like Pillow's Image.open(f).convert("RGB"):
// grey replicated, palettes expanded, alpha dropped without premultiplying,
// 16-bit RGB(A) reduced to the high byte, 16-bit grey clipped to 255 (see
// the package documentation).
func DecodeRGB(r io.Reader, lim Limits) (*RGB, error) {
	data, err := readAll(r, lim)
	if err != nil {
		return nil, err
	}
	return DecodeRGBBytes(data, lim)
}

// DecodeRGBBytes is DecodeRGB on an in-memory file.
func DecodeRGBBytes(data []byte, lim Limits) (*RGB, error) {
	src, err := decodeSource(data, lim)
	if err != nil {
		return nil, err
	}
	return src.toRGB(), nil
}

// DecodeMaskL decodes a PNG or JPEG like Pillow's
// Image.open(f).convert("L") (ITU-R 601-2 luma for colour images).
func DecodeMaskL(r io.Reader, lim Limits) (*Gray, error) {
	data, err := readAll(r, lim)
	if err != nil {
		return nil, err
	}
	return DecodeMaskLBytes(data, lim)
}

// DecodeMaskLBytes is DecodeMaskL on an in-memory file.
func DecodeMaskLBytes(data []byte, lim Limits) (*Gray, error) {
	src, err := decodeSource(data, lim)
	if err != nil {
		return nil, err
	}
	return src.toL(), nil
}
