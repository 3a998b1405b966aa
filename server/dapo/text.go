package dapo

import (
	"context"

	"dapo/server/clip"
	"dapo/server/compute"
)

// Trace observes named intermediates ("text.block_in", "text.block_out",
// "vision.block_in", …) with the 0-based block index; tests compare them
// with the reference. Nil means no tracing.
type Trace func(name string, layer int, x clip.Seq)

// TextFeatures are the class text features.
type TextFeatures struct {
	Groups   []float32 // [(1+S), P, E] projected read-out rows
	Raw      []float32 // [(1+S), E] mean over the P groups
	Features []float32 // [(1+S), E] L2-normalised: t_0 normal, t_1..t_S defects
	Readout  []int     // row read from each prompt sequence
}

// EncodeText runs DAPO's prompt encoder on the CPU: EncodeTextOn over the
// CPU backend, using the weights and parameters in place.
func EncodeText(ctx context.Context, c Config, text *clip.Text, p *Params, ids [][]int, trace Trace) (*TextFeatures, error) {
	be := &compute.CPU{}
	prompts, err := UploadTextPrompts(be, p)
	if err != nil {
		return nil, err
	}
	return EncodeTextOn(ctx, c, text.Pass(be), prompts, ids, trace)
}
