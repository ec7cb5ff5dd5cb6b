package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Argument checks and grid of the implicit-GEMM convolution (cuda/conv.cu),
// free of the cuda build tag so that they are unit-tested without a GPU.

// convProblem is y = conv(x, w, stride, pad) + bias + residual over NHWC:
// x [B,H,W,Cin], w [Cout,KH,KW,Cin], bias [Cout], y and residual [B,Ho,Wo,Cout].
type convProblem struct {
	y, x, w, bias, residual operand
	stride, pad             int
	tiles                   tilePlanner // nil: chooseTiles for an H100
	norm                    bool        // conv2d_norm: x normalised in the loader (norm_fused.go)
}

// convPlan is a launch plan with the kernel's shape arguments.
type convPlan struct {
	tileLaunch
	B, H, W, Cin, Ho, Wo, Cout, KH, KW int
}

func (p convProblem) shapes() (c convPlan, err error) {
	xs, ws, ys := p.x.shape, p.w.shape, p.y.shape
	if len(xs) != 4 || len(ws) != 4 || len(ys) != 4 {
		return c, fmt.Errorf("conv2d: x %v, w %v, y %v: want x [B,H,W,Cin], w [Cout,KH,KW,Cin], y [B,Ho,Wo,Cout]", xs, ws, ys)
	}
	if p.stride < 1 || p.pad < 0 {
		return c, fmt.Errorf("conv2d: stride %d, pad %d", p.stride, p.pad)
	}
	c.B, c.H, c.W, c.Cin = xs[0], xs[1], xs[2], xs[3]
	c.Cout, c.KH, c.KW = ws[0], ws[1], ws[2]
	c.Ho = convOut(c.H, c.KH, p.stride, p.pad)
	c.Wo = convOut(c.W, c.KW, p.stride, p.pad)
	want := tensor.Shape{c.B, c.Ho, c.Wo, c.Cout}
	if ws[3] != c.Cin || c.Ho < 1 || c.Wo < 1 || !ys.Equal(want) {
		return c, fmt.Errorf("conv2d: x %v, w %v, stride %d, pad %d give %v, y is %v", xs, ws, p.stride, p.pad, want, ys)
	}
	if p.bias.present() && !p.bias.shape.Equal(tensor.Shape{c.Cout}) {
		return c, fmt.Errorf("conv2d: bias %v for %d output channels", p.bias.shape, c.Cout)
	}
	if p.residual.present() && !p.residual.shape.Equal(ys) {
		return c, fmt.Errorf("conv2d: residual %v for output %v", p.residual.shape, ys)
	}
	return c, nil
}

// plan picks the kernel and grid; errors as for gemmProblem.plan.
func (p convProblem) plan() (convPlan, error) {
	c, err := p.shapes()
	if err != nil {
		return convPlan{}, &shapeError{err}
	}
	M, N, K := c.B*c.Ho*c.Wo, c.Cout, c.KH*c.KW*c.Cin
	ops := tileOperands{p.y, p.x, p.w, p.bias, p.residual}
	suffix, err := ops.check(M, N, K, p.x.shape.NumElements()/max(c.Cin, 1))
	if err != nil {
		return convPlan{}, fmt.Errorf("fast conv2d: %w", err)
	}
	if M == 0 || N == 0 {
		return c, nil
	}
	// With Cin % 8 == 0 each 8-channel chunk of an input pixel is one 16-byte
	// cp.async (and K = KH·KW·Cin is a multiple of 8 for the weights too).
	kernel := "conv2d"
	if p.norm {
		kernel = "conv2d_norm"
	}
	c.tileLaunch = ops.launch("conv", kernel, suffix, c.Cin, M, N, K, p.tiles)
	return c, nil
}

// convOut is the output size of a convolution along one axis.
func convOut(in, k, stride, pad int) int { return (in+2*pad-k)/stride + 1 }
