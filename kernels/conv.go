//go:build cuda

package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// The conv2d family: Conv2D and Conv2DResidual, run by the implicit-GEMM
// tensor-core kernel (cuda/conv.cu, planned in conv_plan.go) or the simple
// kernel (cuda/simple_conv.cu), and the cases its self-check compares them
// on.

var _ tensor.FusedConv2D = (*Backend)(nil)

// Conv2D: x [B,H,W,Cin], w [Cout,KH,KW,Cin], bias [Cout] or nil, dst [B,Ho,Wo,Cout].
func (b *Backend) Conv2D(dst, x, w, bias *tensor.Tensor, stride, pad int) {
	mustFloat("Conv2D", dst, x, w, bias)
	mustSameDType("Conv2D", dst, x)
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 4 || len(ws) != 4 || xs[3] != ws[3] || stride < 1 || pad < 0 {
		panic(fmt.Sprintf("kernels: Conv2D: x %v, w %v, stride %d, pad %d do not fit x[B,H,W,Cin], w[Cout,KH,KW,Cin]", x, w, stride, pad))
	}
	ho, wo := convOut(xs[1], ws[1], stride, pad), convOut(xs[2], ws[2], stride, pad)
	if ho < 1 || wo < 1 {
		panic(fmt.Sprintf("kernels: Conv2D: kernel %v larger than padded input %v", w, x))
	}
	mustShape("Conv2D", "dst", dst, xs[0], ho, wo, ws[0])
	if bias != nil {
		mustShape("Conv2D", "bias", bias, ws[0])
	}
	elems("Conv2D", x)
	elems("Conv2D", dst)
	elems("Conv2D", w)
	if b.useFast(opConv2D) && b.tryConv(dst, x, w, bias, nil, stride, pad) {
		return
	}
	b.simpleConv2D(dst, x, w, bias, stride, pad)
}

// Conv2DResidual computes dst = conv(x, w) + bias + residual (a ResBlock's
// second convolution plus its skip) with one implicit-GEMM kernel when the
// fast conv2d kernel is active and handles the case, and reports whether it
// ran; residual may be dst itself. When it returns false nothing was queued.
func (b *Backend) Conv2DResidual(dst, x, w, bias, residual *tensor.Tensor, stride, pad int) bool {
	return b.useFast(opConv2D) && b.tryConv(dst, x, w, bias, residual, stride, pad)
}

// simpleConv2D launches the reference kernel, which takes every case.
func (b *Backend) simpleConv2D(dst, x, w, bias *tensor.Tensor, stride, pad int) {
	xs, ws, ds := x.Shape(), w.Shape(), dst.Shape()
	biasPtr, done := b.paramAs(bias, w.DType())
	defer done()
	M := ds[0] * ds[1] * ds[2]
	b.Launch(Kernel{"simple_conv", "conv2d_simple_" + pairSuffix(x.DType(), w.DType())},
		D2(ceilDiv(M, 16), ceilDiv(ws[0], 16)), D2(16, 16), 0,
		dst, x, w, biasPtr, xs[0], xs[1], xs[2], xs[3], ds[1], ds[2], ws[0], ws[1], ws[2], stride, pad)
}

// tryConv launches conv.cu, or returns false for a case it does not handle.
func (b *Backend) tryConv(y, x, w, bias, residual *tensor.Tensor, stride, pad int) bool {
	return b.tryConvFrom(y, tensor.ConvInput{X: x}, w, bias, residual, stride, pad)
}

// tryConvFrom is tryConv of an input conv.cu's loader reads where it lies
// (tensor.ConvInput: two tensors' channels, nearest 2x).
func (b *Backend) tryConvFrom(y *tensor.Tensor, in tensor.ConvInput, w, bias, residual *tensor.Tensor, stride, pad int) bool {
	if in.X2 == nil && !in.Up2 && b.tryPointwiseStreamK(y, in.X, w, bias, residual, stride, pad) {
		return true
	}
	p := convProblem{
		y: b.operandOf("output", y), x: b.operandOf("x", in.X), x2: b.operandOf("x2", in.X2), up: in.Up2,
		w: b.operandOf("weight", w), bias: b.operandOf("bias", bias), residual: b.operandOf("residual", residual),
		stride: stride, pad: pad, tiles: b.tilePlanner(),
	}
	pl, err := p.plan()
	if !handles(err) {
		return false
	}
	if !pl.empty() {
		r := b.startTiles(pl.tileLaunch)
		b.Launch(Kernel{pl.module, pl.name}, pl.grid, pl.block, pl.shared,
			y, in.X, b.ptrOrNull(in.X2), w, b.ptrOrNull(bias), b.ptrOrNull(residual),
			pl.B, pl.H, pl.W, pl.Cin, pl.C1, pl.Up, pl.Ho, pl.Wo, pl.Cout, pl.KH, pl.KW, stride, pad,
			r.partial, r.sem, pl.kChunk())
		b.finishTiles(r)
	}
	return true
}

// convCheckCases are the self-check's 3x3 convolutions: odd image sides,
// stride 2, and an SDXL channel count.
func (b *Backend) convCheckCases(in *checkInputs) []checkCase {
	var cases []checkCase
	for _, c := range [][6]int{{9, 13, 64, 128, 1, 1}, {16, 16, 96, 64, 2, 1}, {8, 8, 320, 320, 1, 1}} {
		h, wd, cin, cout, stride, pad := c[0], c[1], c[2], c[3], c[4], c[5]
		x, w, bias := in.random(2, h, wd, cin), in.random(cout, 3, 3, cin), in.random(cout)
		cases = append(cases, checkCase{
			name:   fmt.Sprintf("x[2 %d %d %d] 3x3 stride %d", h, wd, cin, stride),
			dst:    []int{2, convOut(h, 3, stride, pad), convOut(wd, 3, stride, pad), cout},
			simple: func(dst *tensor.Tensor) { b.simpleConv2D(dst, x, w, bias, stride, pad) },
			fast:   func(dst *tensor.Tensor) bool { return b.tryConv(dst, x, w, bias, nil, stride, pad) },
		})
	}
	cases = append(cases, b.convNormCheckCase(in))
	// Every tile shape and split-K, forced, on a 3x3 conv with tails in M,
	// N and K (K = 216: 7 steps).
	x, w, bias := in.random(2, 9, 7, 24), in.random(72, 3, 3, 24), in.random(72)
	for _, c := range tileCheckChoices() {
		cases = append(cases, checkCase{
			name:   fmt.Sprintf("x[2 9 7 24] 3x3 → 72, %v", c),
			dst:    []int{2, 9, 7, 72},
			simple: func(dst *tensor.Tensor) { b.simpleConv2D(dst, x, w, bias, 1, 1) },
			fast: func(dst *tensor.Tensor) bool {
				return b.withTiles(c, func() bool { return b.tryConv(dst, x, w, bias, nil, 1, 1) })
			},
		})
	}
	return cases
}
