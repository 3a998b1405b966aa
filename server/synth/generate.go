package synth

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// DefaultSize is the image side Generate uses when Options.Size is 0.
const DefaultSize = 256

// Options configures Generate.
type Options struct {
	// Family is "A" or "B" (any case).
	Family string
	// N is the number of test images per product: about 40% good, the rest
	// spread evenly over the product's defect types. Each product also gets
	// max(1, N/2) good training images.
	N int
	// Size is the image side in pixels, MinSize..MaxSize; 0 means
	// DefaultSize.
	Size int
	Seed uint64
	// Workers is the number of images drawn at once; 0 means GOMAXPROCS.
	// The output does not depend on it.
	Workers int
	// Force allows writing into a non-empty folder; see Generate.
	Force bool
	// Progress, if set, is called after each image with the number done
	// and the total, from one goroutine at a time.
	Progress func(done, total int)
}

// validate returns the options with defaults filled in.
func (o Options) validate() (Options, error) {
	f, err := NormalizeFamily(o.Family)
	if err != nil {
		return o, err
	}
	o.Family = f
	if o.N < 1 {
		return o, fmt.Errorf("synth: n = %d: need at least one test image per product", o.N)
	}
	if o.Size == 0 {
		o.Size = DefaultSize
	}
	if o.Size < MinSize || o.Size > MaxSize {
		return o, fmt.Errorf("synth: size %d outside [%d, %d] pixels", o.Size, MinSize, MaxSize)
	}
	if o.Workers < 0 {
		return o, fmt.Errorf("synth: workers = %d is negative", o.Workers)
	}
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o, nil
}

// job is one image to draw and where its files go (relative to the root).
type job struct {
	product, defect string
	seed            uint64
	image, mask     string // mask is "" for good images
}

// Counts splits n test images: round(0.4·n) good, and the rest over the
// defect keys, the first keys taking one more when it does not divide.
func Counts(n int, defects []string) (good int, perDefect map[string]int) {
	perDefect = make(map[string]int, len(defects))
	if len(defects) == 0 {
		return n, perDefect
	}
	good = (2*n + 2) / 5
	bad := n - good
	for i, d := range defects {
		perDefect[d] = bad / len(defects)
		if i < bad%len(defects) {
			perDefect[d]++
		}
	}
	return good, perDefect
}

// TrainCount is the number of good training images per product for n.
func TrainCount(n int) int { return max(1, n/2) }

// itemSeed derives an image's seed from the run's seed and the image's
// place, so every image can be drawn alone, in any order, on any worker.
func itemSeed(seed uint64, key string, index int) uint64 {
	z := seed ^ streamOf(key)
	z += uint64(index+1) * 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// plan lists every image of the run and the manifest describing them.
func plan(o Options) ([]job, *Manifest) {
	m := newManifest(o)
	var jobs []job
	add := func(product, split, defect string, count int) {
		width := max(3, len(fmt.Sprint(count-1)))
		for i := range count {
			name := fmt.Sprintf("%0*d", width, i)
			j := job{
				product: product, defect: defect,
				seed:  itemSeed(o.Seed, product+"/"+split+"/"+defect, i),
				image: filepath.Join(product, split, defect, name+".png"),
			}
			if defect != Good {
				j.mask = filepath.Join(product, "ground_truth", defect, name+"_mask.png")
			}
			jobs = append(jobs, j)
		}
	}
	for _, p := range m.Products {
		add(p.Name, "train", Good, p.TrainGood)
		add(p.Name, "test", Good, p.TestGood)
		for _, d := range p.Defects {
			add(p.Name, "test", d, p.TestDefective[d])
		}
	}
	return jobs, m
}

// Generate writes a synthetic dataset in MVTec-AD layout under dir:
//
//	<product>/train/good/NNN.png
//	<product>/test/good/NNN.png
//	<product>/test/<defect>/NNN.png
//	<product>/ground_truth/<defect>/NNN_mask.png
//	dataset.json, README.txt
//
// dir is created if needed. A non-empty dir is refused unless opts.Force;
// with Force, the product folders of this family and dataset.json and
// README.txt are replaced and anything else in dir is left alone. The same
// options give byte-identical files whatever the number of workers.
// Cancelling ctx stops the run and returns its error; images already
// written stay, without a dataset.json.
func Generate(ctx context.Context, dir string, opts Options) (*Manifest, error) {
	o, err := opts.validate()
	if err != nil {
		return nil, err
	}
	jobs, m := plan(o)
	if err := prepare(dir, m, o.Force); err != nil {
		return nil, err
	}
	folders := map[string]bool{}
	for _, j := range jobs {
		folders[filepath.Dir(j.image)] = true
		if j.mask != "" {
			folders[filepath.Dir(j.mask)] = true
		}
	}
	for f := range folders {
		if err := os.MkdirAll(filepath.Join(dir, f), 0o755); err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
	}
	if err := run(ctx, dir, o, jobs); err != nil {
		return nil, err
	}
	if err := m.write(dir); err != nil {
		return nil, err
	}
	return m, nil
}

// prepare makes sure dir may be written to.
func prepare(dir string, m *Manifest, force bool) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("synth: create output folder: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("synth: output folder: %w", err)
	case len(entries) == 0:
		return nil
	case !force:
		return fmt.Errorf("synth: output folder %s is not empty (%d entries); choose an empty one or force writing into it", dir, len(entries))
	}
	// Replace what this run writes, so no image of an earlier, larger run
	// lingers among the new ones.
	stale := []string{ManifestFile, ReadmeFile}
	for _, p := range m.Products {
		stale = append(stale, p.Name)
	}
	for _, s := range stale {
		if err := os.RemoveAll(filepath.Join(dir, s)); err != nil {
			return fmt.Errorf("synth: replace %s: %w", s, err)
		}
	}
	return nil
}

// run draws and writes the jobs on o.Workers goroutines; the first error
// (or ctx's) stops the rest.
func run(parent context.Context, dir string, o Options, jobs []job) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	feed := make(chan job)
	results := make(chan error)
	var wg sync.WaitGroup
	for range min(o.Workers, len(jobs)) {
		wg.Go(func() {
			for j := range feed {
				err := ctx.Err()
				if err == nil {
					err = writeJob(dir, o.Size, j)
				}
				results <- err
			}
		})
	}
	go func() {
		defer close(feed)
		for _, j := range jobs {
			select {
			case feed <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	var first error
	done := 0
	for err := range results {
		if err != nil {
			if first == nil {
				first = err
				cancel()
			}
			continue
		}
		done++
		if o.Progress != nil {
			o.Progress(done, len(jobs))
		}
	}
	// The feeder stops on cancellation without telling anyone, so ask the
	// caller's context too.
	if first == nil && done < len(jobs) {
		first = parent.Err()
	}
	if first != nil {
		if errors.Is(first, context.Canceled) || errors.Is(first, context.DeadlineExceeded) {
			return fmt.Errorf("synth: stopped after %d of %d images: %w", done, len(jobs), first)
		}
		return first
	}
	return nil
}

func writeJob(dir string, size int, j job) error {
	img, mask, err := Render(j.product, j.defect, size, j.seed)
	if err != nil {
		return err
	}
	if err := writePNG(filepath.Join(dir, j.image), img); err != nil {
		return err
	}
	if j.mask == "" {
		return nil
	}
	return writePNG(filepath.Join(dir, j.mask), mask)
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	w := bufio.NewWriterSize(f, 64<<10)
	err = encodePNG(w, img)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("synth: write %s: %w", path, err)
	}
	return nil
}
