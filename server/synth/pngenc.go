package synth

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"io"
)

// A minimal PNG writer for the two image types Render returns. image/png
// tries all five row filters on every row and keeps the best; that search
// took a third of the time per image, while one fixed filter compresses
// these photos nearly as well: Paeth for the RGB images, Up for the masks
// (whose rows mostly repeat). Output is deterministic like image/png's.

var pngSignature = [8]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}

// PNG colour types and filter types used here.
const (
	pngGray     = 0
	pngRGB      = 2
	filterUp    = 2
	filterPaeth = 4
)

// encodePNG writes img (*image.RGBA, taken as opaque, or *image.Gray) as an
// 8-bit PNG.
func encodePNG(w io.Writer, img image.Image) error {
	var (
		colour, bpp, filter int
		pix                 []byte
		stride              int
	)
	switch m := img.(type) {
	case *image.RGBA:
		colour, bpp, filter, pix, stride = pngRGB, 3, filterPaeth, m.Pix, m.Stride
	case *image.Gray:
		colour, bpp, filter, pix, stride = pngGray, 1, filterUp, m.Pix, m.Stride
	default:
		return fmt.Errorf("png: unsupported image type %T", img)
	}
	b := img.Bounds()
	width, height := b.Dx(), b.Dy()
	var idat bytes.Buffer
	zw, err := zlib.NewWriterLevel(&idat, zlib.BestSpeed)
	if err != nil {
		return err
	}
	n := width * bpp
	prev, cur, out := make([]byte, n), make([]byte, n), make([]byte, 1+n)
	for y := range height {
		row := pix[y*stride:]
		if bpp == 3 { // drop alpha
			for x := range width {
				copy(cur[3*x:3*x+3], row[4*x:4*x+3])
			}
		} else {
			copy(cur, row[:n])
		}
		out[0] = byte(filter)
		for i := range n {
			var pred byte
			if filter == filterUp {
				pred = prev[i]
			} else {
				var a, c byte
				if i >= bpp {
					a, c = cur[i-bpp], prev[i-bpp]
				}
				pred = paeth(a, prev[i], c)
			}
			out[1+i] = cur[i] - pred
		}
		if _, err := zw.Write(out); err != nil {
			return err
		}
		prev, cur = cur, prev
	}
	if err := zw.Close(); err != nil {
		return err
	}
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(height))
	ihdr[8], ihdr[9] = 8, byte(colour) // bit depth, colour type; compression, filter, interlace 0
	if _, err := w.Write(pngSignature[:]); err != nil {
		return err
	}
	for _, c := range []struct {
		typ  string
		data []byte
	}{{"IHDR", ihdr[:]}, {"IDAT", idat.Bytes()}, {"IEND", nil}} {
		if err := writeChunk(w, c.typ, c.data); err != nil {
			return err
		}
	}
	return nil
}

func writeChunk(w io.Writer, typ string, data []byte) error {
	var head [8]byte
	binary.BigEndian.PutUint32(head[:4], uint32(len(data)))
	copy(head[4:], typ)
	crc := crc32.NewIEEE()
	crc.Write(head[4:])
	crc.Write(data)
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], crc.Sum32())
	for _, p := range [][]byte{head[:], data, tail[:]} {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// paeth is the PNG Paeth predictor of a byte from its left (a), upper (b)
// and upper-left (c) neighbours.
func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
