package train

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// builder wraps gorgonia's node constructors with a sticky error, so that
// graph code reads as the formulas it builds; the first error is kept.
type builder struct {
	g   *G.ExprGraph
	err error
}

func (b *builder) do(n *G.Node, err error) *G.Node {
	if b.err == nil && err != nil {
		b.err = err
	}
	return n
}

func (b *builder) fail(err error) *G.Node {
	if b.err == nil {
		b.err = err
	}
	return nil
}

// ok reports whether all operands exist (no earlier error).
func (b *builder) ok(ns ...*G.Node) bool {
	if b.err != nil {
		return false
	}
	for _, n := range ns {
		if n == nil {
			b.err = fmt.Errorf("train graph: missing operand")
			return false
		}
	}
	return true
}

func (b *builder) mul(x, y *G.Node) *G.Node {
	if !b.ok(x, y) {
		return nil
	}
	return b.do(G.Mul(x, y))
}
func (b *builder) transpose(x *G.Node, axes ...int) *G.Node {
	if !b.ok(x) {
		return nil
	}
	return b.do(G.Transpose(x, axes...))
}
func (b *builder) reshape(x *G.Node, shape ...int) *G.Node {
	if !b.ok(x) {
		return nil
	}
	return b.do(G.Reshape(x, tensor.Shape(shape)))
}
func (b *builder) sum(x *G.Node, axes ...int) *G.Node {
	if !b.ok(x) {
		return nil
	}
	return b.do(G.Sum(x, axes...))
}
func (b *builder) mean(x *G.Node) *G.Node {
	if !b.ok(x) {
		return nil
	}
	return b.do(G.Mean(x))
}
func (b *builder) hadamard(x, y *G.Node) *G.Node {
	if !b.ok(x, y) {
		return nil
	}
	return b.do(G.HadamardProd(x, y))
}
func (b *builder) div(x, y *G.Node) *G.Node {
	if !b.ok(x, y) {
		return nil
	}
	return b.do(G.Div(x, y))
}
func (b *builder) add(x, y *G.Node) *G.Node {
	if !b.ok(x, y) {
		return nil
	}
	return b.do(G.Add(x, y))
}
func (b *builder) sub(x, y *G.Node) *G.Node {
	if !b.ok(x, y) {
		return nil
	}
	return b.do(G.Sub(x, y))
}
func (b *builder) square(x *G.Node) *G.Node {
	if !b.ok(x) {
		return nil
	}
	return b.do(G.Square(x))
}
func (b *builder) sqrt(x *G.Node) *G.Node {
	if !b.ok(x) {
		return nil
	}
	return b.do(G.Sqrt(x))
}
func (b *builder) log(x *G.Node) *G.Node {
	if !b.ok(x) {
		return nil
	}
	return b.do(G.Log(x))
}
func (b *builder) neg(x *G.Node) *G.Node {
	if !b.ok(x) {
		return nil
	}
	return b.do(G.Neg(x))
}
func (b *builder) softmax(x *G.Node) *G.Node {
	if !b.ok(x) {
		return nil
	}
	return b.do(G.SoftMax(x))
}
func (b *builder) slice(x *G.Node, s ...tensor.Slice) *G.Node {
	if !b.ok(x) {
		return nil
	}
	return b.do(G.Slice(x, s...))
}
func (b *builder) concat(axis int, xs ...*G.Node) *G.Node {
	if !b.ok(xs...) {
		return nil
	}
	return b.do(G.Concat(axis, xs...))
}

// broadcastAdd adds a row vector v [n] to every row of x [m, n].
func (b *builder) broadcastAdd(x, v *G.Node) *G.Node {
	if !b.ok(x, v) {
		return nil
	}
	row := b.reshape(v, 1, v.Shape()[0])
	return b.do(G.BroadcastAdd(x, row, nil, []byte{0}))
}

// rowNormalize divides every row of x [m, n] by its Euclidean norm.
func (b *builder) rowNormalize(x *G.Node) *G.Node {
	if !b.ok(x) {
		return nil
	}
	m := x.Shape()[0]
	norm := b.reshape(b.sqrt(b.sum(b.square(x), 1)), m, 1)
	if !b.ok(norm) {
		return nil
	}
	return b.do(G.BroadcastHadamardDiv(x, norm, nil, []byte{1}))
}

// scale multiplies x by a constant.
func (b *builder) scale(x *G.Node, c float32) *G.Node {
	if !b.ok(x) {
		return nil
	}
	return b.do(G.Mul(x, G.NewConstant(c)))
}

// constant adds a fixed tensor to the graph.
func (b *builder) constant(name string, shape []int, data []float32) *G.Node {
	if b.err != nil {
		return nil
	}
	if len(data) != shapeSize(shape) {
		return b.fail(fmt.Errorf("train graph: constant %s has %d values for shape %v", name, len(data), shape))
	}
	t := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
	return G.NewTensor(b.g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(t))
}

func shapeSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
