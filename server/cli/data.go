package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"dapo/server/dataset"
)

func newDataCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Inspect anomaly-detection datasets (MVTec-AD, VisA, MPDD, MAD, Real-IAD, meta.json, plain folders)",
		Long: `Reads a benchmark dataset in its released layout, or the reference's
meta.json, and reports what it holds: products, splits, defect types,
images and masks. A malformed layout (missing folder, CSV or JSON, a CSV row
of the wrong width, unparsable JSON, a defective image without its mask) is
an error naming the file.`,
	}
	cmd.AddCommand(newDataSummaryCmd())
	return cmd
}

func newDataSummaryCmd() *cobra.Command {
	var (
		format, root string
		asJSON       bool
	)
	cmd := &cobra.Command{
		Use:   "summary --format FORMAT --root DIR [--json]",
		Short: "Count images and masks per product, split and defect type",
		Long: `Loads the dataset at --root and counts its images per product, split and
defect key (the defect folder; VisA's image_anno.csv label; "good" for
normal images), with how many have a ground-truth mask.

Formats (--format) and the layout each expects under --root:
` + formatHelp() + `
--json prints {"products": {PRODUCT: {SPLIT: {DEFECT: COUNT}}}} with splits
"train" and "test" (formats without splits report everything as "test");
without it a table with mask counts and totals is printed.`,
		Example: `  dapo data summary --format mvtec --root ../shared/data/mvtec-mini
  dapo data summary --format visa --root /data/VisA_20220922 --json
  dapo data summary --format folder --root ./my_part_photos`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := dataset.Load(format, root)
			if err != nil {
				return err
			}
			slog.Debug("dataset loaded", "format", d.Format, "root", d.Root, "items", len(d.Items))
			if asJSON {
				return writeSummaryJSON(cmd.OutOrStdout(), d)
			}
			return writeSummaryTable(cmd.OutOrStdout(), d)
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "dataset format: "+strings.Join(formatNames(), ", "))
	cmd.Flags().StringVar(&root, "root", "", "dataset root folder (for meta: the folder of meta.json, or the file)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the counts as JSON")
	for _, f := range []string{"format", "root"} {
		if err := cmd.MarkFlagRequired(f); err != nil {
			panic(err) // only fails for a flag name that does not exist
		}
	}
	return cmd
}

func formatNames() []string {
	var names []string
	for _, f := range dataset.Formats() {
		names = append(names, f.Name)
	}
	return names
}

func formatHelp() string {
	var b strings.Builder
	for _, f := range dataset.Formats() {
		fmt.Fprintf(&b, "  %-9s %s\n", f.Name, f.Layout)
	}
	return b.String()
}

// summaryJSON is the --json document.
type summaryJSON struct {
	Products map[string]map[string]map[string]int `json:"products"`
}

func writeSummaryJSON(w io.Writer, d *dataset.Dataset) error {
	out := summaryJSON{Products: map[string]map[string]map[string]int{}}
	for product, splits := range d.Counts() {
		out.Products[product] = map[string]map[string]int{}
		for split, keys := range splits {
			out.Products[product][split] = map[string]int{}
			for key, c := range keys {
				out.Products[product][split][key] = c.Images
			}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

func writeSummaryTable(w io.Writer, d *dataset.Dataset) error {
	counts := d.Counts()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "PRODUCT\tSPLIT\tDEFECT\tIMAGES\tMASKS\n")
	var total, normal, anomalous, masks int
	perSplit := map[string]int{}
	for _, product := range d.Products() {
		for _, split := range []string{dataset.SplitTrain, dataset.SplitTest} {
			keys := counts[product][split]
			for _, key := range defectOrder(keys) {
				c := keys[key]
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\n", product, split, key, c.Images, c.Masks)
				total += c.Images
				anomalous += c.Anomalous
				normal += c.Images - c.Anomalous
				masks += c.Masks
				perSplit[split] += c.Images
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	_, err := fmt.Fprintf(w, "\n%s dataset at %s: %d products, %d images (train %d, test %d; %d normal, %d anomalous), %d masks\n",
		d.Format, d.Root, len(d.Products()), total, perSplit[dataset.SplitTrain], perSplit[dataset.SplitTest], normal, anomalous, masks)
	if err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// defectOrder lists "good" first, then the defect keys alphabetically.
func defectOrder(keys map[string]dataset.Count) []string {
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b string) int {
		if (a == dataset.GoodKey) != (b == dataset.GoodKey) {
			if a == dataset.GoodKey {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	return out
}
