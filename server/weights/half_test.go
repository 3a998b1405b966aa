package weights

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"unsafe"

	"dapo/server/clip"
	"dapo/shared/safetensors"
)

// BenchmarkDecodeHalfViTLBlock widens one ViT-L/14 block's four matrices
// (12.6M values), single-threaded: the per-block cost of Options.LazyHalf
// before clip spreads it over the cores.
func BenchmarkDecodeHalfViTLBlock(b *testing.B) {
	const n = 3*1024*1024 + 1024*1024 + 2*4096*1024
	rng := rand.New(rand.NewPCG(1, 1))
	for _, dt := range []safetensors.DType{safetensors.F16, safetensors.BF16} {
		b.Run(string(dt), func(b *testing.B) {
			raw := make([]byte, 2*n)
			for i := 0; i < n; i++ {
				x := float32(rng.NormFloat64() * 0.02)
				h := safetensors.Float32ToFloat16(x)
				if dt == safetensors.BF16 {
					h = safetensors.Float32ToBFloat16(x)
				}
				binary.LittleEndian.PutUint16(raw[2*i:], h)
			}
			h := &halfTensor{dt: dt, parts: [][]byte{raw}, n: n}
			dst := make([]float32, n)
			clear(dst) // fault the pages in before timing
			b.SetBytes(2 * n)
			for b.Loop() {
				h.Decode(dst, 0)
			}
		})
	}
}

// TestWidenF16Exhaustive: widenF16 agrees bit for bit with the reference
// converter on every half-precision value.
func TestWidenF16Exhaustive(t *testing.T) {
	src := make([]byte, 2*65536)
	for i := range 65536 {
		binary.LittleEndian.PutUint16(src[2*i:], uint16(i))
	}
	dst := make([]float32, 65536)
	widenF16(dst, src)
	for i := range 65536 {
		if got, want := math.Float32bits(dst[i]), math.Float32bits(safetensors.Float16ToFloat32(uint16(i))); got != want {
			t.Fatalf("widenF16(%#04x) = %#08x, want %#08x", i, got, want)
		}
	}
}

func BenchmarkDecodeFloat32F16Ref(b *testing.B) {
	const n = 3*1024*1024 + 1024*1024 + 2*4096*1024
	rng := rand.New(rand.NewPCG(1, 1))
	raw := make([]byte, 2*n)
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint16(raw[2*i:], safetensors.Float32ToFloat16(float32(rng.NormFloat64()*0.02)))
	}
	dst := make([]float32, n)
	clear(dst) // fault the pages in before timing
	for b.Loop() {
		safetensors.DecodeFloat32(dst, raw, safetensors.F16)
	}
}

// TestLazyHalfBitIdentical: F16 and BF16 backbones opened with LazyHalf
// keep every block matrix encoded in the mapping and give towers whose
// outputs are bit for bit those of the same file loaded dense, in the
// project and HF layouts and at a resized input.
func TestLazyHalfBitIdentical(t *testing.T) {
	r := loadRef(t)
	cfg := r.cfg
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	ids := make([][]int, 3)
	for n := range ids {
		ids[n] = make([]int, cfg.Text.ContextLength)
		for i := range ids[n][:5+n] {
			ids[n][i] = 1 + rng.IntN(cfg.Text.VocabSize-2)
		}
		ids[n][5+n] = cfg.Text.VocabSize - 1 // EOT, the largest id
	}
	for _, dt := range []safetensors.DType{safetensors.F16, safetensors.BF16} {
		dirs := map[string]string{"project": r.writeProject(t, r.asTensors(dt, nil)), "hf": r.writeHF(t, dt, nil)}
		for _, layout := range []string{"project", "hf"} {
			for _, size := range []int{0, (cfg.Grid() + 2) * cfg.Vision.PatchSize} {
				name := fmt.Sprintf("%s/%s/size%d", dt, layout, size)
				dense := mustOpen(t, dirs[layout], Options{ImageSize: size})
				lazy := mustOpen(t, dirs[layout], Options{ImageSize: size, LazyHalf: true})
				if dense.Weights.Encoded() {
					t.Fatalf("%s: a dense load holds encoded weights", name)
				}
				if lazy.ID != dense.ID {
					t.Errorf("%s: LazyHalf changed the backbone ID", name)
				}
				for _, bs := range [][]clip.Block{lazy.Weights.Vision.Blocks, lazy.Weights.Text.Blocks} {
					for i, b := range bs {
						for k, l := range []clip.Linear{b.InProj, b.OutProj, b.FC, b.Proj} {
							if !l.Encoded() || l.Weight != nil || len(l.Bias) != l.Out {
								t.Fatalf("%s: block %d matrix %d: encoded %v, weight %d values, bias %d", name, i, k, l.Encoded(), len(l.Weight), len(l.Bias))
							}
						}
					}
				}
				// The encoded matrices are the file's bytes, not copies.
				if layout == "project" {
					raw, _, err := lazy.ckpt.file.Raw("visual.transformer.resblocks.0.mlp.c_fc.weight")
					if err != nil {
						t.Fatal(err)
					}
					if enc := encodedOf(t, lazy.Weights.Vision.Blocks[0].FC); unsafe.Pointer(&enc.parts[0][0]) != unsafe.Pointer(&raw[0]) {
						t.Errorf("%s: an encoded matrix was copied out of the mapping", name)
					}
				}

				s := lazy.Config.Vision.ImageSize
				pixels := make([]float32, 2*3*s*s)
				for i := range pixels {
					pixels[i] = float32(rng.NormFloat64())
				}
				img := func(b *Backbone) []float32 {
					v, err := clip.NewVision(b.Weights).EncodeImage(ctx, slices.Clone(pixels), 2)
					if err != nil {
						t.Fatal(err)
					}
					return v
				}
				txt := func(b *Backbone) []float32 {
					v, err := clip.NewText(b.Weights).EncodeText(ctx, ids)
					if err != nil {
						t.Fatal(err)
					}
					return v
				}
				sameBits(t, name+" towers",
					map[string][]float32{"image": img(lazy), "text": txt(lazy)},
					map[string][]float32{"image": img(dense), "text": txt(dense)})
				lazy.Weights.Densify()
				sameBits(t, name+" densified", flatten(lazy.Weights), flatten(dense.Weights))
			}
		}
	}
}

// TestLazyHalfKeepsF32InPlace: LazyHalf changes nothing for F32 files.
func TestLazyHalfKeepsF32InPlace(t *testing.T) {
	r := loadRef(t)
	b := mustOpen(t, r.set.Dir, Options{LazyHalf: true})
	if b.Weights.Encoded() {
		t.Error("an F32 backbone was bound encoded")
	}
	sameBits(t, "F32 lazy", flatten(b.Weights), r.tensors)
}

// encodedOf digs the halfTensor out of an encoded Linear (test only: the
// field is unexported on purpose).
func encodedOf(t *testing.T, l clip.Linear) *halfTensor {
	t.Helper()
	f := reflect.ValueOf(&l).Elem().FieldByName("enc")
	h, ok := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface().(*halfTensor)
	if !ok {
		t.Fatal("encoded Linear does not hold a halfTensor")
	}
	return h
}

// TestHalfTensorDecodeWindows: any window [from, from+len) of a tensor
// stacked from parts decodes to the same values as the whole, for both
// dtypes (the towers decode in spans that cross the q, k, v parts).
func TestHalfTensorDecodeWindows(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for _, dt := range []safetensors.DType{safetensors.F16, safetensors.BF16} {
		var parts [][]byte
		var want []float32
		for _, n := range []int{7, 1, 12} {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			tt := safetensors.FromFloat32("p", []int{n}, v, dt)
			parts = append(parts, tt.Data)
			w := make([]float32, n)
			if err := safetensors.DecodeFloat32(w, tt.Data, dt); err != nil {
				t.Fatal(err)
			}
			want = append(want, w...)
		}
		h := &halfTensor{dt: dt, parts: parts, n: len(want)}
		for from := 0; from < h.n; from++ {
			for to := from + 1; to <= h.n; to++ {
				got := make([]float32, to-from)
				h.Decode(got, from)
				for i, g := range got {
					if math.Float32bits(g) != math.Float32bits(want[from+i]) {
						t.Fatalf("%s: window [%d,%d) value %d = %g, want %g", dt, from, to, from+i, g, want[from+i])
					}
				}
			}
		}
	}
}
