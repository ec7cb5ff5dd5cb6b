package kernels

import "fmt"

// What the two 128x128-tile kernels, the GEMM (linear_plan.go) and the
// implicit-GEMM convolution (conv_plan.go), share: both are built on
// cuda/gemm_tile.cuh.

// Block tile of gemm.cu and conv.cu (gemm_tile.cuh): 128x128 outputs per
// 256-thread block, 4 stages of (128+128) rows x 40 padded elements.
const (
	gemmTileM      = 128
	gemmTileN      = 128
	gemmThreads    = 256
	gemmSharedSize = 4 * (128 + 128) * 40 * 2 // 81920 bytes
)

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
