package computetest

import (
	"math"
	"strings"
	"testing"

	"dapo/server/compute"
)

func TestStrictRules(t *testing.T) {
	s := &Strict{}
	a := s.Alloc(4).(compute.Host)
	if !math.IsNaN(float64(a[0])) {
		t.Errorf("fresh Alloc is %v, want NaN", a[0])
	}
	z := s.Zeros(4).(compute.Host)
	if z[0] != 0 {
		t.Errorf("Zeros is %v", z[0])
	}
	host := []float32{1, 2}
	u := s.Upload(host).(compute.Host)
	host[0] = 9
	if u[0] != 1 {
		t.Errorf("Upload aliases the host slice")
	}
	if s.Live() != 3 {
		t.Errorf("Live = %d, want 3", s.Live())
	}
	s.Free(z)
	if s.Live() != 2 || s.Err() != nil {
		t.Fatalf("after a free: live %d, err %v", s.Live(), s.Err())
	}
	// Reuse hands back the freed (poisoned) memory, as the GPU pool does.
	r := s.Alloc(4).(compute.Host)
	if !math.IsNaN(float64(r[0])) {
		t.Errorf("reused Alloc is %v, want the freed tensor's NaN", r[0])
	}
	s.Free(s.View(a, 0, 2))
	if err := s.Err(); err == nil || !strings.Contains(err.Error(), "view") {
		t.Errorf("freeing a view: %v", err)
	}
	s2 := &Strict{}
	b := s2.Alloc(3)
	s2.Free(b)
	s2.Free(b)
	if err := s2.Err(); err == nil || !strings.Contains(err.Error(), "not a live allocation") {
		t.Errorf("double free: %v", err)
	}
}
