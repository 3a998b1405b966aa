//go:build dapocuda

package cuda

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stddef.h>

// cuBLAS is loaded at run time by name: only the driver API is stable
// across CUDA releases, and the GPU machine's toolkit (CUDA 13) is not the
// one the binary was compiled against. Device pointers cross as uintptr_t.
typedef int (*dapo_create_t)(void **);
typedef int (*dapo_destroy_t)(void *);
typedef int (*dapo_setmath_t)(void *, int);
typedef int (*dapo_sgemm_t)(void *, int, int, int, int, int, const float *, const float *, int, const float *, int,
                            const float *, float *, int);
typedef int (*dapo_sgemm_sb_t)(void *, int, int, int, int, int, const float *, const float *, int, long long,
                               const float *, int, long long, const float *, float *, int, long long, int);

static void *dapo_blas_lib;
static const char *dapo_blas_name;
static dapo_create_t dapo_blas_create;
static dapo_destroy_t dapo_blas_destroy;
static dapo_setmath_t dapo_blas_setmath;
static dapo_sgemm_t dapo_blas_sgemm;
static dapo_sgemm_sb_t dapo_blas_sgemm_sb; // optional: NULL disables the batched products

// dapo_blas_open returns the library name it loaded, or NULL.
static const char *dapo_blas_open(void) {
	static const char *names[] = {"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so", NULL};
	if (dapo_blas_lib != NULL) return dapo_blas_name;
	for (int i = 0; names[i] != NULL; i++) {
		void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
		if (h == NULL) continue;
		dapo_blas_create = (dapo_create_t)dlsym(h, "cublasCreate_v2");
		dapo_blas_destroy = (dapo_destroy_t)dlsym(h, "cublasDestroy_v2");
		dapo_blas_setmath = (dapo_setmath_t)dlsym(h, "cublasSetMathMode");
		dapo_blas_sgemm = (dapo_sgemm_t)dlsym(h, "cublasSgemm_v2");
		dapo_blas_sgemm_sb = (dapo_sgemm_sb_t)dlsym(h, "cublasSgemmStridedBatched");
		if (dapo_blas_create && dapo_blas_destroy && dapo_blas_setmath && dapo_blas_sgemm) {
			dapo_blas_lib = h;
			dapo_blas_name = names[i];
			return names[i];
		}
		dlclose(h);
	}
	return NULL;
}

static int dapo_blas_new(uintptr_t *handle) {
	void *h = NULL;
	int r = dapo_blas_create(&h);
	*handle = (uintptr_t)h;
	return r;
}
static int dapo_blas_free(uintptr_t handle) { return dapo_blas_destroy((void *)handle); }
static int dapo_blas_math(uintptr_t handle, int mode) { return dapo_blas_setmath((void *)handle, mode); }

// Column-major cuBLAS computing the row-major C = alpha·op(A)·op(B) + beta·C:
// the row-major C is the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ.
static int dapo_blas_sgemm_rm(uintptr_t handle, int ta, int tb, int m, int n, int k, float alpha, uintptr_t a, int lda,
                              uintptr_t b, int ldb, float beta, uintptr_t c, int ldc) {
	return dapo_blas_sgemm((void *)handle, tb, ta, n, m, k, &alpha, (const float *)b, ldb, (const float *)a, lda, &beta,
	                       (float *)c, ldc);
}

static int dapo_blas_has_batched(void) { return dapo_blas_sgemm_sb != NULL; }

// The same for batch products C_i = alpha·op(A_i)·op(B_i) + beta·C_i with
// X_i = X + i·strideX (elements).
static int dapo_blas_sgemm_sb_rm(uintptr_t handle, int ta, int tb, int m, int n, int k, float alpha, uintptr_t a,
                                 int lda, long long sa, uintptr_t b, int ldb, long long sb, float beta, uintptr_t c,
                                 int ldc, long long sc, int batch) {
	return dapo_blas_sgemm_sb((void *)handle, tb, ta, n, m, k, &alpha, (const float *)b, ldb, sb, (const float *)a,
	                          lda, sa, &beta, (float *)c, ldc, sc, batch);
}
*/
import "C"

import (
	"fmt"

	"gorgonia.org/cu"
)

// cuBLAS math modes (cublasMath_t).
const (
	cublasDefaultMath = 0 // exact float32
	cublasTF32Math    = 3 // CUBLAS_TF32_TENSOR_OP_MATH
)

// blas is a cuBLAS handle bound to the device's primary context.
type blas struct {
	lib     string
	handle  C.uintptr_t
	mode    int
	batched bool // cublasSgemmStridedBatched was found
}

// openBLAS loads cuBLAS and creates a handle in the current context; nil
// with a reason when no cuBLAS library can be loaded.
func openBLAS() (*blas, error) {
	name := C.dapo_blas_open()
	if name == nil {
		return nil, fmt.Errorf("no libcublas.so.{13,12,11} on the library path")
	}
	b := &blas{lib: C.GoString(name), mode: -1, batched: C.dapo_blas_has_batched() != 0}
	if r := C.dapo_blas_new(&b.handle); r != 0 {
		return nil, fmt.Errorf("cublasCreate: status %d", int(r))
	}
	return b, nil
}

func (b *blas) close() {
	if b != nil && b.handle != 0 {
		C.dapo_blas_free(b.handle)
		b.handle = 0
	}
}

func (b *blas) setMath(tf32 bool) error {
	mode := cublasDefaultMath
	if tf32 {
		mode = cublasTF32Math
	}
	if mode == b.mode {
		return nil
	}
	if r := C.dapo_blas_math(b.handle, C.int(mode)); r != 0 {
		return fmt.Errorf("cublasSetMathMode(%d): status %d", mode, int(r))
	}
	b.mode = mode
	return nil
}

func cbool(v bool) C.int {
	if v {
		return 1
	}
	return 0
}

func (b *blas) sgemm(transA, transB bool, m, n, k int, alpha float32, a cu.DevicePtr, lda int, bm cu.DevicePtr, ldb int, beta float32, c cu.DevicePtr, ldc int) error {
	r := C.dapo_blas_sgemm_rm(b.handle, cbool(transA), cbool(transB), C.int(m), C.int(n), C.int(k), C.float(alpha),
		C.uintptr_t(a), C.int(lda), C.uintptr_t(bm), C.int(ldb), C.float(beta), C.uintptr_t(c), C.int(ldc))
	if r != 0 {
		return fmt.Errorf("cublasSgemm %dx%dx%d: status %d", m, n, k, int(r))
	}
	return nil
}

func (b *blas) sgemmStridedBatched(transA, transB bool, m, n, k int, alpha float32, a cu.DevicePtr, lda, sa int, bm cu.DevicePtr, ldb, sb int, beta float32, c cu.DevicePtr, ldc, sc, batch int) error {
	r := C.dapo_blas_sgemm_sb_rm(b.handle, cbool(transA), cbool(transB), C.int(m), C.int(n), C.int(k), C.float(alpha),
		C.uintptr_t(a), C.int(lda), C.longlong(sa), C.uintptr_t(bm), C.int(ldb), C.longlong(sb), C.float(beta),
		C.uintptr_t(c), C.int(ldc), C.longlong(sc), C.int(batch))
	if r != 0 {
		return fmt.Errorf("cublasSgemmStridedBatched %dx%dx%d ×%d: status %d", m, n, k, batch, int(r))
	}
	return nil
}
