package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedIsCurrent: kernels/cuda/launch_gen.go is what the
// generator makes from the committed .cu sources (run go generate
// ./kernels/cuda after editing a kernel's parameters).
func TestCommittedIsCurrent(t *testing.T) {
	root := filepath.Join("..", "..")
	want, err := Generate(filepath.Join(root, "src"))
	if err != nil {
		t.Fatal(err)
	}
	// Generate names files relative to its argument; the committed file
	// was generated from kernels/cuda.
	want = bytes.ReplaceAll(want, []byte("../../src/"), []byte("src/"))
	got, err := os.ReadFile(filepath.Join(root, "launch_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("kernels/cuda/launch_gen.go is stale: run go generate ./kernels/cuda")
	}
}

func TestParse(t *testing.T) {
	ks, err := Parse("x.cu", `
extern "C" __global__ void axpy(float* __restrict__ y,
    const float* __restrict__ x, int n, float a, double eps, const int* ids) {}
__global__ void helper(int n) {}
extern "C" __global__ void sum_rows(double* out, const double* in, int rows) {}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 2 || ks[0].Name != "axpy" || ks[1].Name != "sum_rows" {
		t.Fatalf("kernels %+v", ks)
	}
	want := []Param{{"y", "Buf"}, {"x", "Buf"}, {"n", "int"}, {"a", "float32"}, {"eps", "float64"}, {"ids", "Buf"}}
	if len(ks[0].Params) != len(want) {
		t.Fatalf("params %+v", ks[0].Params)
	}
	for i, p := range want {
		if ks[0].Params[i] != p {
			t.Errorf("param %d: %+v, want %+v", i, ks[0].Params[i], p)
		}
	}
	if GoName("sum_rows") != "launchSumRows" {
		t.Errorf("GoName(sum_rows) = %s", GoName("sum_rows"))
	}
	for _, bad := range []string{
		`extern "C" __global__ void k(size_t n) {}`,
		`extern "C" __global__ void k(float** p) {}`,
		`extern "C" __global__ void k(int) {}`,
	} {
		if _, err := Parse("bad.cu", bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
