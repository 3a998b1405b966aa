//go:build dapocuda

package cuda

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"gorgonia.org/cu"
)

// Precision selects how matrix products run.
type Precision int

const (
	// F32 is exact float32 (no tensor cores): the golden-parity mode.
	F32 Precision = iota
	// TF32 runs matrix products on tensor cores with TF32 inputs and
	// float32 accumulation (≈10 bits of mantissa in the products).
	TF32
)

func (p Precision) String() string {
	if p == TF32 {
		return "tf32"
	}
	return "f32"
}

// Buf is a float32 array in device memory (or a view into one).
type Buf struct {
	Ptr cu.DevicePtr
	Len int
}

// Off is the view of b from element i on.
func (b Buf) Off(i int) Buf { return Buf{Ptr: b.Ptr + cu.DevicePtr(4*i), Len: b.Len - i} }

// Slice is the view of elements [i, j).
func (b Buf) Slice(i, j int) Buf { return Buf{Ptr: b.Ptr + cu.DevicePtr(4*i), Len: j - i} }

// Device is one GPU with the kernels loaded. Its operations queue work on
// the default stream and keep the first error (later operations then do
// nothing; Err reports it), so that the towers read as a plain sequence of
// kernel calls. The driver context is per OS thread: run every operation
// inside Do, which pins the goroutine and makes the context current.
type Device struct {
	Ordinal   int
	Name      string
	Precision Precision
	ctx       cu.CUContext
	dev       cu.Device
	mod       cu.Module
	fns       map[string]cu.Function
	blas      *blas
	blasErr   error
	pool      map[int][]Buf
	err       error
	locked    int
}

// kernelNames lists every entry point of dapo.ptx the launchers use.
var kernelNames = []string{
	"sgemm_f32", "sgemm_tf32", "add_bias_rows", "add_inplace", "quickgelu", "quickgelu_backward", "gelu", "gelu_backward",
	"layernorm", "layernorm_backward", "l2_normalize", "softmax_rows", "softmax_rows_backward",
	"attention_forward", "attention_backward_dq", "attention_backward_dkv",
	"insert_after_first", "remove_after_first", "blend_rows", "blend_rows_backward",
	"patch_unfold", "vision_assemble", "gather_rows", "embed_tokens", "drop_cls",
}

// Open selects GPU ordinal, retains its primary context (shared with
// cuBLAS) and loads the kernels. The error wraps ErrNoGPU when no usable
// GPU is present.
func Open(ordinal int, prec Precision) (*Device, error) {
	n, err := DriverStatus()
	if err != nil {
		return nil, err
	}
	if ordinal < 0 || ordinal >= n {
		return nil, fmt.Errorf("%w: cuda:%d requested, the driver sees %d device(s) (cuda:0..cuda:%d)", ErrNoGPU, ordinal, n, n-1)
	}
	d := &Device{Ordinal: ordinal, Precision: prec, fns: map[string]cu.Function{}, pool: map[int][]Buf{}}
	if d.dev, err = cu.GetDevice(ordinal); err != nil {
		return nil, fmt.Errorf("cuda:%d: %w", ordinal, err)
	}
	d.Name, _ = d.dev.Name()
	if d.ctx, err = d.dev.RetainPrimaryCtx(); err != nil {
		return nil, fmt.Errorf("cuda:%d: retain primary context: %w", ordinal, err)
	}
	err = d.Do(func() error {
		if d.mod, err = cu.LoadData(ptx); err != nil {
			return fmt.Errorf("load kernels (PTX JIT): %w", err)
		}
		for _, name := range kernelNames {
			f, err := d.mod.Function(name)
			if err != nil {
				return fmt.Errorf("kernel %s: %w", name, err)
			}
			d.fns[name] = f
		}
		d.blas, d.blasErr = openBLAS()
		return nil
	})
	if err != nil {
		d.dev.ReleasePrimaryCtx()
		return nil, fmt.Errorf("cuda:%d: %w", ordinal, err)
	}
	return d, nil
}

// GEMMBackend says what runs the matrix products.
func (d *Device) GEMMBackend() string {
	if d.blas != nil {
		return "cuBLAS (" + d.blas.lib + ")"
	}
	return fmt.Sprintf("own kernels (cuBLAS not loaded: %v)", d.blasErr)
}

// DisableBLAS makes matrix products use the own kernels (for tests).
func (d *Device) DisableBLAS() {
	if d.blas != nil {
		d.Do(func() error { d.blas.close(); return nil })
		d.blas, d.blasErr = nil, errors.New("disabled")
	}
}

// Close frees pooled memory and releases the context.
func (d *Device) Close() error {
	err := d.Do(func() error {
		d.Sync()
		d.releasePool()
		d.pool = nil
		d.blas.close()
		d.mod.Unload()
		return nil
	})
	d.dev.ReleasePrimaryCtx()
	return err
}

// Do runs fn with the goroutine pinned to its OS thread and the device's
// context current there; nested calls are cheap. It returns fn's error or
// the device's sticky error.
func (d *Device) Do(fn func() error) error {
	if d.locked == 0 {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cu.SetCurrentContext(d.ctx); err != nil {
			return fmt.Errorf("cuda:%d: set context: %w", d.Ordinal, err)
		}
	}
	d.locked++
	defer func() { d.locked-- }()
	if err := fn(); err != nil {
		return err
	}
	return d.err
}

// Err is the first error of any operation since the last ClearErr.
func (d *Device) Err() error { return d.err }

// ClearErr forgets the sticky error.
func (d *Device) ClearErr() { d.err = nil }

// Fail records err as the device's error unless one is recorded already.
func (d *Device) Fail(err error) {
	if d.err == nil {
		d.err = fmt.Errorf("cuda:%d: %w", d.Ordinal, err)
	}
}

func (d *Device) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("cuda:%d: "+format, append([]any{d.Ordinal}, args...)...)
	}
}

// Sync waits for all queued work and records its error.
func (d *Device) Sync() {
	if d.err != nil {
		return
	}
	if err := cu.Synchronize(); err != nil {
		d.fail("synchronize: %v", err)
	}
}

// Alloc returns an uninitialised buffer of n floats, reusing a pooled one of
// the same size: the towers allocate the same shapes every batch.
func (d *Device) Alloc(n int) Buf {
	if d.err != nil || n <= 0 {
		return Buf{Len: max(n, 0)}
	}
	if free := d.pool[n]; len(free) > 0 {
		b := free[len(free)-1]
		d.pool[n] = free[:len(free)-1]
		return b
	}
	p, err := cu.MemAlloc(int64(4 * n))
	if err != nil && d.releasePool() > 0 {
		// The pool keeps buffers by exact size: other sizes' idle buffers
		// may be what the device is short of.
		p, err = cu.MemAlloc(int64(4 * n))
	}
	if err != nil {
		d.fail("allocate %.1f MiB on the GPU: %v", float64(4*n)/(1<<20), err)
		return Buf{Len: n}
	}
	return Buf{Ptr: p, Len: n}
}

// releasePool returns every pooled buffer to the driver, once the queued
// kernels (which may still read them) are done, and says how many there
// were.
func (d *Device) releasePool() int {
	if len(d.pool) == 0 {
		return 0
	}
	d.Sync()
	n := 0
	for size, bufs := range d.pool {
		for _, b := range bufs {
			cu.MemFree(b.Ptr)
			n++
		}
		delete(d.pool, size)
	}
	return n
}

// Zeros is Alloc cleared to zero.
func (d *Device) Zeros(n int) Buf {
	b := d.Alloc(n)
	d.Zero(b)
	return b
}

// Zero clears b.
func (d *Device) Zero(b Buf) {
	if d.err != nil || b.Len == 0 {
		return
	}
	if err := cu.MemsetD32(b.Ptr, 0, int64(b.Len)); err != nil {
		d.fail("memset: %v", err)
	}
}

// Free returns b to the pool (it must be a whole allocation).
func (d *Device) Free(b Buf) {
	if b.Ptr == 0 || d.pool == nil {
		return
	}
	d.pool[b.Len] = append(d.pool[b.Len], b)
}

// Upload copies host floats into a new device buffer.
func (d *Device) Upload(x []float32) Buf {
	b := d.Alloc(len(x))
	d.CopyIn(b, x)
	return b
}

// CopyIn copies host floats into b (len(x) ≤ b.Len).
func (d *Device) CopyIn(b Buf, x []float32) {
	if d.err != nil || len(x) == 0 {
		return
	}
	if len(x) > b.Len {
		d.fail("copy %d floats into a buffer of %d", len(x), b.Len)
		return
	}
	if err := cu.MemcpyHtoD(b.Ptr, unsafe.Pointer(&x[0]), int64(4*len(x))); err != nil {
		d.fail("copy to device: %v", err)
	}
}

// Download copies b back to the host (synchronously).
func (d *Device) Download(b Buf) []float32 {
	out := make([]float32, b.Len)
	d.CopyOut(out, b)
	return out
}

// CopyOut copies the first len(x) floats of b into x.
func (d *Device) CopyOut(x []float32, b Buf) {
	if d.err != nil || len(x) == 0 {
		return
	}
	if len(x) > b.Len {
		d.fail("copy %d floats out of a buffer of %d", len(x), b.Len)
		return
	}
	if err := cu.MemcpyDtoH(unsafe.Pointer(&x[0]), b.Ptr, int64(4*len(x))); err != nil {
		d.fail("copy to host: %v", err)
	}
}

// UploadInts copies int32 values (token ids, row indices) to the device.
// The buffer's Len counts 4-byte elements.
func (d *Device) UploadInts(x []int32) Buf {
	b := d.Alloc(len(x))
	if d.err != nil || len(x) == 0 {
		return b
	}
	if err := cu.MemcpyHtoD(b.Ptr, unsafe.Pointer(&x[0]), int64(4*len(x))); err != nil {
		d.fail("copy ints to device: %v", err)
	}
	return b
}

// Copy copies src into dst on the device (n = src.Len floats).
func (d *Device) Copy(dst, src Buf) {
	if d.err != nil || src.Len == 0 {
		return
	}
	if src.Len > dst.Len {
		d.fail("device copy of %d floats into %d", src.Len, dst.Len)
		return
	}
	if err := cu.MemcpyDtoD(dst.Ptr, src.Ptr, int64(4*src.Len)); err != nil {
		d.fail("device copy: %v", err)
	}
}

// launch queues kernel name; call it through the typed launchers of
// launch_gen.go, which match each kernel's parameters. Arguments are Buf,
// int, float32 or float64;
// each travels in an 8-byte slot (cu's Launch copies 8 bytes per argument,
// the kernel reads its declared size from the slot's start, little-endian).
func (d *Device) launch(name string, grid [3]int, block int, args ...any) {
	if d.err != nil {
		return
	}
	f, ok := d.fns[name]
	if !ok {
		d.fail("unknown kernel %s", name)
		return
	}
	slots := make([]uint64, len(args))
	params := make([]unsafe.Pointer, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case Buf:
			slots[i] = uint64(v.Ptr)
		case cu.DevicePtr:
			slots[i] = uint64(v)
		case int:
			// The kernels take C ints: a larger count would wrap.
			if v < math.MinInt32 || v > math.MaxInt32 {
				d.fail("kernel %s: argument %d = %d does not fit a 32-bit int", name, i, v)
				return
			}
			slots[i] = uint64(uint32(int32(v)))
		case float32:
			slots[i] = uint64(math.Float32bits(v))
		case float64:
			slots[i] = math.Float64bits(v)
		default:
			d.fail("kernel %s: argument %d has unsupported type %T", name, i, a)
			return
		}
		params[i] = unsafe.Pointer(&slots[i])
	}
	for i := range grid {
		grid[i] = max(grid[i], 1)
	}
	if err := f.Launch(grid[0], grid[1], grid[2], block, 1, 1, 0, cu.NoStream, params); err != nil {
		d.fail("launch %s grid %v block %d: %v", name, grid, block, err)
	}
}

// elementwise grid: enough blocks of 256 threads for n, capped (the
// kernels loop grid-stride).
func grid1(n int) [3]int { return [3]int{min((n+255)/256, 65535), 1, 1} }
