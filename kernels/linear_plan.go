package kernels

import (
	"fmt"
	"math"

	"github.com/gosdxl/gosdxl/tensor"
)

// This file holds the argument checks and grid computation of the
// tensor-core GEMM (cuda/gemm.cu), kept free of the cuda build tag so that
// they are unit-tested on machines without a GPU. conv_plan.go and
// attention_plan.go share its helpers.

// Activation selects the function the GEMM epilogue applies after the bias
// (values match enum Activation in cuda/mma.cuh).
type Activation int32

const (
	ActNone Activation = 0
	ActSiLU Activation = 1
	ActGELU Activation = 2 // exact erf GELU
)

// Block tile of gemm.cu and conv.cu (gemm_tile.cuh): 128x128 outputs per
// 256-thread block, 4 stages of (128+128) rows x 40 padded elements.
const (
	gemmTileM      = 128
	gemmTileN      = 128
	gemmThreads    = 256
	gemmSharedSize = 4 * (128 + 128) * 40 * 2 // 81920 bytes
)

// launchPlan is everything Launch needs besides the kernel arguments.
type launchPlan struct {
	module string // the .cu file's base name
	name   string // the kernel; empty when there is nothing to launch
	grid   Dim3
	block  Dim3
	shared int
}

// operand is what the planners need to know about one tensor argument: its
// shape, type and device address (for alignment). A nil *tensor.Tensor
// becomes the zero operand (absent).
type operand struct {
	name  string
	shape tensor.Shape
	dtype tensor.DType
	addr  uint64
}

func (o operand) present() bool { return o.shape != nil }

// tensorOperand describes t for the planners (nil t: absent).
func tensorOperand(name string, t *tensor.Tensor, addr uint64) operand {
	if t == nil {
		return operand{name: name}
	}
	return operand{name: name, shape: t.Shape(), dtype: t.DType(), addr: addr}
}

// tensorCoreSuffix names the kernel instantiation for dt, or fails for types
// the tensor-core kernels do not take (F32 runs on the simple kernels).
func tensorCoreSuffix(dt tensor.DType) (string, error) {
	switch dt {
	case tensor.F16:
		return "f16", nil
	case tensor.BF16:
		return "bf16", nil
	}
	return "", fmt.Errorf("tensor-core kernels take F16 or BF16, not %v", dt)
}

// sameDType checks that every present operand has dtype dt: the fast kernels
// take one storage type for activations, weights and bias alike.
func sameDType(dt tensor.DType, ops ...operand) error {
	for _, o := range ops {
		if o.present() && o.dtype != dt {
			return fmt.Errorf("%s is %v but the activations are %v (fast kernels need one type)", o.name, o.dtype, dt)
		}
	}
	return nil
}

// aligned reports whether every present operand's address is a multiple of
// bytes.
func aligned(bytes uint64, ops ...operand) bool {
	for _, o := range ops {
		if o.present() && o.addr%bytes != 0 {
			return false
		}
	}
	return true
}

// fitsInt32 guards the kernels' int arithmetic on sizes and indices.
func fitsInt32(vals ...int) bool {
	for _, v := range vals {
		if v < 0 || v > math.MaxInt32 {
			return false
		}
	}
	return true
}

// tileGridFits checks what the 128x128-tile kernels (gemm.cu, conv.cu) need
// of an M x N output: every row index of the last block tile, padding
// included (m0 + 127), fits the kernels' int, and the column blocks fit
// gridDim.y. A launch beyond either would fail or index wrongly instead of
// falling back to the simple kernel.
func tileGridFits(M, N int) error {
	if !fitsInt32(ceilDiv(M, gemmTileM) * gemmTileM) {
		return fmt.Errorf("M=%d rows exceed the kernel's 32-bit row index", M)
	}
	if ceilDiv(N, gemmTileN) > maxGridY {
		return fmt.Errorf("N=%d needs more than %d column blocks", N, maxGridY)
	}
	return nil
}

// tileOperands are the tensors of a 128x128-tile kernel (gemm.cu, conv.cu).
type tileOperands struct {
	y, x, w, bias, residual operand
}

// check tests what both tile kernels need beyond matching shapes, for an
// M x N x K GEMM (sizes: further values the kernel keeps in an int), and
// returns the kernel's type suffix.
func (o tileOperands) check(M, N, K int, sizes ...int) (suffix string, err error) {
	suffix, err = tensorCoreSuffix(o.x.dtype)
	if err == nil {
		err = sameDType(o.x.dtype, o.y, o.w, o.bias, o.residual)
	}
	if err == nil && !fitsInt32(append([]int{M, N, K}, sizes...)...) {
		err = fmt.Errorf("M=%d N=%d K=%d exceed the kernel's 32-bit sizes", M, N, K)
	}
	if err == nil {
		err = tileGridFits(M, N)
	}
	// Pair stores in the epilogue need 4-byte aligned output and residual.
	if err == nil && !aligned(4, o.y, o.residual, o.bias) {
		err = fmt.Errorf("output, bias or residual not 4-byte aligned")
	}
	return suffix, err
}

// launch plans an M x N output of kernel (in module). cp.async moves 16
// bytes = 8 elements, so the fast variant needs every x and w row (rowLen
// elements) to start on 16 bytes; otherwise the _unaligned_ variant runs.
func (o tileOperands) launch(module, kernel, suffix string, rowLen, M, N int) launchPlan {
	name := kernel + "_" + suffix
	if rowLen%8 != 0 || !aligned(16, o.x, o.w) {
		name = kernel + "_unaligned_" + suffix
	}
	return launchPlan{
		module: module,
		name:   name,
		grid:   D2(ceilDiv(M, gemmTileM), ceilDiv(N, gemmTileN)),
		block:  D1(gemmThreads),
		shared: gemmSharedSize,
	}
}

// gemmProblem is y[M,N] = act(x[M,K] · w[N,K]ᵀ + bias[N]) + residual[M,N].
type gemmProblem struct {
	y, x, w, bias, residual operand
	act                     Activation
}

// shapes checks the operands' shapes (programmer errors: the caller panics)
// and returns M, N, K. x and y may have any leading dimensions with the same product.
func (p gemmProblem) shapes() (M, N, K int, err error) {
	if len(p.w.shape) != 2 || len(p.x.shape) == 0 || len(p.y.shape) == 0 {
		return 0, 0, 0, fmt.Errorf("linear: x %v, w %v, y %v: want x [..., K], w [N, K], y [..., N]", p.x.shape, p.w.shape, p.y.shape)
	}
	N, K = p.w.shape[0], p.w.shape[1]
	// Rows are whatever the leading dimensions multiply to ([B,T,K] or
	// [B·T,K] alike); only their counts must agree.
	if p.x.shape.Last() != K || p.y.shape.Last() != N || rows(p.x.shape) != rows(p.y.shape) {
		return 0, 0, 0, fmt.Errorf("linear: x %v, w %v, y %v do not match", p.x.shape, p.w.shape, p.y.shape)
	}
	M = rows(p.y.shape)
	if p.bias.present() && !p.bias.shape.Equal(tensor.Shape{N}) {
		return 0, 0, 0, fmt.Errorf("linear: bias %v for %d outputs", p.bias.shape, N)
	}
	if p.residual.present() && !p.residual.shape.Equal(p.y.shape) {
		return 0, 0, 0, fmt.Errorf("linear: residual %v for output %v", p.residual.shape, p.y.shape)
	}
	return M, N, K, nil
}

// rows is the product of all but the last dimension (defined for K = 0 too).
func rows(s tensor.Shape) int { return s[:len(s)-1].NumElements() }

// gemmPlan is a launch plan with the problem's GEMM sizes.
type gemmPlan struct {
	launchPlan
	M, N, K int
}

// empty reports that there is nothing to launch (M or N is 0).
func (p launchPlan) empty() bool { return p.name == "" }

// plan picks the kernel and grid. Shape mismatches come back as a
// *shapeError (a programmer error: launchers panic); any other error means
// the tensor-core GEMM does not handle the case and the simple kernel runs.
func (p gemmProblem) plan() (gemmPlan, error) {
	M, N, K, err := p.shapes()
	if err != nil {
		return gemmPlan{}, &shapeError{err}
	}
	if p.act < ActNone || p.act > ActGELU {
		return gemmPlan{}, fmt.Errorf("fast linear: unknown activation %d", p.act)
	}
	ops := tileOperands{p.y, p.x, p.w, p.bias, p.residual}
	suffix, err := ops.check(M, N, K)
	if err != nil {
		return gemmPlan{}, fmt.Errorf("fast linear: %w", err)
	}
	out := gemmPlan{M: M, N: N, K: K}
	if M == 0 || N == 0 {
		return out, nil
	}
	// K is the row length of both x and w.
	out.launchPlan = ops.launch("gemm", "gemm", suffix, K, M, N)
	return out, nil
}

// shapeError marks a shape mismatch: a bug in the caller, not a case to
// fall back from.
type shapeError struct{ err error }

func (e *shapeError) Error() string { return e.err.Error() }
func (e *shapeError) Unwrap() error { return e.err }
