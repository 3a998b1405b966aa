// Package render draws DAPO's outputs for people: anomaly maps as
// colour heatmaps, heatmaps blended over the input image, binary masks,
// mask outlines (prediction against ground truth) and per-pixel defect
// classes, plus resizing of a map back to the original image size and PNG
// encoding.
//
// It is pure Go (standard library only) so that the CLI, the server and
// the browser (js/wasm) render identically.
package render
