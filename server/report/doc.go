// Package report writes the figures and tables of an evaluation run
// (`dapo test`): per-product metric tables (Markdown, CSV, JSON), ROC and PR
// curves, confusion matrices of defect-type predictions, the PCA view of
// defect-region patch features against the class text features (the
// paper's Figure 1) and a deterministic sample of images for heatmap
// galleries.
//
// Every writer replaces its file atomically (temporary file + rename) so a
// crashed run never leaves a truncated figure, and the output is a pure
// function of the input: no timestamps, no randomness beyond fixed seeds,
// rows in the order given. Plots use gonum/plot with its embedded
// Liberation fonts, so nothing is fetched at run time.
package report
