package bind_test

import (
	"context"
	"testing"

	"dapo/server/compute"
	"dapo/server/compute/bind/bindtest"
	"dapo/server/compute/computetest"
	"dapo/server/dapo"
)

// TestGoldenCPU: the towers as bound for a device, run on the CPU backend,
// against the reference (the GPU bundle runs the same check on the GPU).
func TestGoldenCPU(t *testing.T) { bindtest.Golden(t, &compute.CPU{}) }

// TestGoldenStrict: the same under a GPU's memory rules
// (computetest.Strict: allocations not zeroed, uploads copied, only live
// allocations freed, freed memory poisoned and reused).
func TestGoldenStrict(t *testing.T) {
	be := &computetest.Strict{}
	bindtest.Golden(t, be)
	if err := be.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestEncodesFreeWhatTheyAllocate: with the towers and prompts bound, each
// encode (plain image and text, DAPO's image and text sides) leaves the
// backend holding exactly the bound weights, as a long-running GPU server
// needs.
func TestEncodesFreeWhatTheyAllocate(t *testing.T) {
	m := bindtest.LoadModel(t)
	be := &computetest.Strict{}
	ctx := context.Background()
	on := m.Bind(t, be)
	vision, text, ip, tp := on.Vision, on.Text, on.Image, on.TextPrompts
	ids := m.TemplateIDs(t)
	pixels, batch := m.Pixels(t)
	bound := be.Live()
	for _, c := range []struct {
		name string
		run  func() error
	}{
		{"dapo image side", func() error {
			_, err := dapo.EncodeImageOn(ctx, m.Config, vision, ip, pixels, batch, nil)
			return err
		}},
		{"dapo text side", func() error {
			_, err := dapo.EncodeTextOn(ctx, m.Config, text, tp, ids, nil)
			return err
		}},
		{"plain text", func() error {
			_, err := text.EncodeText(ctx, ids)
			return err
		}},
	} {
		if err := c.run(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := be.Err(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := be.Live(); got != bound {
			t.Errorf("%s: %d allocations live afterwards, %d bound", c.name, got, bound)
		}
	}
}
