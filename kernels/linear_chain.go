//go:build cuda

package kernels

import "github.com/gosdxl/gosdxl/tensor"

// tensor.LinearChain in one launch (cuda/linear_chain.cu, planned in
// linear_chain_plan.go).

var _ tensor.FusedLinearChain = (*Backend)(nil)

// LinearChain runs up to three Linears on at most eight rows in one launch
// when the fast linear kernels are active and the case fits (F16 or BF16
// throughout, widths a multiple of 8, activations the epilogue knows), and
// reports whether it did; otherwise nothing is queued and the caller
// composes the layers.
func (b *Backend) LinearChain(x *tensor.Tensor, layers []tensor.ChainLayer) bool {
	if !b.useFast(opLinear) {
		return false
	}
	p := chainProblem{x: b.operandOf("x", x), sms: b.info.multiprocessors}
	for _, l := range layers {
		act, ok := epilogueActivation(l.Act)
		if !ok {
			return false
		}
		p.layers = append(p.layers, chainLayerOps{
			w: b.operandOf("weight", l.W), bias: b.operandOf("bias", l.Bias),
			residual: b.operandOf("residual", l.Residual), out: b.operandOf("output", l.Out), act: act,
		})
	}
	pl, err := p.plan()
	if !handles(err) {
		return false
	}
	if pl.empty() {
		return true
	}
	l0, l1, l2 := chainArgsOf(layers, p.layers, 0), chainArgsOf(layers, p.layers, 1), chainArgsOf(layers, p.layers, 2)
	b.Launch(Kernel{"linear_chain", "linear_chain_" + halfSuffix(x.DType())}, pl.grid, pl.block, pl.shared,
		x, pl.rows, len(layers),
		l0.w, l0.bias, l0.residual, l0.out, l0.n, l0.k, l0.act,
		l1.w, l1.bias, l1.residual, l1.out, l1.n, l1.k, l1.act,
		l2.w, l2.bias, l2.residual, l2.out, l2.n, l2.k, l2.act,
		b.tileSemaphores(chainCounters))
	return true
}

// chainArgs are one layer's kernel arguments.
type chainArgs struct {
	w, bias, residual, out *tensor.Tensor
	n, k                   int
	act                    int32
}

// chainArgsOf returns layer i's arguments; past the last layer, the last
// one's again (the kernel ignores layers past its count).
func chainArgsOf(layers []tensor.ChainLayer, ops []chainLayerOps, i int) chainArgs {
	i = min(i, len(layers)-1)
	l := layers[i]
	return chainArgs{w: l.W, bias: l.Bias, residual: l.Residual, out: l.Out,
		n: l.W.Shape()[0], k: l.W.Shape()[1], act: int32(ops[i].act)}
}
