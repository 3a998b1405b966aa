// Package cli implements the dapo command line: one file per verb, each
// building its cobra command without package-level state.
package cli

import (
	"context"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
)

// NewRoot builds the dapo command tree.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "dapo",
		Short: "Zero-shot, multi-type industrial anomaly detection with defect-aware CLIP prompts",
		Long: `dapo finds and names defects in product photos without defect samples of that
product: CLIP image patches are matched against defect-aware text prompts
(DAPO) learned once on an auxiliary labelled dataset. It gives an anomaly
score per image, a pixel heatmap and the defect type per region.

Backbones: a folder with a CLIP checkpoint (--model DIR) in the project's
layout, open_clip's hub layout or Hugging Face's, or a name fetched with
'dapo weights pull'. 'dapo model init' makes deterministic random backbones
for tests and demos.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	verbose := root.PersistentFlags().BoolP("verbose", "v", false, "log debug messages")
	root.PersistentPreRun = func(cmd *cobra.Command, _ []string) {
		level := slog.LevelInfo
		if *verbose {
			level = slog.LevelDebug
		}
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	}
	for _, sub := range []func() *cobra.Command{newModelCmd, newEmbedCmd, newWeightsCmd, newCheckpointCmd, newTrainCmd, newDetectCmd, newFeaturesCmd, newServeCmd, newTestCmd, newCalibrateCmd, newDataCmd, newSynthCmd, newBenchCmd} {
		root.AddCommand(sub())
	}
	return root
}

// Execute runs the command line with ctx and returns the process exit code.
func Execute(ctx context.Context, args []string) int {
	root := NewRoot()
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		root.PrintErrln("dapo:", err)
		return 1
	}
	return 0
}
