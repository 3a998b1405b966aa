package inference

import (
	"context"
	"fmt"
	"os"

	"dapo/shared/imaging"
)

// Image is a decoded input image: the original pixels (for overlays at the
// original size) and the model's input tensor.
type Image struct {
	Path     string
	Original *imaging.RGB
	Tensor   []float32 // [3,S,S] preprocessed as the reference does
}

// LoadImage reads and preprocesses one image file.
func (d *Detector) LoadImage(path string) (*Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read image: %w", err)
	}
	return d.DecodeImage(path, data)
}

// DecodeImage preprocesses encoded image bytes; name labels errors.
func (d *Detector) DecodeImage(name string, data []byte) (*Image, error) {
	orig, err := imaging.DecodeRGBBytes(data, d.Limits)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", name, err)
	}
	t, err := imaging.ImageTensor(data, d.Size(), d.Limits)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", name, err)
	}
	return &Image{Path: name, Original: orig, Tensor: t}, nil
}

// EncodeImages encodes loaded images in one batch.
func (d *Detector) EncodeImages(ctx context.Context, imgs []*Image) ([]Features, error) {
	s := d.Size()
	pixels := make([]float32, 0, len(imgs)*3*s*s)
	for _, im := range imgs {
		pixels = append(pixels, im.Tensor...)
	}
	return d.Encode(ctx, pixels, len(imgs))
}
