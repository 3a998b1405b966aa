package clip

// VisionFLOPs counts the floating-point operations (2 per multiply-add) of
// one image through the vision tower: patch embedding, per block the four
// projections and the two attention products, and the final projection.
func VisionFLOPs(cfg Config) float64 {
	g := cfg.Grid()
	l := float64(1 + g*g)
	w := float64(cfg.Vision.Width)
	m := float64(cfg.VisionMLP())
	p := float64(cfg.Vision.PatchSize)
	patch := 2 * float64(g*g) * 3 * p * p * w
	perBlock := 2*l*w*3*w + 2*l*w*w + 2*2*l*m*w + 2*2*l*l*w
	return patch + float64(cfg.Vision.Layers)*perBlock + 2*w*float64(cfg.EmbedDim)
}
