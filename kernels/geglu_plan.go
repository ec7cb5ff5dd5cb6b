package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Argument checks and grid of the GEGLU projection (gemm_geglu in
// cuda/gemm.cu): the feed-forward's first Linear with GEGLU in the GEMM's
// epilogue, free of the cuda build tag so that they are unit-tested
// without a GPU.

// gegluProblem is y[M,N] = (x·w[:N]ᵀ + bias[:N]) · gelu(x·w[N:]ᵀ + bias[N:])
// with w [2N, K] as stored and bias [2N] (optional).
type gegluProblem struct {
	y, x, w, bias operand
	tiles         tilePlanner // nil: chooseTiles for an H100
}

// gegluPlan is a launch plan with the problem's sizes (N: output columns).
type gegluPlan struct {
	tileLaunch
	M, N, K int
}

// shapes checks the operands' shapes (a mismatch is a programmer error)
// and returns M, N (outputs, half of w's rows) and K.
func (p gegluProblem) shapes() (M, N, K int, err error) {
	if len(p.w.shape) != 2 || len(p.x.shape) == 0 || len(p.y.shape) == 0 || p.w.shape[0]%2 != 0 {
		return 0, 0, 0, fmt.Errorf("linear GEGLU: x %v, w %v, y %v: want x [..., K], w [2N, K], y [..., N]", p.x.shape, p.w.shape, p.y.shape)
	}
	N, K = p.w.shape[0]/2, p.w.shape[1]
	if p.x.shape.Last() != K || p.y.shape.Last() != N || rows(p.x.shape) != rows(p.y.shape) {
		return 0, 0, 0, fmt.Errorf("linear GEGLU: x %v, w %v, y %v do not match", p.x.shape, p.w.shape, p.y.shape)
	}
	if p.bias.present() && !p.bias.shape.Equal(tensor.Shape{2 * N}) {
		return 0, 0, 0, fmt.Errorf("linear GEGLU: bias %v for %d projections", p.bias.shape, 2*N)
	}
	return rows(p.y.shape), N, K, nil
}

// plan picks the kernel and grid like gemmProblem.plan does for the
// M x 2N x K product the kernel multiplies, with the planner's tile but
// never split-K: the gate needs each output's whole sum in the epilogue.
// The grid's ceil(2N/BN) column blocks are ceil(N/(BN/2)): each yields
// BN/2 outputs.
func (p gegluProblem) plan() (gegluPlan, error) {
	M, N, K, err := p.shapes()
	if err != nil {
		return gegluPlan{}, &shapeError{err}
	}
	ops := tileOperands{y: p.y, x: p.x, w: p.w, bias: p.bias}
	suffix, err := ops.check(M, 2*N, K)
	if err != nil {
		return gegluPlan{}, fmt.Errorf("fast linear GEGLU: %w", err)
	}
	out := gegluPlan{M: M, N: N, K: K}
	if M == 0 || N == 0 {
		return out, nil
	}
	unsplit := func(M, N, K int) tileChoice { return splitOf(p.tiles.choose(M, N, K).tile, K, 1) }
	out.tileLaunch = ops.launch("gemm", "gemm_geglu", suffix, K, M, 2*N, K, unsplit)
	return out, nil
}
