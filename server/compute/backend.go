// Package compute is the seam between the CLIP towers and the hardware: a
// small Backend interface of the kernels a pre-LN transformer needs, over
// opaque tensors, and the tower written once over it (Transformer with its
// tapes and backward, VisionTower, TextTower). The CPU backend (CPU, over
// kernels/cpu) and the CUDA backend (server/gpu, behind the dapocuda build
// tag, over kernels/cuda) implement it, so the same tower code drives
// both: server/clip's towers run this Transformer on CPU, and
// server/compute/bind maps clip's and dapo's weights onto any backend.
package compute

// Tensor is a float32 array owned by a Backend: a host slice on the CPU, a
// device buffer on a GPU. Only the backend that made it may use it.
type Tensor interface {
	// Len is the number of float32 elements.
	Len() int
}

// Backend runs the tower kernels. Every operation has the semantics of the
// kernels/cpu function of the same name (row-major, explicit sizes);
// backward operations ADD into their gradient outputs. Operations may be
// queued asynchronously and record the first failure, which Err reports:
// check it after a pass, not after every call. Sizes are element counts.
type Backend interface {
	Name() string

	// Memory. Alloc's contents are undefined; Free returns a tensor made by
	// Alloc, Zeros or Upload for reuse; View aliases elements [off, off+n).
	Alloc(n int) Tensor
	Zeros(n int) Tensor
	Free(t Tensor)
	View(t Tensor, off, n int) Tensor
	Upload(x []float32) Tensor
	Download(dst []float32, t Tensor)
	Copy(dst, src Tensor)
	Zero(t Tensor)
	Err() error

	// Dense layers (weights W [out,in] as nn.Linear; MatMul's W [in,out]).
	Linear(y, x Tensor, rows, in, out int, w, bias Tensor) // bias may be nil
	MatMul(y, x Tensor, rows, in, out int, w Tensor)
	// LinearResidual adds x·Wᵀ + bias to y (a block's residual projection,
	// accumulated inside the GEMM).
	LinearResidual(y, x Tensor, rows, in, out int, w, bias Tensor)
	LinearBackwardInput(dx, dy Tensor, rows, in, out int, w Tensor)
	// LinearBackwardWeight adds dyᵀ·x to dw [out,in] and Σ_rows dy to db
	// [out] (db may be nil): the gradients of trainable layers (DAPO's
	// adapters); the tower weights are frozen.
	LinearBackwardWeight(dw, db, dy, x Tensor, rows, in, out int)
	MatMulBackwardInput(dx, dy Tensor, rows, in, out int, w Tensor)
	Add(dst, src Tensor)

	// Normalisation, activation, attention (CLIP's epsilon 1e-5).
	LayerNorm(y, x Tensor, rows, width int, weight, bias Tensor)
	LayerNormBackward(dx, dy, x Tensor, rows, width int, weight Tensor)
	L2Normalize(x Tensor, rows, width int)
	// BiasActivation adds bias [cols] to every row of pre [rows,cols] in
	// place and sets y = act(pre), QuickGELU or exact GELU; y may be pre.
	BiasActivation(y, pre Tensor, rows, cols int, bias Tensor, quick bool)
	ActivationBackward(dx, dy, pre Tensor, n int, quick bool)
	Attention(out, qkv Tensor, batch, seq, width, heads int, causal bool)
	AttentionBackward(dqkv, dout, qkv Tensor, batch, seq, width, heads int, causal bool)

	// Sequence surgery for deep prompts and read-outs; x is [B,L,W].
	InsertAfterFirst(out, x, tokens Tensor, batch, seq, width, n int)
	RemoveAfterFirst(out, x Tensor, batch, seq, width, n int)
	BlendRows(x, tokens Tensor, batch, seq, width, n int, alpha float32)
	BlendRowsBackward(dx, dtokens Tensor, batch, seq, width, n int, alpha float32)
	GatherRows(out, x Tensor, rows []int, seq, width int) // out[n] = x[n, rows[n]]
	DropFirst(out, x Tensor, batch, seq, width int)       // out [B·(L−1),W]: rows 1..

	// Embeddings.
	PatchUnfold(patches, pixels Tensor, batch, size, patch int) // [B,3,S,S] → [B·G²,3p²]
	VisionAssemble(x, emb, cls, pos Tensor, batch, g2, width int)
	EmbedTokens(x, table Tensor, ids [][]int, pos Tensor, width int) // pos may be nil

	// The fused loss head of the training step (head.go).
	HeadBackend
}

// Recoverer is a Backend whose errors are sticky (a GPU's) and can be
// cleared after a failed pass when the device still works; Recover
// reports an error when it does not.
type Recoverer interface {
	Recover() error
}
