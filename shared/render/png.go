package render

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
)

// EncodePNG writes img as PNG; BestSpeed because renders are produced per
// request and their size matters less than latency.
func EncodePNG(w io.Writer, img image.Image) error {
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(w, img); err != nil {
		return fmt.Errorf("render: encode PNG: %w", err)
	}
	return nil
}

// PNGBytes encodes img as PNG into memory (for HTTP responses and the
// browser's Blob URLs).
func PNGBytes(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := EncodePNG(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
