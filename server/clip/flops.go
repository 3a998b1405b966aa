package clip

// VisionFLOPs counts the floating-point operations (2 per multiply-add) of
// one image through the vision tower: patch embedding, per block the four
// projections and the two attention products, and the final projection.
func VisionFLOPs(cfg Config) float64 {
	g := cfg.Grid()
	w := float64(cfg.Vision.Width)
	p := float64(cfg.Vision.PatchSize)
	patch := 2 * float64(g*g) * 3 * p * p * w
	blocks := TowerFLOPs(1, 1+g*g, cfg.Vision.Width, cfg.VisionMLP(), cfg.Vision.Layers)
	return patch + blocks + 2*w*float64(cfg.EmbedDim)
}

// TowerFLOPs counts the operations of batch sequences of seq tokens through
// layers transformer blocks of the given width and MLP width: the four
// projections and the two (bidirectional) attention products.
func TowerFLOPs(batch, seq, width, mlp, layers int) float64 {
	n := float64(batch) * float64(seq)
	l, w, m := float64(seq), float64(width), float64(mlp)
	perBlock := 2*n*w*3*w + 2*n*w*w + 2*2*n*m*w + 2*2*n*l*w
	return float64(layers) * perBlock
}
