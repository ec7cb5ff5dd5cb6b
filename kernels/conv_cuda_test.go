//go:build cuda

package kernels

import (
	"fmt"
	"math"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// refConv is NHWC convolution with zero padding in float64, plus bias and
// residual (either may be nil).
func refConv(x, w, bias, res []float32, B, H, W, Cin, Cout, KH, KW, stride, pad int) []float64 {
	Ho, Wo := (H+2*pad-KH)/stride+1, (W+2*pad-KW)/stride+1
	y := make([]float64, B*Ho*Wo*Cout)
	for b := range B {
		for oy := range Ho {
			for ox := range Wo {
				for co := range Cout {
					s := 0.0
					for ky := range KH {
						iy := oy*stride - pad + ky
						for kx := range KW {
							ix := ox*stride - pad + kx
							if iy < 0 || iy >= H || ix < 0 || ix >= W {
								continue
							}
							for ci := range Cin {
								s += float64(x[((b*H+iy)*W+ix)*Cin+ci]) * float64(w[((co*KH+ky)*KW+kx)*Cin+ci])
							}
						}
					}
					i := ((b*Ho+oy)*Wo+ox)*Cout + co
					if bias != nil {
						s += float64(bias[co])
					}
					if res != nil {
						s += float64(res[i])
					}
					y[i] = s
				}
			}
		}
	}
	return y
}

func TestFastConvAwkwardSizes(t *testing.T) {
	cases := []struct{ b, h, w, cin, cout, k, stride, pad int }{
		{2, 9, 13, 64, 136, 3, 1, 1}, // M and N tails
		{1, 17, 15, 32, 64, 3, 2, 1}, // downsample, odd sizes
		{2, 12, 12, 4, 320, 3, 1, 1}, // UNet conv_in: Cin 4 (unaligned path)
		{1, 10, 7, 3, 128, 3, 1, 1},  // VAE conv_in: Cin 3
		{1, 8, 8, 96, 40, 1, 1, 0},   // 1x1 shortcut
		{1, 5, 6, 12, 20, 1, 1, 0},   // 1x1 with Cin % 8 != 0
	}
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
		r := newFastRig(t, dt)
		for _, c := range cases {
			t.Run(fmt.Sprintf("%v/%dx%dx%dx%d_to_%d_k%d_s%d", dt, c.b, c.h, c.w, c.cin, c.cout, c.k, c.stride), func(t *testing.T) {
				x, xv := r.input(t, 1, c.b, c.h, c.w, c.cin)
				w, wv := r.input(t, 1/math.Sqrt(float64(c.k*c.k*c.cin)), c.cout, c.k, c.k, c.cin)
				bias, bv := r.input(t, 0.5, c.cout)
				ho, wo := convOut(c.h, c.k, c.stride, c.pad), convOut(c.w, c.k, c.stride, c.pad)
				y := r.output(c.b, ho, wo, c.cout)
				if !r.b.tryConv(y, x, w, bias, nil, c.stride, c.pad) {
					t.Fatal("the fast conv declined the case")
				}
				got := r.read(t, y)
				expectClose(t, "fast vs float64", y.Shape(), got, refConv(xv, wv, bv, nil, c.b, c.h, c.w, c.cin, c.cout, c.k, c.k, c.stride, c.pad), dt)

				cb := cpu.New()
				cy := cb.Alloc(tensor.F32, y.Shape()...)
				cb.Conv2D(cy, cb.FromFloat32(tensor.F32, x.Shape(), xv), cb.FromFloat32(tensor.F32, w.Shape(), wv), cb.FromFloat32(tensor.F32, bias.Shape(), bv), c.stride, c.pad)
				expectClose(t, "fast vs CPU backend", y.Shape(), got, widen(cb.ToFloat32(cy)), dt)

				sy := r.output(y.Shape()...)
				r.b.simpleConv2D(sy, x, w, bias, c.stride, c.pad)
				expectClose(t, "fast vs simple kernel", y.Shape(), got, widen(r.read(t, sy)), dt)
			})
		}
	}
}

func TestFastConvResidual(t *testing.T) {
	r := newFastRig(t, tensor.F16)
	x, xv := r.input(t, 1, 2, 11, 9, 64)
	w, wv := r.input(t, 1/math.Sqrt(9*64), 72, 3, 3, 64)
	bias, bv := r.input(t, 0.5, 72)
	res, rv := r.input(t, 1, 2, 11, 9, 72)
	want := refConv(xv, wv, bv, rv, 2, 11, 9, 64, 72, 3, 3, 1, 1)
	y := r.output(2, 11, 9, 72)
	if !r.b.tryConv(y, x, w, bias, res, 1, 1) {
		t.Fatal("the fast conv declined the case")
	}
	expectClose(t, "conv+bias+residual", y.Shape(), r.read(t, y), want, tensor.F16)
	if !r.b.tryConv(res, x, w, bias, res, 1, 1) {
		t.Fatal("the fast conv declined the in-place case")
	}
	expectClose(t, "in place", res.Shape(), r.read(t, res), want, tensor.F16)
}
