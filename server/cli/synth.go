package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"dapo/server/synth"
)

func newSynthCmd() *cobra.Command {
	var (
		out, family      string
		n, size, workers int
		seed             uint64
		force            bool
	)
	cmd := &cobra.Command{
		Use:   "synth --out DIR --family A|B [--n N] [--size PX] [--seed S]",
		Short: "Generate a synthetic industrial-defect dataset with exact masks (MVTec layout)",
		Long: `Draws procedural product photos with and without defects, and the exact
ground-truth mask of each defect, in MVTec-AD layout. Family A and family B
have different products, so training on one and testing on the other is a
distribution shift; B also shows defects A never has.

` + synthFamiliesHelp() + `
Defects (the folder name is the defect word; a key of several words would
join them with '_', read as a space):
` + synthDefectsHelp() + `
Layout under --out:
  <product>/train/good/NNN.png                 max(1, N/2) normal images
  <product>/test/good/NNN.png                  about 40% of the N test images
  <product>/test/<defect>/NNN.png              the rest, spread over the defects
                                               (in table order: with fewer defective
                                               images than defects, the last get none)
  <product>/ground_truth/<defect>/NNN_mask.png 8-bit gray, 0 or 255, image size
  dataset.json, README.txt                     products, defect words, counts, seed

Masks are drawn with the defect, not estimated: 255 where the defect covers
at least 10% of a pixel, 0 elsewhere, and every pixel outside the mask equals
the same image drawn without the defect. A missing mask holds the removed
part only; a bent mask the product where it moved half a pixel or more.

The same flags give byte-identical files, whatever --workers. --out must be
empty or absent; --force writes into a non-empty folder, replacing this
family's product folders, dataset.json and README.txt and leaving anything
else alone.`,
		Example: `  dapo synth --out data/synth-a --family A --n 40
  dapo synth --out data/synth-b --family B --n 40 --size 320 --seed 1
  dapo data summary --format mvtec --root data/synth-b`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if size == 0 { // the library would read 0 as the default
				return fmt.Errorf("--size 0 outside [%d, %d] pixels", synth.MinSize, synth.MaxSize)
			}
			var p *progress
			start := time.Now()
			m, err := synth.Generate(cmd.Context(), out, synth.Options{
				Family: family, N: n, Size: size, Seed: seed, Workers: workers, Force: force,
				Progress: func(_, total int) {
					if p == nil {
						p = newProgress(cmd.ErrOrStderr(), total, "synth images")
					}
					p.add(1)
				},
			})
			if p != nil {
				p.finish()
			}
			if err != nil {
				return err
			}
			took := time.Since(start)
			names := make([]string, 0, len(m.Products))
			for _, pm := range m.Products {
				names = append(names, pm.Name)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "wrote %d images (%dx%d, family %s: %s) to %s in %s, %.0f images/s\n",
				m.Images, m.Size, m.Size, m.Family, strings.Join(names, ", "), out, took.Round(time.Millisecond), float64(m.Images)/took.Seconds())
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "output folder (created; must be empty unless --force)")
	f.StringVar(&family, "family", "", "product family: A or B (any case)")
	f.IntVar(&n, "n", 20, "test images per product (about 40% good); training images are max(1, n/2)")
	f.IntVar(&size, "size", synth.DefaultSize, fmt.Sprintf("image side in pixels, %d..%d", synth.MinSize, synth.MaxSize))
	f.Uint64Var(&seed, "seed", 0, "random seed; the same seed gives the same files")
	f.IntVar(&workers, "workers", 0, "images drawn at once (0: one per CPU); does not change the output")
	f.BoolVar(&force, "force", false, "write into a non-empty --out, replacing this family's product folders")
	for _, name := range []string{"out", "family"} {
		if err := cmd.MarkFlagRequired(name); err != nil {
			panic(err) // only fails for a flag name that does not exist
		}
	}
	return cmd
}

func synthFamiliesHelp() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  FAMILY\tPRODUCT\tDEFECTS")
	for _, fam := range []string{synth.FamilyA, synth.FamilyB} {
		ps, err := synth.Products(fam)
		if err != nil {
			panic(err) // both families are built in
		}
		for _, p := range ps {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", fam, p.Name, strings.Join(p.Defects, ", "))
		}
	}
	tw.Flush()
	return b.String()
}

func synthDefectsHelp() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, d := range synth.DefectTypes() {
		fmt.Fprintf(tw, "  %s\t%s\t(family %s)\n", d.Key, d.Description, strings.Join(d.Families, ", "))
	}
	tw.Flush()
	return b.String()
}
