// Package inspect is the inspection app's logic without a browser: loaded
// items and their scoring, the gallery order, ground-truth masks, the
// composited view (image, heatmap, outlines), the gallery index and the
// JSON report. It builds natively and for js/wasm, so everything the vugu
// components show is unit-tested natively; the components and the
// syscall/js glue in ui/app only wire it to the page.
package inspect
