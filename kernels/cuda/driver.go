//go:build dapocuda

package cuda

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

// gorgonia.org/cu calls cuInit from its package init and exits the process
// when that fails (no GPU, driver/library mismatch, no device node in a
// container). This definition in the executable takes precedence over
// libcuda's for every caller in the binary, cu included: it calls the real
// cuInit through dlsym, records the result and reports success, so the
// process survives and dapo can say clearly that no GPU is usable (and
// still run on the CPU). Nothing then calls into cu unless DriverStatus
// returned nil.
static int dapo_cuinit_result = -1;
static char dapo_cuinit_msg[512];

int cuInit(unsigned int flags) {
	void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
	if (h == NULL) {
		const char *e = dlerror();
		snprintf(dapo_cuinit_msg, sizeof dapo_cuinit_msg, "cannot load libcuda.so.1 (the NVIDIA driver library): %s", e ? e : "unknown error");
		dapo_cuinit_result = -2;
		return 0;
	}
	int (*real_init)(unsigned int) = (int (*)(unsigned int))dlsym(h, "cuInit");
	if (real_init == NULL) {
		snprintf(dapo_cuinit_msg, sizeof dapo_cuinit_msg, "libcuda.so.1 has no cuInit");
		dapo_cuinit_result = -3;
		return 0;
	}
	int r = real_init(flags);
	dapo_cuinit_result = r;
	if (r != 0) {
		const char *name = "?", *desc = "";
		int (*ename)(int, const char **) = (int (*)(int, const char **))dlsym(h, "cuGetErrorName");
		int (*estr)(int, const char **) = (int (*)(int, const char **))dlsym(h, "cuGetErrorString");
		if (ename) ename(r, &name);
		if (estr) estr(r, &desc);
		if (name == NULL || name[0] == '?') name = "";
		if (desc == NULL) desc = "";
		snprintf(dapo_cuinit_msg, sizeof dapo_cuinit_msg, "%s%s%s", name, name[0] && desc[0] ? ": " : "", desc);
	}
	return 0;
}

static int dapo_init_result(void) { return dapo_cuinit_result; }
static const char *dapo_init_msg(void) { return dapo_cuinit_msg; }
*/
import "C"

import (
	"errors"
	"fmt"

	"gorgonia.org/cu"
)

// ErrNoGPU is wrapped by every error that says no usable GPU is present.
var ErrNoGPU = errors.New("no CUDA driver/GPU found")

// DriverStatus reports whether the CUDA driver initialised and how many
// devices it sees; the error wraps ErrNoGPU and says why not.
func DriverStatus() (devices int, err error) {
	switch r := int(C.dapo_init_result()); {
	case r == -1:
		return 0, fmt.Errorf("%w: cuInit was never called", ErrNoGPU)
	case r < 0:
		return 0, fmt.Errorf("%w: %s", ErrNoGPU, C.GoString(C.dapo_init_msg()))
	case r != 0:
		msg := C.GoString(C.dapo_init_msg())
		if msg == "" {
			msg = knownInitErrors[r]
		}
		return 0, fmt.Errorf("%w: cuInit returned CUDA error %d %s", ErrNoGPU, r, msg)
	}
	n, err := cu.NumDevices()
	if err != nil {
		return 0, fmt.Errorf("%w: cuDeviceGetCount: %v", ErrNoGPU, err)
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: the driver sees no CUDA device", ErrNoGPU)
	}
	return n, nil
}

// knownInitErrors explain the usual cuInit failures when the driver cannot
// name them itself.
var knownInitErrors = map[int]string{
	34:  "(CUDA_ERROR_STUB_LIBRARY: the link-time stub libcuda.so was loaded instead of the NVIDIA driver)",
	35:  "(CUDA_ERROR_INSUFFICIENT_DRIVER: the driver is older than this CUDA release)",
	100: "(CUDA_ERROR_NO_DEVICE: no CUDA-capable GPU is visible)",
	101: "(CUDA_ERROR_INVALID_DEVICE)",
	304: "(CUDA_ERROR_OPERATING_SYSTEM)",
	999: "(CUDA_ERROR_UNKNOWN: often a missing /dev/nvidia* device node)",
}

// DriverVersion is the driver's CUDA version (e.g. 13000), or -1.
func DriverVersion() int {
	if _, err := DriverStatus(); err != nil {
		return -1
	}
	return cu.Version()
}
