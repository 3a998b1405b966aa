package imaging

import "fmt"

// CLIP's normalisation constants (open_clip OPENAI_DATASET_MEAN/STD), as
// float32 like the tensors torchvision builds from them.
const (
	meanR float32 = 0.48145466
	meanG float32 = 0.4578275
	meanB float32 = 0.40821073
	stdR  float32 = 0.26862954
	stdG  float32 = 0.26130258
	stdB  float32 = 0.27577711
)

// CLIPMean returns the per-channel mean used by Normalize.
func CLIPMean() [3]float32 { return [3]float32{meanR, meanG, meanB} }

// CLIPStd returns the per-channel standard deviation used by Normalize.
func CLIPStd() [3]float32 { return [3]float32{stdR, stdG, stdB} }

// Normalize converts an RGB image to a float32 [3, H, W] tensor exactly as
// torchvision's ToTensor (v / 255 in float32) followed by Normalize
// ((x - mean) / std in float32) does, operation for operation, so the
// result is bit-identical.
func Normalize(img *RGB) []float32 {
	n := img.W * img.H
	out := make([]float32, 3*n)
	mean, std := CLIPMean(), CLIPStd()
	for c := 0; c < 3; c++ {
		m, s := mean[c], std[c]
		dst := out[c*n : (c+1)*n]
		for i := range dst {
			x := float32(img.Pix[3*i+c]) / 255
			dst[i] = (x - m) / s
		}
	}
	return out
}

func errSize(w, h int) error {
	return fmt.Errorf("imaging: target size %dx%d: width and height must be > 0", w, h)
}
