package imaging

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"dapo/shared/golden"
	"dapo/shared/safetensors"
)

// imageSize reads S from the golden set (model_config.json) and checks it
// against the preprocess tensor shapes.
func imageSize(t *testing.T, set *golden.Set) int {
	t.Helper()
	var cfg struct {
		VisionCfg struct {
			ImageSize int `json:"image_size"`
		} `json:"vision_cfg"`
	}
	set.JSON(t, "model_config.json", &cfg)
	s := cfg.VisionCfg.ImageSize
	if s < 1 {
		t.Fatalf("model_config.json: bad vision_cfg.image_size %d", s)
	}
	_, shape := set.Float32(t, "preprocess", "image_0.tensor")
	if len(shape) != 3 || shape[0] != 3 || shape[1] != s || shape[2] != s {
		t.Fatalf("preprocess image_0.tensor shape %v disagrees with image_size %d", shape, s)
	}
	return s
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func u8ToInt64(p []uint8) []int64 {
	out := make([]int64, len(p))
	for i, v := range p {
		out[i] = int64(v)
	}
	return out
}

// exactFloat32 counts values that are not bit-identical.
func exactFloat32(got, want []float32) (mismatch int, maxDiff float64) {
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			mismatch++
		}
		maxDiff = math.Max(maxDiff, math.Abs(float64(got[i])-float64(want[i])))
	}
	return
}

func TestGoldenPreprocessImages(t *testing.T) {
	set := golden.Load(t)
	s := imageSize(t, set)
	n := 0
	for i := 0; set.HasTensor(t, "preprocess", fmt.Sprintf("image_%d.tensor", i)); i++ {
		n++
		name := fmt.Sprintf("image_%d", i)
		data := readFile(t, set.Path(name+".png"))
		img, err := DecodeResize(data, s, s, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if set.HasTensor(t, "preprocess", name+".resized_u8") {
			set.CompareInt64(t, "preprocess", name+".resized_u8", u8ToInt64(img.Pix))
		}
		// For RGB and grey files the public two-step path is the same.
		if src, err := decodeSource(data, Limits{}); err == nil && (src.mode == modeRGB || src.mode == modeL) {
			rgb, err := DecodeRGBBytes(data, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if two := ResizeBicubic(rgb, s, s); string(two.Pix) != string(img.Pix) {
				t.Errorf("%s: DecodeRGB+ResizeBicubic differs from DecodeResize", name)
			}
		}
		got, err := ImageTensor(data, s, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		set.CompareFloat32(t, "preprocess", name+".tensor", got)
		want, _ := set.Float32(t, "preprocess", name+".tensor")
		if len(want) == len(got) {
			bad, d := exactFloat32(got, want)
			t.Logf("%s.tensor: %d of %d values not bit-identical (max diff %g)", name, bad, len(want), d)
		}
	}
	if n == 0 {
		t.Fatal("preprocess.safetensors has no image_{i}.tensor")
	}
}

// maskTensors computes mask_i.tensor for every image of the set, comparing
// each to the golden one, and returns them.
func maskTensors(t *testing.T, set *golden.Set, s int) [][]float32 {
	var masks [][]float32
	for i := 0; set.HasTensor(t, "preprocess", fmt.Sprintf("mask_%d.tensor", i)); i++ {
		name := fmt.Sprintf("mask_%d", i)
		path := set.Path(name + ".png")
		var m []float32
		if _, err := os.Stat(path); err == nil {
			data := readFile(t, path)
			g, err := DecodeMaskLBytes(data, Limits{})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if set.HasTensor(t, "preprocess", name+".binarised_u8") {
				set.CompareInt64(t, "preprocess", name+".binarised_u8", u8ToInt64(BinariseMask(g).Pix))
			}
			if m, err = MaskTensor(data, s, Limits{}); err != nil {
				t.Fatal(err)
			}
		} else {
			m = ZeroMask(s) // normal image: no mask file
		}
		set.CompareFloat32(t, "preprocess", name+".tensor", m)
		masks = append(masks, m)
	}
	if len(masks) == 0 {
		t.Fatal("preprocess.safetensors has no mask_{i}.tensor")
	}
	return masks
}

func TestGoldenPreprocessMasks(t *testing.T) {
	set := golden.Load(t)
	s := imageSize(t, set)
	masks := maskTensors(t, set, s)
	var test []float32
	for _, m := range masks {
		test = append(test, BinariseTest(m)...)
	}
	set.CompareFloat32(t, "preprocess", "mask_test_binarised", test)

	// train.py's targets (cast quirk) for the same batch.
	if !set.HasTensor(t, "train_step", "batch.gt_b") {
		return
	}
	cls, _ := set.Int64(t, "train_step", "batch.cls_id")
	if len(cls) != len(masks) {
		t.Fatalf("train_step batch has %d images, preprocess %d masks", len(cls), len(masks))
	}
	var gtb, gt []int64
	for i, m := range masks {
		gtb = append(gtb, BinariseTrainCast(m)...)
		gt = append(gt, TrainClassTarget(m, cls[i])...)
	}
	set.CompareInt64(t, "train_step", "batch.gt_b", gtb)
	set.CompareInt64(t, "train_step", "batch.gt", gt)
}

// resizeSet is the resize/ sub-folder of a golden set.
type resizeSet struct {
	dir  string
	file *safetensors.File
	meta struct {
		Sizes  []int  `json:"resize_sizes"`
		Source string `json:"source_image"`
	}
}

func loadResize(t *testing.T) *resizeSet {
	set := golden.Load(t)
	dir := set.Path("resize")
	if _, err := os.Stat(filepath.Join(dir, "resize.safetensors")); err != nil {
		t.Skipf("no resize goldens in %s", dir)
	}
	r := &resizeSet{dir: dir}
	f, err := safetensors.Parse(readFile(t, filepath.Join(dir, "resize.safetensors")))
	if err != nil {
		t.Fatal(err)
	}
	r.file = f
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "resize.json")), &r.meta); err != nil {
		t.Fatalf("resize.json: %v", err)
	}
	return r
}

// compareU8 requires bit-exact equality and reports how far off a failure is.
func compareU8(t *testing.T, f *safetensors.File, name string, got *RGB) {
	t.Helper()
	want, shape, err := f.Int64(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(shape) != 3 || shape[0] != got.H || shape[1] != got.W || shape[2] != 3 {
		t.Fatalf("%s: golden shape %v, got %dx%dx3", name, shape, got.H, got.W)
	}
	bad, worst := 0, int64(0)
	for i, w := range want {
		if d := int64(got.Pix[i]) - w; d != 0 {
			bad++
			if d < 0 {
				d = -d
			}
			if d > worst {
				worst = d
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values differ (max %d levels)", name, bad, len(want), worst)
		return
	}
	t.Logf("%s: %d values, 0 mismatches", name, len(want))
}

func TestGoldenResizeBicubic(t *testing.T) {
	r := loadResize(t)
	if len(r.meta.Sizes) == 0 || r.meta.Source == "" {
		t.Fatal("resize.json lists no resize_sizes / source_image")
	}
	src := readFile(t, filepath.Join(r.dir, r.meta.Source))
	img, err := DecodeRGBBytes(src, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.meta.Sizes {
		compareU8(t, r.file, fmt.Sprintf("resize.%d.u8", s), ResizeBicubic(img, s, s))
	}
}

// TestGoldenResizeLarge covers the non-square source (large.png), for every
// large.resize.{S}.u8 in the file.
func TestGoldenResizeLarge(t *testing.T) {
	r := loadResize(t)
	re := regexp.MustCompile(`^large\.resize\.(\d+)\.u8$`)
	n := 0
	for _, name := range r.file.Names() {
		m := re.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		s, _ := strconv.Atoi(m[1])
		got, err := DecodeResize(readFile(t, filepath.Join(r.dir, "large.png")), s, s, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		compareU8(t, r.file, name, got)
		n++
	}
	if n == 0 {
		t.Skip("no large.resize.* tensors")
	}
}

func TestGoldenResizeMaskBilinear(t *testing.T) {
	r := loadResize(t)
	re := regexp.MustCompile(`^mask\.resize\.(\d+)$`)
	n := 0
	for _, name := range r.file.Names() {
		m := re.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		n++
		want, shape, err := r.file.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := strconv.Atoi(m[1])
		if len(shape) != 2 || shape[0] != s || shape[1] != s {
			t.Fatalf("%s: shape %v", name, shape)
		}
		g, err := DecodeMaskLBytes(readFile(t, filepath.Join(r.dir, "mask.png")), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		out := ResizeBilinearGray(g, s, s)
		got := make([]float32, len(out.Pix))
		for i, v := range out.Pix {
			got[i] = float32(v) / 255
		}
		bad, d := exactFloat32(got, want)
		if d > 1e-5 {
			t.Errorf("%s: max |diff| %g > 1e-5 (%d values differ)", name, d, bad)
		}
		t.Logf("%s: %d values, %d not bit-identical, max diff %g", name, len(want), bad, d)
	}
	if n == 0 {
		t.Skip("no mask.resize.* tensors")
	}
}
