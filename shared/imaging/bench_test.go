package imaging

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"testing"
)

func pngEncode(w io.Writer, img image.Image) error { return png.Encode(w, img) }

// benchImage is a 1024x1024 photo-like image: smooth gradients plus noise,
// so that PNG compression and JPEG behave realistically.
func benchImage() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 1024, 1024))
	rng := rand.New(rand.NewPCG(3, 4))
	for y := 0; y < 1024; y++ {
		for x := 0; x < 1024; x++ {
			i := img.PixOffset(x, y)
			n := uint8(rng.IntN(16))
			img.Pix[i] = uint8(x/4) + n
			img.Pix[i+1] = uint8(y/4) + n
			img.Pix[i+2] = uint8((x+y)/8) + n
			img.Pix[i+3] = 255
		}
	}
	return img
}

func benchPipeline(b *testing.B, encode func(io.Writer, image.Image) error, size int) {
	var buf bytes.Buffer
	if err := encode(&buf, benchImage()); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ImageTensor(data, size, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func jpegEncode(w io.Writer, img image.Image) error {
	return jpeg.Encode(w, img, &jpeg.Options{Quality: 90})
}

func BenchmarkPipelinePNG518(b *testing.B)  { benchPipeline(b, pngEncode, 518) }
func BenchmarkPipelinePNG336(b *testing.B)  { benchPipeline(b, pngEncode, 336) }
func BenchmarkPipelineJPEG518(b *testing.B) { benchPipeline(b, jpegEncode, 518) }
func BenchmarkPipelineJPEG336(b *testing.B) { benchPipeline(b, jpegEncode, 336) }

func BenchmarkResizeBicubic1024To518(b *testing.B) {
	img := benchImage()
	rgb := &RGB{W: 1024, H: 1024, Pix: make([]uint8, 1024*1024*3)}
	for i := 0; i < 1024*1024; i++ {
		copy(rgb.Pix[3*i:3*i+3], img.Pix[4*i:4*i+3])
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ResizeBicubic(rgb, 518, 518)
	}
}
