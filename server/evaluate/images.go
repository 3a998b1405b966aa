package evaluate

import (
	"context"
	"fmt"
	"os"

	"dapo/server/dataset"
	"dapo/server/inference"
	"dapo/shared/imaging"
)

// loaded is one dataset image after the encoder.
type loaded struct {
	item  dataset.Item
	img   *inference.Image
	feats inference.Features
	// mask is the reference's S×S mask tensor (values k/255, > 0.5 is
	// foreground); nil when the item has no mask file.
	mask []float32
}

// encodeItems loads and encodes items batch by batch and calls fn for each
// in order; done (optional) is told the batch size after every batch. A
// file that cannot be read stops the run: skipping it would silently bias
// the metrics.
func encodeItems(ctx context.Context, det *inference.Detector, items []dataset.Item, batch int, fn func(int, loaded) error, done func(int)) error {
	batch = max(batch, 1)
	for start := 0; start < len(items); start += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(start+batch, len(items))
		imgs := make([]*inference.Image, 0, end-start)
		masks := make([][]float32, 0, end-start)
		for _, it := range items[start:end] {
			im, err := det.LoadImage(it.ImagePath)
			if err != nil {
				return fmt.Errorf("product %s: %w", it.Product, err)
			}
			m, err := loadMask(it.MaskPath, det.Size(), det.Limits)
			if err != nil {
				return fmt.Errorf("product %s: %w", it.Product, err)
			}
			imgs, masks = append(imgs, im), append(masks, m)
		}
		feats, err := det.EncodeImages(ctx, imgs)
		if err != nil {
			return fmt.Errorf("encode %s: %w", items[start].ImagePath, err)
		}
		for k := range imgs {
			if err := fn(start+k, loaded{item: items[start+k], img: imgs[k], feats: feats[k], mask: masks[k]}); err != nil {
				return err
			}
		}
		if done != nil {
			done(end - start)
		}
	}
	return nil
}

// loadMask applies the reference's test-time mask transform at the model's
// size; "" gives nil (an all-normal image).
func loadMask(path string, size int, lim imaging.Limits) ([]float32, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read mask: %w", err)
	}
	m, err := imaging.MaskTensor(data, size, lim)
	if err != nil {
		return nil, fmt.Errorf("mask %s: %w", path, err)
	}
	return m, nil
}

// hasForeground says whether a mask tensor has a pixel above 0.5.
func hasForeground(mask []float32) bool {
	for _, v := range mask {
		if v > 0.5 {
			return true
		}
	}
	return false
}
