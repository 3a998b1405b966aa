package imaging

// BinariseMask is the reference Dataset's mask binarisation: every value
// above 0 becomes 255.
func BinariseMask(g *Gray) *Gray {
	out := &Gray{W: g.W, H: g.H, Pix: make([]uint8, len(g.Pix))}
	for i, v := range g.Pix {
		if v > 0 {
			out.Pix[i] = 255
		}
	}
	return out
}

// MaskFromGray is the reference mask transform on an already decoded "L"
// mask: binarise (>0 -> 255), Pillow BILINEAR resize to size x size, then
// ToTensor (v / 255 in float32). The result is [size*size] (a [1,S,S]
// tensor) with values k/255.
func MaskFromGray(g *Gray, size int) []float32 {
	r := ResizeBilinearGray(BinariseMask(g), size, size)
	out := make([]float32, len(r.Pix))
	for i, v := range r.Pix {
		out[i] = float32(v) / 255
	}
	return out
}

// MaskTensor decodes a mask file (PNG or JPEG, converted to "L" as Pillow
// does) and applies MaskFromGray.
func MaskTensor(data []byte, size int, lim Limits) ([]float32, error) {
	if size < 1 {
		return nil, errSize(size, size)
	}
	g, err := DecodeMaskLBytes(data, lim)
	if err != nil {
		return nil, err
	}
	return MaskFromGray(g, size), nil
}

// ZeroMask is the mask of a normal image (no mask file): size*size zeros.
func ZeroMask(size int) []float32 { return make([]float32, size*size) }

// BinariseTest is test.py's binarisation of a mask tensor: 1 where the
// value is above 0.5, else 0.
func BinariseTest(mask []float32) []float32 {
	out := make([]float32, len(mask))
	for i, v := range mask {
		if v > 0.5 {
			out[i] = 1
		}
	}
	return out
}

// BinariseTrainCast is train.py's binary target gt_b: the float mask is cast
// to int64 BEFORE thresholding, which truncates every value below 1 to 0, so
// only pixels that are exactly 1.0 after the resize count as foreground.
func BinariseTrainCast(mask []float32) []int64 {
	out := make([]int64, len(mask))
	for i, v := range mask {
		if int64(v) > 0 { // the cast, then "> 0.5"
			out[i] = 1
		}
	}
	return out
}

// TrainClassTarget is train.py's multi-class target gt: BinariseTrainCast,
// with the foreground set to the image's class id.
func TrainClassTarget(mask []float32, classID int64) []int64 {
	out := BinariseTrainCast(mask)
	for i, v := range out {
		out[i] = v * classID
	}
	return out
}
