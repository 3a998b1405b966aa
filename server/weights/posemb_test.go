package weights

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"dapo/shared/golden"
)

// TestResizePosEmbedGolden checks every case the golden resize set lists
// against PyTorch's F.interpolate output.
func TestResizePosEmbedGolden(t *testing.T) {
	set := golden.Load(t)
	b, err := os.ReadFile(set.Path("resize", "resize.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Index   int `json:"index"`
			OldGrid int `json:"old_grid"`
			NewGrid int `json:"new_grid"`
			Width   int `json:"width"`
		} `json:"posemb_cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) == 0 {
		t.Fatal("resize.json lists no posemb_cases")
	}
	const tol = 1e-5 // resize/README.md: floats within 1e-5
	for _, c := range doc.Cases {
		t.Run(fmt.Sprintf("%d_%dto%d", c.Index, c.OldGrid, c.NewGrid), func(t *testing.T) {
			in, inShape := set.Float32(t, "resize/resize", fmt.Sprintf("posemb.%d.input", c.Index))
			want, outShape := set.Float32(t, "resize/resize", fmt.Sprintf("posemb.%d.output", c.Index))
			if inShape[0] != 1+c.OldGrid*c.OldGrid || inShape[1] != c.Width || outShape[0] != 1+c.NewGrid*c.NewGrid {
				t.Fatalf("golden shapes %v → %v do not match the case %+v", inShape, outShape, c)
			}
			got := ResizePosEmbed(in, c.OldGrid, c.NewGrid, c.Width)
			if len(got) != len(want) {
				t.Fatalf("got %d values, want %d", len(got), len(want))
			}
			maxDiff, at := 0.0, 0
			for i := range want {
				if d := math.Abs(float64(got[i] - want[i])); d > maxDiff || math.IsNaN(d) {
					maxDiff, at = d, i
				}
			}
			if maxDiff > tol {
				t.Fatalf("max |diff| %.3g at %d (got %g, want %g) exceeds %g", maxDiff, at, got[at], want[at], tol)
			}
			for i := 0; i < c.Width; i++ {
				if got[i] != in[i] {
					t.Fatalf("class row changed at %d", i)
				}
			}
			t.Logf("max |diff| %.3g", maxDiff)
		})
	}
}

func TestResizePosEmbedSameGridCopies(t *testing.T) {
	pe := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	got := ResizePosEmbed(pe, 2, 2, 2)
	got[0] = 99
	if pe[0] != 1 {
		t.Fatal("ResizePosEmbed returned the input instead of a copy")
	}
}

// A constant grid stays constant: the weights of every output sample sum
// to one, whatever the scale.
func TestResizePosEmbedPreservesConstants(t *testing.T) {
	for _, g := range [][2]int{{24, 37}, {37, 24}, {5, 16}, {16, 3}, {7, 1}} {
		pe := make([]float32, (1+g[0]*g[0])*3)
		for i := range pe {
			pe[i] = 0.25
		}
		for i, v := range ResizePosEmbed(pe, g[0], g[1], 3) {
			if math.Abs(float64(v-0.25)) > 1e-6 {
				t.Fatalf("%d→%d: value %d is %g, want 0.25", g[0], g[1], i, v)
			}
		}
	}
}
