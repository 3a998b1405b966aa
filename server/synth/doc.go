// Package synth draws a synthetic industrial-defect dataset in MVTec-AD
// layout, with exact ground-truth masks, for training and testing DAPO
// without downloading a benchmark.
//
// Two families of products make a distribution shift: train on A, test on
// B. B shows every defect of A plus three A never has, so a model trained
// on A meets unseen defect words on B.
//
//	family  products                          defects
//	A       metal_plate, wood, fabric         scratch, hole, contamination, discoloration
//	B       pcb, washer, stone_tile           scratch, hole, contamination, discoloration,
//	                                          crack, missing, bent
//
// Defect folders are defect words. Every key here is one word; a key of
// several words would join them with '_' (Word reads '_' as a space).
// "missing" stands for a missing part, "bent" for bent or deformed.
//
// Images are drawn procedurally: gradient (Perlin) and cellular noise with
// fBm for the materials, analytic shapes with one-pixel antialiased edges
// for parts, then per-image lighting (exposure, white balance, light
// fall-off, vignetting) and sensor noise. Pose, colour and lighting vary
// from image to image, so no two normal images are alike.
//
// Masks are drawn with the defect, not estimated: each defect yields a
// coverage per pixel; pixels covered at least MaskThreshold are blended
// towards the defect and set to 255 in the mask, and every other pixel is
// left exactly as the defect-free render. Render of a defect and of Good
// with the same seed therefore differ only inside the mask, without
// tolerance.
//
// Generate writes, per product, N test images (round(0.4·N) good, the rest
// spread over the product's defects in table order, so with fewer defective
// images than defects the last get none) and max(1, N/2) good training
// images, plus dataset.json (Manifest) and README.txt describing products,
// defect words, counts and seed.
//
// Every image has its own seed, derived from the run's seed and the image's
// place, and Render is a pure function of (product, defect, size, seed), so
// Generate draws on all cores and still writes byte-identical files for
// the same options (on one platform and Go version: floating point is not
// promised to match across architectures).
//
// To look at the images: SYNTH_SHEET=DIR go test -run ContactSheet writes a
// contact sheet per product and seed into DIR.
package synth
