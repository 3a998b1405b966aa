package train

import (
	"fmt"
	"hash"
	"hash/fnv"
	"unsafe"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// towerRun is one frozen tower as the graph sees it: given its
// differentiable inputs it returns all its outputs packed in one flat
// vector, and a backward that maps the gradient of that vector to one
// gradient per input. The backward owns private copies of whatever it
// needs (gorgonia overwrites returned tensors in place, docs/gorgonia.md).
type towerRun func(inputs [][]float32) (out []float32, backward func(dOut []float32) ([][]float32, error), err error)

// towerOp enters a frozen tower into a gorgonia graph. gorgonia ops return
// one value, so every output travels packed in one flat vector and partOp
// slices it; the op is an SDOp whose gradient is towerGradOp.
//
// One op value per application: the forward stores its backward closure in
// the op, and a generation counter makes sure the backward belongs to the
// forward of the same run.
type towerOp struct {
	name    string
	shapes  []tensor.Shape // input shapes
	outLen  int
	run     towerRun
	back    func([]float32) ([][]float32, error)
	gen     int
	backGen int
}

func newTowerOp(name string, shapes []tensor.Shape, outLen int, run towerRun) *towerOp {
	return &towerOp{name: name, shapes: shapes, outLen: outLen, run: run}
}

func (op *towerOp) Arity() int { return len(op.shapes) }

func (op *towerOp) Type() hm.Type {
	ts := make(hm.Types, 0, len(op.shapes)+1)
	for _, s := range op.shapes {
		ts = append(ts, G.TensorType{Dims: s.Dims(), Of: tensor.Float32})
	}
	ts = append(ts, G.TensorType{Dims: 1, Of: tensor.Float32})
	return hm.NewFnType(ts...)
}

func (op *towerOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if len(in) != len(op.shapes) {
		return nil, fmt.Errorf("%s: %d inputs, want %d", op.name, len(in), len(op.shapes))
	}
	for i, d := range in {
		s, ok := d.(tensor.Shape)
		if ok && !s.Eq(op.shapes[i]) {
			return nil, fmt.Errorf("%s: input %d has shape %v, want %v", op.name, i, s, op.shapes[i])
		}
	}
	return tensor.Shape{op.outLen}, nil
}

func (op *towerOp) Do(vals ...G.Value) (G.Value, error) {
	inputs := make([][]float32, len(vals))
	for i, v := range vals {
		d, err := float32Data(v)
		if err != nil {
			return nil, fmt.Errorf("%s: input %d: %w", op.name, i, err)
		}
		inputs[i] = d // read only: they can be the parameter buffers themselves
	}
	out, back, err := op.run(inputs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op.name, err)
	}
	if len(out) != op.outLen {
		return nil, fmt.Errorf("%s: %d outputs, want %d", op.name, len(out), op.outLen)
	}
	op.back, op.gen = back, op.gen+1
	return tensor.New(tensor.WithShape(op.outLen), tensor.WithBacking(out)), nil
}

func (op *towerOp) ReturnsPtr() bool     { return false }
func (op *towerOp) CallsExtern() bool    { return false }
func (op *towerOp) OverwritesInput() int { return -1 }
func (op *towerOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "tower:%s:%x", op.name, uintptr(unsafe.Pointer(op)))
}
func (op *towerOp) Hashcode() uint32 { return hashOf(op) }
func (op *towerOp) String() string   { return "Tower(" + op.name + ")" }

func (op *towerOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

// SymDiff returns, per input, a slice of the packed gradient that
// towerGradOp computes.
func (op *towerOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	gop := &towerGradOp{fwd: op}
	packed, err := G.ApplyOp(gop, append(append(G.Nodes{}, inputs...), output, grad)...)
	if err != nil {
		return nil, err
	}
	out := make(G.Nodes, len(inputs))
	off := 0
	for i, s := range op.shapes {
		if out[i], err = G.ApplyOp(&partOp{offset: off, shape: s.Clone(), total: gop.total()}, packed); err != nil {
			return nil, err
		}
		off += s.TotalSize()
	}
	return out, nil
}

// towerGradOp computes the gradients of every tower input, packed.
type towerGradOp struct{ fwd *towerOp }

func (op *towerGradOp) total() int {
	n := 0
	for _, s := range op.fwd.shapes {
		n += s.TotalSize()
	}
	return n
}

func (op *towerGradOp) Arity() int { return len(op.fwd.shapes) + 2 }

func (op *towerGradOp) Type() hm.Type {
	ts := make(hm.Types, 0, len(op.fwd.shapes)+3)
	for _, s := range op.fwd.shapes {
		ts = append(ts, G.TensorType{Dims: s.Dims(), Of: tensor.Float32})
	}
	ts = append(ts, G.TensorType{Dims: 1, Of: tensor.Float32}, G.TensorType{Dims: 1, Of: tensor.Float32}, G.TensorType{Dims: 1, Of: tensor.Float32})
	return hm.NewFnType(ts...)
}

func (op *towerGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.total()}, nil
}

func (op *towerGradOp) Do(vals ...G.Value) (G.Value, error) {
	f := op.fwd
	if f.back == nil || f.backGen == f.gen {
		return nil, fmt.Errorf("%s gradient: no forward pass of this run to differentiate", f.name)
	}
	dOut, err := float32Data(vals[len(vals)-1])
	if err != nil {
		return nil, fmt.Errorf("%s gradient: %w", f.name, err)
	}
	grads, err := f.back(dOut)
	if err != nil {
		return nil, fmt.Errorf("%s gradient: %w", f.name, err)
	}
	f.backGen = f.gen
	packed := make([]float32, 0, op.total())
	for i, g := range grads {
		if len(g) != f.shapes[i].TotalSize() {
			return nil, fmt.Errorf("%s gradient: input %d has %d values, want %d", f.name, i, len(g), f.shapes[i].TotalSize())
		}
		packed = append(packed, g...)
	}
	return tensor.New(tensor.WithShape(len(packed)), tensor.WithBacking(packed)), nil
}

func (op *towerGradOp) ReturnsPtr() bool     { return false }
func (op *towerGradOp) CallsExtern() bool    { return false }
func (op *towerGradOp) OverwritesInput() int { return -1 }
func (op *towerGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "towergrad:%s:%x", op.fwd.name, uintptr(unsafe.Pointer(op.fwd)))
}
func (op *towerGradOp) Hashcode() uint32 { return hashOf(op) }
func (op *towerGradOp) String() string   { return "TowerGrad(" + op.fwd.name + ")" }

// partOp takes shape's worth of values at offset out of a flat vector. Its
// hash carries offset and size in full (gorgonia's own Slice truncates them
// to a byte and merges distinct slices, docs/gorgonia.md).
type partOp struct {
	offset, total int
	shape         tensor.Shape
}

func (op *partOp) Arity() int { return 1 }
func (op *partOp) Type() hm.Type {
	return hm.NewFnType(G.TensorType{Dims: 1, Of: tensor.Float32}, G.TensorType{Dims: op.shape.Dims(), Of: tensor.Float32})
}
func (op *partOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op *partOp) Do(vals ...G.Value) (G.Value, error) {
	src, err := float32Data(vals[0])
	if err != nil {
		return nil, err
	}
	n := op.shape.TotalSize()
	if op.offset+n > len(src) {
		return nil, fmt.Errorf("part [%d:%d] of %d values", op.offset, op.offset+n, len(src))
	}
	out := append([]float32(nil), src[op.offset:op.offset+n]...)
	return tensor.New(tensor.WithShape(op.shape.Clone()...), tensor.WithBacking(out)), nil
}
func (op *partOp) ReturnsPtr() bool     { return false }
func (op *partOp) CallsExtern() bool    { return false }
func (op *partOp) OverwritesInput() int { return -1 }
func (op *partOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "part:%d:%d:%v", op.offset, op.total, op.shape)
}
func (op *partOp) Hashcode() uint32   { return hashOf(op) }
func (op *partOp) String() string     { return fmt.Sprintf("Part[%d:+%v]", op.offset, op.shape) }
func (op *partOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff scatters the part's gradient back into a zero vector of the
// packed length; gorgonia sums the scatters of all parts.
func (op *partOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	n, err := G.ApplyOp(&scatterOp{offset: op.offset, total: op.total, shape: op.shape}, grad)
	return G.Nodes{n}, err
}

// scatterOp places a part back at its offset in a zero vector.
type scatterOp struct {
	offset, total int
	shape         tensor.Shape
}

func (op *scatterOp) Arity() int { return 1 }
func (op *scatterOp) Type() hm.Type {
	return hm.NewFnType(G.TensorType{Dims: op.shape.Dims(), Of: tensor.Float32}, G.TensorType{Dims: 1, Of: tensor.Float32})
}
func (op *scatterOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.total}, nil
}
func (op *scatterOp) Do(vals ...G.Value) (G.Value, error) {
	src, err := float32Data(vals[0])
	if err != nil {
		return nil, err
	}
	out := make([]float32, op.total)
	copy(out[op.offset:], src)
	return tensor.New(tensor.WithShape(op.total), tensor.WithBacking(out)), nil
}
func (op *scatterOp) ReturnsPtr() bool     { return false }
func (op *scatterOp) CallsExtern() bool    { return false }
func (op *scatterOp) OverwritesInput() int { return -1 }
func (op *scatterOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "scatter:%d:%d:%v", op.offset, op.total, op.shape)
}
func (op *scatterOp) Hashcode() uint32 { return hashOf(op) }
func (op *scatterOp) String() string   { return fmt.Sprintf("Scatter[%d:+%v]", op.offset, op.shape) }

func hashOf(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
