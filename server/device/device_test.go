package device

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Spec
		bad  bool
	}{
		{"", Spec{Kind: CPU}, false},
		{"cpu", Spec{Kind: CPU}, false},
		{" CPU ", Spec{Kind: CPU}, false},
		{"cuda", Spec{Kind: CUDA}, false},
		{"cuda:0", Spec{Kind: CUDA}, false},
		{"cuda:3", Spec{Kind: CUDA, Ordinal: 3}, false},
		{"cuda:-1", Spec{}, true},
		{"cuda:x", Spec{}, true},
		{"tpu", Spec{}, true},
	} {
		got, err := Parse(c.in)
		if (err != nil) != c.bad || (!c.bad && got != c.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.bad)
		}
	}
	if s, _ := Parse("cuda:2"); s.String() != "cuda:2" {
		t.Errorf("String = %q", s.String())
	}
}

func TestPrecision(t *testing.T) {
	for in, want := range map[string]Precision{"": F32, "f32": F32, "TF32": TF32} {
		if got, err := ParsePrecision(in); err != nil || got != want {
			t.Errorf("ParsePrecision(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParsePrecision("bf16"); err == nil {
		t.Error("bf16 accepted")
	}
}

func TestOpenCPU(t *testing.T) {
	be, release, err := Open(Spec{Kind: CPU}, F32)
	if err != nil || be.Name() != "cpu" {
		t.Fatal(be, err)
	}
	release()
}

// Without the dapocuda tag, asking for a GPU says how to get a CUDA build; with
// it (and no GPU), it says no GPU was found.
func TestOpenCUDAMessage(t *testing.T) {
	_, _, err := Open(Spec{Kind: CUDA}, F32)
	if !CUDABuilt() {
		if !errors.Is(err, ErrNoCUDABuild) {
			t.Fatalf("got %v, want ErrNoCUDABuild", err)
		}
		return
	}
	t.Logf("cuda build: %v", err)
}
