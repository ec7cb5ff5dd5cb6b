package cpu

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Conv2D runs a zero-padded convolution on NHWC data as an implicit GEMM:
// rows are output pixels, the depth is (ky, kx, cin) — exactly the layout of
// the repacked weight [Cout, KH, KW, Cin] — and A panels are gathered from x
// while packing, so no im2col matrix is ever materialised.
func (b *Backend) Conv2D(dst, x, w, bias *tensor.Tensor, stride, pad int) {
	b.launch("Conv2D", dst, x, w, bias)
	xs, ws, ds := x.Shape(), w.Shape(), dst.Shape()
	bad := len(xs) != 4 || len(ws) != 4 || len(ds) != 4 || stride < 1 || pad < 0
	var g convGeom
	if !bad {
		g = convGeom{
			h: xs[1], w: xs[2], cin: xs[3],
			kh: ws[1], kw: ws[2], stride: stride, pad: pad,
		}
		g.ho = (g.h+2*pad-g.kh)/stride + 1
		g.wo = (g.w+2*pad-g.kw)/stride + 1
		bad = ws[3] != g.cin || ds[0] != xs[0] || ds[1] != g.ho || ds[2] != g.wo || ds[3] != ws[0] || g.ho < 1 || g.wo < 1
	}
	if bad {
		panic(fmt.Sprintf("cpu: Conv2D: x %v, w %v, dst %v, stride %d, pad %d do not fit (x [B,H,W,Cin], w [Cout,KH,KW,Cin], dst [B,Ho,Wo,Cout])",
			xs, ws, ds, stride, pad))
	}
	g.x = f32(x, "Conv2D", "x")
	out := f32(dst, "Conv2D", "dst")
	cout := ws[0]
	m := xs[0] * g.ho * g.wo
	k := g.kh * g.kw * g.cin
	fillBias(out, m, cout, vector(bias, cout, "Conv2D", "bias"))
	if g.kh == 1 && g.kw == 1 && stride == 1 && pad == 0 {
		// A 1×1 convolution is a Linear over pixels.
		gemm(m, cout, k, denseA{g.x, k}, weightRowsB(w, k), out, cout, true)
		return
	}
	gemm(m, cout, k, g, weightRowsB(w, k), out, cout, true)
}

// convGeom is the convolution input seen as the implicit im2col matrix A.
type convGeom struct {
	x                         []float32
	h, w, cin, ho, wo, kh, kw int
	stride, pad               int
}

func (g convGeom) packA(dst []float32, i0, rows, k0, kcs int) {
	packPanels(dst, rows, kcs, func(panel []float32, r, row int) {
		g.packRow(panel, r, i0+row, k0, kcs)
	})
}

// packRow writes depth [k0, k0+kcs) of output pixel i into panel column r,
// one contiguous run of input channels per kernel tap.
func (g convGeom) packRow(panel []float32, r, i, k0, kcs int) {
	ox := i % g.wo
	oy := (i / g.wo) % g.ho
	bi := i / (g.wo * g.ho)
	for k := 0; k < kcs; {
		kk := k0 + k
		tap, ci := kk/g.cin, kk%g.cin
		run := min(g.cin-ci, kcs-k)
		iy := oy*g.stride - g.pad + tap/g.kw
		ix := ox*g.stride - g.pad + tap%g.kw
		if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w {
			for j := range run {
				panel[(k+j)*mr+r] = 0
			}
		} else {
			src := g.x[((bi*g.h+iy)*g.w+ix)*g.cin+ci:][:run]
			for j, v := range src {
				panel[(k+j)*mr+r] = v
			}
		}
		k += run
	}
}
