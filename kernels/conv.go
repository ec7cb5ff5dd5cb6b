//go:build cuda

package kernels

import "github.com/gosdxl/gosdxl/tensor"

func init() {
	fastConv2D = func(b *Backend, dst, x, w, bias *tensor.Tensor, stride, pad int) bool {
		return b.tryConv(dst, x, w, bias, nil, stride, pad)
	}
}

var _ tensor.FusedConv2D = (*Backend)(nil)

// Conv2DResidual computes dst = conv(x, w) + bias + residual (a ResBlock's
// second convolution plus its skip) with one implicit-GEMM kernel when the
// fast conv2d kernel is active and handles the case, and reports whether it
// ran; residual may be dst itself. When it returns false nothing was queued.
func (b *Backend) Conv2DResidual(dst, x, w, bias, residual *tensor.Tensor, stride, pad int) bool {
	return b.useFast("conv2d") && b.tryConv(dst, x, w, bias, residual, stride, pad)
}

// tryConv launches conv.cu, or returns false for a case it does not handle.
func (b *Backend) tryConv(y, x, w, bias, residual *tensor.Tensor, stride, pad int) bool {
	p := convProblem{
		y: b.operandOf("output", y), x: b.operandOf("x", x), w: b.operandOf("weight", w),
		bias: b.operandOf("bias", bias), residual: b.operandOf("residual", residual),
		stride: stride, pad: pad,
	}
	pl, err := p.plan()
	if !handles(err) {
		return false
	}
	if !pl.empty() {
		b.Launch(Kernel{pl.module, pl.name}, pl.grid, pl.block, pl.shared,
			y, x, w, b.ptrOrNull(bias), b.ptrOrNull(residual),
			pl.B, pl.H, pl.W, pl.Cin, pl.Ho, pl.Wo, pl.Cout, pl.KH, pl.KW, stride, pad)
	}
	return true
}
