// Package weights loads CLIP backbones from a folder: the project's own
// layout, open_clip's hub layout or a Hugging Face transformers CLIPModel
// (see Layout). The safetensors file is memory-mapped and F32 tensors are
// used in place; F16 and BF16 tensors are converted to float32 on load,
// or, with Options.LazyHalf, the transformer blocks' matrices stay in the
// mapping and are converted per block as the towers run.
// Tensors are bound by open_clip names through clip.Bind, so a wrong
// checkpoint reports every missing or mis-shaped tensor at once.
package weights
