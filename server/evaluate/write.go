package evaluate

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"dapo/server/report"
)

// Output files of Run, relative to Options.Out.
const (
	FileJSON          = "metrics.json"
	FileMarkdown      = "metrics.md"
	FileCSV           = "metrics.csv"
	FileDefectCSV     = "per_defect.csv"
	FileBinaryPNG     = "confusion_binary.png"
	FileDefectTypePNG = "confusion_defect_type.png"
	FileEmbedding     = "embedding.png"
)

// write draws the run-level figures and writes the tables and the JSON.
func (r *runner) write(rep *Report) error {
	out := r.opts.Out
	at := func(name string) string { return filepath.Join(out, name) }
	if err := report.ROCPlot(at("curves/roc.png"), "Image ROC per product", r.rocs); err != nil {
		return err
	}
	if err := report.PRPlot(at("curves/pr.png"), "Image PR per product", r.prs); err != nil {
		return err
	}
	r.files = append(r.files, "curves/roc.png", "curves/pr.png")
	title := fmt.Sprintf("Image verdict at threshold %.4g", rep.Config.ImageThreshold)
	if err := report.ConfusionPNG(at(FileBinaryPNG), title, rep.Binary.Labels, rep.Binary.Counts); err != nil {
		return err
	}
	r.files = append(r.files, FileBinaryPNG)
	if len(rep.DefectType.Labels) > 0 {
		if err := report.ConfusionPNG(at(FileDefectTypePNG), "Defect type per anomalous image", rep.DefectType.Labels, rep.DefectType.Counts); err != nil {
			return err
		}
		r.files = append(r.files, FileDefectTypePNG)
	}
	if err := r.embeddingPlot(at(FileEmbedding)); err != nil {
		return err
	}
	r.files = append(r.files, FileEmbedding)

	tables, err := Tables(rep)
	if err != nil {
		return err
	}
	if err := report.WriteCSV(at(FileCSV), tables[0]); err != nil {
		return err
	}
	if err := report.WriteCSV(at(FileDefectCSV), tables[1]); err != nil {
		return err
	}
	r.files = append(r.files, FileCSV, FileDefectCSV, FileMarkdown, FileJSON)
	slices.Sort(r.files)
	rep.Files = r.files
	md, err := Markdown(rep)
	if err != nil {
		return err
	}
	if err := os.WriteFile(at(FileMarkdown), []byte(md), 0o644); err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	return report.WriteJSON(at(FileJSON), rep)
}

// embeddingPlot draws the kept defect-region patch features coloured by
// defect type, with the class text features of the classes shown (all
// classes when no defect patch was found).
func (r *runner) embeddingPlot(path string) error {
	classes := r.det.Classes()
	var names []string
	var text [][]float32
	var points [][]float32
	var labels []int
	for c, kept := range r.embed.kept {
		if len(kept) == 0 {
			continue
		}
		for _, v := range kept {
			points, labels = append(points, v), append(labels, len(names))
		}
		names, text = append(names, classes[c]), append(text, r.det.Text[c])
	}
	if len(points) == 0 {
		names, text = classes, r.det.Text
	} else {
		names, text = append(names, classes[0]), append(text, r.det.Text[0])
	}
	return report.EmbeddingPlot(path, "Defect-region patch features (last feature layer, PCA)", points, labels, names, text)
}

// Tables builds the per-product table (with the mean row) and the
// per-defect table of a report.
func Tables(rep *Report) ([]report.Table, error) {
	products := make([]string, len(rep.Products))
	values := make([][]float64, len(rep.Products))
	for i, p := range rep.Products {
		products[i], values[i] = p.Product, p.Values()
	}
	main, err := report.MetricsTable("Per-product metrics (%), mean = unweighted mean over products", MetricNames(), products, values)
	if err != nil {
		return nil, err
	}
	def := report.Table{
		Title:   "Per-defect multi-type metrics (%), each averaged over the products whose class list holds it",
		Columns: []string{"defect", "auroc", "ap", "f1", "products"},
	}
	for _, d := range rep.PerDefect {
		def.Rows = append(def.Rows, []report.Cell{report.Text(d.Defect), report.Num(d.AUROC), report.Num(d.AP), report.Num(d.F1), report.Text(strconv.Itoa(len(d.Products)))})
	}
	if len(def.Rows) > 0 {
		def.Rows = append(def.Rows, report.MeanRow(def.Rows))
	}
	return []report.Table{main, def}, nil
}

// Markdown renders metrics.md: the run's settings, the per-product and
// per-defect tables and both confusion matrices.
func Markdown(rep *Report) (string, error) {
	c, n := rep.Config, rep.Counts
	var b strings.Builder
	fmt.Fprintf(&b, "# DAPO evaluation: %s, %s split\n\n", c.Format, c.Split)
	fmt.Fprintf(&b, "- dataset: `%s` (%d products, %d images: %d normal, %d anomalous)\n", c.Root, n.Products, n.Images, n.Normal, n.Anomalous)
	fmt.Fprintf(&b, "- checkpoint: `%s`, model `%s`, image size %d, feature layers %v\n", c.Checkpoint, c.Model, c.ImageSize, c.FeatureLayers)
	fmt.Fprintf(&b, "- defect words (%d): %s\n", len(c.Defects), strings.Join(c.Defects, ", "))
	fmt.Fprintf(&b, "- thresholds (%s): image %.6g, pixel %.6g\n", c.Thresholds, c.ImageThreshold, c.PixelThreshold)
	if c.MultiType {
		fmt.Fprintf(&b, "- multi-type: %d images scored, %d anomalous images skipped (defect without a word in the product's class list, or no mask)\n", n.MultiTypeImages, n.MultiTypeSkipped)
	}
	if n.AnomalousWithoutMask > 0 {
		fmt.Fprintf(&b, "- %d anomalous images without a mask were left out of the pixel metrics\n", n.AnomalousWithoutMask)
	}
	b.WriteString("\n")
	tables, err := Tables(rep)
	if err != nil {
		return "", err
	}
	if err := report.WriteMarkdown(&b, tables...); err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "\n### Image verdict at threshold %.6g (rows: true, columns: predicted)\n\n", c.ImageThreshold)
	if err := report.ConfusionMarkdown(&b, rep.Binary.Labels, rep.Binary.Counts); err != nil {
		return "", err
	}
	over := "the product's classes"
	if !c.MultiType {
		over = "all defect words"
	}
	fmt.Fprintf(&b, "\n### Defect type per anomalous image (predicted: image-level argmax over %s)\n\n", over)
	if len(rep.DefectType.Labels) == 0 {
		b.WriteString("No anomalous image has a defect word in use.\n")
	} else if err := report.ConfusionMarkdown(&b, rep.DefectType.Labels, rep.DefectType.Counts); err != nil {
		return "", err
	}
	figures := []string{"heatmaps/<product>/ (white outline: map > pixel threshold; green: ground truth)", "curves/", FileBinaryPNG}
	if len(rep.DefectType.Labels) > 0 {
		figures = append(figures, FileDefectTypePNG)
	}
	figures = append(figures, fmt.Sprintf("%s (%d of %d defect-region patches)", FileEmbedding, n.EmbeddingKept, n.EmbeddingPatches))
	fmt.Fprintf(&b, "\nFigures: %s.\n", strings.Join(figures, ", "))
	return b.String(), nil
}
