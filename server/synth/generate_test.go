package synth

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"dapo/server/dataset"
)

// readTree maps every file under root (slash paths) to its bytes.
func readTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGenerateDeterministic generates twice, with different worker counts,
// and wants byte-identical trees.
func TestGenerateDeterministic(t *testing.T) {
	for _, fam := range []string{FamilyA, FamilyB} {
		d1, d2 := t.TempDir(), t.TempDir()
		if _, err := Generate(context.Background(), d1, Options{Family: fam, N: 4, Size: 48, Seed: 3, Workers: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := Generate(context.Background(), d2, Options{Family: fam, N: 4, Size: 48, Seed: 3, Workers: 5}); err != nil {
			t.Fatal(err)
		}
		a, b := readTree(t, d1), readTree(t, d2)
		if len(a) != len(b) {
			t.Fatalf("family %s: %d files vs %d", fam, len(a), len(b))
		}
		for name, data := range a {
			if !bytes.Equal(data, b[name]) {
				t.Errorf("family %s: %s differs between runs", fam, name)
			}
		}
		// Another seed gives other images.
		d3 := t.TempDir()
		if _, err := Generate(context.Background(), d3, Options{Family: fam, N: 4, Size: 48, Seed: 4}); err != nil {
			t.Fatal(err)
		}
		c := readTree(t, d3)
		same := 0
		for name, data := range a {
			if strings.HasSuffix(name, ".png") && !strings.Contains(name, "_mask") && bytes.Equal(data, c[name]) {
				same++
			}
		}
		if same > 0 {
			t.Errorf("family %s: %d images identical under seeds 3 and 4", fam, same)
		}
	}
}

// TestGenerateLoadsAsMVTec loads the output with the project's MVTec loader
// and checks it against the manifest, and each mask against its image.
func TestGenerateLoadsAsMVTec(t *testing.T) {
	dir := t.TempDir()
	const n, size = 9, 40
	var calls, last int
	m, err := Generate(context.Background(), dir, Options{Family: "b", N: n, Size: size, Seed: 11,
		Progress: func(done, total int) { calls++; last = done; _ = total }})
	if err != nil {
		t.Fatal(err)
	}
	if m.Family != FamilyB || m.Format != "mvtec" || m.Size != size || m.N != n {
		t.Errorf("manifest header %+v", m)
	}
	if calls != m.Images || last != m.Images {
		t.Errorf("progress called %d times, last %d, want %d", calls, last, m.Images)
	}
	disk, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if disk.Images != m.Images || len(disk.Products) != len(m.Products) {
		t.Errorf("dataset.json %+v differs from the returned manifest", disk)
	}
	if _, err := os.Stat(filepath.Join(dir, ReadmeFile)); err != nil {
		t.Error(err)
	}
	d, err := dataset.Load("mvtec", dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Items) != m.Images {
		t.Fatalf("loader found %d images, manifest says %d", len(d.Items), m.Images)
	}
	counts := d.Counts()
	for _, p := range m.Products {
		c := counts[p.Name]
		if got := c[dataset.SplitTrain][dataset.GoodKey].Images; got != p.TrainGood {
			t.Errorf("%s train/good: %d, want %d", p.Name, got, p.TrainGood)
		}
		if got := c[dataset.SplitTest][dataset.GoodKey].Images; got != p.TestGood {
			t.Errorf("%s test/good: %d, want %d", p.Name, got, p.TestGood)
		}
		for _, def := range p.Defects {
			if got := c[dataset.SplitTest][def]; got.Images != p.TestDefective[def] || got.Masks != got.Images {
				t.Errorf("%s test/%s: %+v, want %d images with masks", p.Name, def, got, p.TestDefective[def])
			}
		}
	}
	for _, it := range d.Items {
		img := decode(t, it.ImagePath)
		if img.Bounds() != image.Rect(0, 0, size, size) {
			t.Errorf("%s: bounds %v", it.ImagePath, img.Bounds())
		}
		if !it.Anomalous {
			if it.MaskPath != "" {
				t.Errorf("good image %s has mask %s", it.ImagePath, it.MaskPath)
			}
			continue
		}
		if !slices.Contains(familyDefects(FamilyB), it.DefectKey) {
			t.Errorf("%s: defect key %q", it.ImagePath, it.DefectKey)
		}
		mask, ok := decode(t, it.MaskPath).(*image.Gray)
		if !ok || mask.Bounds() != img.Bounds() {
			t.Fatalf("%s: mask is not an 8-bit gray image of the image's size", it.MaskPath)
		}
		if countMask(t, mask) == 0 {
			t.Errorf("%s: empty mask", it.MaskPath)
		}
	}
}

func decode(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func TestGenerateValidation(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Family: "C", N: 1}, "unknown family"},
		{Options{Family: "", N: 1}, "unknown family"},
		{Options{Family: "A", N: 0}, "at least one"},
		{Options{Family: "A", N: 1, Size: 31}, "outside"},
		{Options{Family: "A", N: 1, Size: 2049}, "outside"},
		{Options{Family: "A", N: 1, Workers: -1}, "negative"},
	} {
		dir := filepath.Join(t.TempDir(), "out")
		_, err := Generate(context.Background(), dir, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.opts, err, tc.want)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%+v: output folder created despite invalid options", tc.opts)
		}
	}
}

func TestGenerateNonEmptyAndForce(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Generate(context.Background(), dir, Options{Family: "A", N: 2, Size: 32})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("non-empty folder: error %v", err)
	}
	// A stale image from a larger earlier run must not survive --force.
	stale := filepath.Join(dir, "wood", "test", "good", "099.png")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(context.Background(), dir, Options{Family: "A", N: 2, Size: 32, Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale %s kept: %v", stale, err)
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "mine" {
		t.Errorf("unrelated file changed: %q, %v", b, err)
	}
	file := filepath.Join(dir, "notes.txt")
	if _, err := Generate(context.Background(), file, Options{Family: "A", N: 1}); err == nil {
		t.Error("a file as output folder accepted")
	}
}

func TestGenerateCancel(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := 0
	_, err := Generate(ctx, dir, Options{Family: "B", N: 200, Size: 64, Workers: 2, Progress: func(d, _ int) {
		done = d
		if d == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if done >= 600 {
		t.Errorf("%d images written after cancel", done)
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); !errors.Is(err, os.ErrNotExist) {
		t.Error("dataset.json written for a cancelled run")
	}
}

// BenchmarkGenerate256 measures whole-run throughput (draw, encode, write)
// at 256² on all cores, reported as images/s.
func BenchmarkGenerate256(b *testing.B) {
	for _, fam := range []string{FamilyA, FamilyB} {
		b.Run(fam, func(b *testing.B) {
			var images int
			var elapsed time.Duration
			for b.Loop() {
				dir := b.TempDir()
				start := time.Now()
				m, err := Generate(context.Background(), dir, Options{Family: fam, N: 20, Size: 256})
				if err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				images += m.Images
			}
			b.ReportMetric(float64(images)/elapsed.Seconds(), "images/s")
		})
	}
}

// BenchmarkRender256 times one product's drawing alone, without encoding.
func BenchmarkRender256(b *testing.B) {
	for _, p := range catalog() {
		b.Run(p.Name, func(b *testing.B) {
			seed := uint64(0)
			for b.Loop() {
				seed++
				if _, _, err := Render(p.Name, p.Defects[int(seed)%len(p.Defects)], 256, seed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
