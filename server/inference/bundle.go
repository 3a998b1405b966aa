package inference

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"path/filepath"

	"dapo/shared/bundle"
	"dapo/shared/imaging"
	"dapo/shared/render"
)

// ThumbnailSide bounds the JPEG preview stored in a bundle.
const ThumbnailSide = 256

// Bundle assembles one image's feature bundle (docs/bundle.md): everything
// the browser needs to re-score the image without the server.
func (d *Detector) Bundle(im *Image, ft Features, checkpoint bundle.Model, withJPEG bool) (*bundle.Bundle, error) {
	b := &bundle.Bundle{
		Meta: bundle.Meta{
			Backbone:      bundle.Model{ID: d.Backbone.ID, Name: filepath.Base(d.Backbone.Dir)},
			Checkpoint:    checkpoint,
			ImageSize:     d.Size(),
			Grid:          d.Grid(),
			FeatureLayers: d.Config.FeatureLayers,
			Classes:       d.Classes(),
			Temperature:   float32(d.Config.Temperature),
			Image:         bundle.Image{Name: filepath.Base(im.Path), Width: im.Original.W, Height: im.Original.H},
		},
		Global: ft.Global,
		Layers: ft.Layers,
		Text:   d.Text,
	}
	if withJPEG {
		j, err := Thumbnail(im.Original)
		if err != nil {
			return nil, err
		}
		b.JPEG = j
	}
	return b, nil
}

// Thumbnail is a JPEG of the image scaled to at most ThumbnailSide.
func Thumbnail(img *imaging.RGB) ([]byte, error) {
	if m := max(img.W, img.H); m > ThumbnailSide {
		img = imaging.ResizeBicubic(img, max(1, img.W*ThumbnailSide/m), max(1, img.H*ThumbnailSide/m))
	}
	rgba, err := render.RGBImage(img.Pix, img.W, img.H)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: 85}); err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	return buf.Bytes(), nil
}
