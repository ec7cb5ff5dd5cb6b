//go:build cuda

package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Linear: dst[..., N] = x[..., K] · wᵀ + bias.
func (b *Backend) Linear(dst, x, w, bias *tensor.Tensor) {
	mustFloat("Linear", dst, x, w, bias)
	mustSameDType("Linear", dst, x)
	if len(w.Shape()) != 2 || x.Shape().Last() != w.Shape()[1] || dst.Shape().Last() != w.Shape()[0] ||
		dst.Shape().Rows() != x.Shape().Rows() {
		panic(fmt.Sprintf("kernels: Linear: x %v, w %v, dst %v do not fit x[...,K]·w[N,K]ᵀ -> dst[...,N]", x, w, dst))
	}
	if bias != nil {
		mustShape("Linear", "bias", bias, w.Shape()[0])
	}
	elems("Linear", x)
	elems("Linear", dst)
	elems("Linear", w)
	if b.useFast("linear") && fastLinear(b, dst, x, w, bias) {
		return
	}
	b.simpleLinear(dst, x, w, bias)
}

func (b *Backend) simpleLinear(dst, x, w, bias *tensor.Tensor) {
	M, N, K := x.Shape().Rows(), w.Shape()[0], w.Shape()[1]
	biasPtr, done := b.paramAs(bias, w.DType())
	defer done()
	b.Launch(Kernel{"simple_linear", "linear_simple_" + pairSuffix(x.DType(), w.DType())},
		D2(ceilDiv(M, 16), ceilDiv(N, 16)), D2(16, 16), 0, dst, x, w, biasPtr, M, N, K)
}

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
	if b.useFast("conv2d") && fastConv2D(b, dst, x, w, bias, stride, pad) {
		return
	}
	b.simpleConv2D(dst, x, w, bias, stride, pad)
}

func (b *Backend) simpleConv2D(dst, x, w, bias *tensor.Tensor, stride, pad int) {
	xs, ws, ds := x.Shape(), w.Shape(), dst.Shape()
	biasPtr, done := b.paramAs(bias, w.DType())
	defer done()
	M := ds[0] * ds[1] * ds[2]
	b.Launch(Kernel{"simple_conv", "conv2d_simple_" + pairSuffix(x.DType(), w.DType())},
		D2(ceilDiv(M, 16), ceilDiv(ws[0], 16)), D2(16, 16), 0,
		dst, x, w, biasPtr, xs[0], xs[1], xs[2], xs[3], ds[1], ds[2], ws[0], ws[1], ws[2], stride, pad)
}

// paramAs returns the device address of p in dtype dt (0 for nil), casting
// into a scratch copy when p is stored in another type, and a func releasing
// that copy. Kernels read a parameter (bias, gamma, beta) in the weight's type.
func (b *Backend) paramAs(p *tensor.Tensor, dt tensor.DType) (devicePtr, func()) {
	if p == nil {
		return 0, func() {}
	}
	if p.DType() == dt {
		return b.ptr(p), func() {}
	}
	tmp := b.Alloc(dt, p.Shape()...)
	b.Cast(tmp, p)
	return b.ptr(tmp), func() { b.Free(tmp) }
}
