package kernels

import (
	"fmt"
	"strings"

	"github.com/gosdxl/gosdxl/tensor"
)

// Argument checks and grid of the implicit-GEMM convolution (cuda/conv.cu),
// free of the cuda build tag so that they are unit-tested without a GPU.

// convProblem is y = conv(x, w, stride, pad) + bias + residual over NHWC:
// x [B,H,W,Cin], w [Cout,KH,KW,Cin], bias [Cout], y and residual [B,Ho,Wo,Cout].
// The input may be read three ways conv.cu's loader knows (nothing written):
// the channels of x then of x2 (present: x [B,H,W,C1], x2 [B,H,W,Cin−C1]),
// enlarged 2x (up: x is [B,H/2,W/2,·]), and, for conv2d_norm, followed in K
// by a 1x1 skip segment (skip).
type convProblem struct {
	y, x, w, bias, residual operand
	x2                      operand
	up                      bool
	skip                    convSkip
	stride, pad             int
	tiles                   tilePlanner // nil: chooseTiles for an H100
	norm                    bool        // conv2d_norm: x normalised in the loader (norm_fused.go)
}

// convSkip is conv2d_norm's skip segment, conv1x1(cat(x, x2), w) + bias
// added to the output: x [B,Ho,Wo,Cs1], x2 [B,Ho,Wo,Cs−Cs1] or absent, w
// [Cout,1,1,Cs], bias [Cout] or absent. Absent x: no skip segment.
type convSkip struct{ x, x2, w, bias operand }

// convPlan is a launch plan with the kernel's shape arguments.
type convPlan struct {
	tileLaunch
	B, H, W, Cin, Ho, Wo, Cout, KH, KW int
	C1, Up                             int // channels from x (the rest from x2); 1: nearest 2x
	Cskip, Cskip1                      int // the skip segment's channels, those from its x
}

// channels checks that x2 (when present) can follow x's channels and
// returns both counts.
func channels(x, x2 operand) (c1, c int, err error) {
	xs := x.shape
	c1, c = xs[3], xs[3]
	if x2.present() {
		s2 := x2.shape
		if len(s2) != 4 || s2[0] != xs[0] || s2[1] != xs[1] || s2[2] != xs[2] {
			return 0, 0, fmt.Errorf("conv2d: inputs %v and %v cannot be concatenated along the channels", xs, s2)
		}
		c += s2[3]
	}
	return c1, c, nil
}

func (p convProblem) shapes() (c convPlan, err error) {
	xs, ws, ys := p.x.shape, p.w.shape, p.y.shape
	if len(xs) != 4 || len(ws) != 4 || len(ys) != 4 {
		return c, fmt.Errorf("conv2d: x %v, w %v, y %v: want x [B,H,W,Cin], w [Cout,KH,KW,Cin], y [B,Ho,Wo,Cout]", xs, ws, ys)
	}
	if p.stride < 1 || p.pad < 0 {
		return c, fmt.Errorf("conv2d: stride %d, pad %d", p.stride, p.pad)
	}
	c.B, c.H, c.W = xs[0], xs[1], xs[2]
	if c.C1, c.Cin, err = channels(p.x, p.x2); err != nil {
		return c, err
	}
	if p.up {
		c.H, c.W, c.Up = 2*c.H, 2*c.W, 1
	}
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
	return c, p.skipShapes(&c)
}

// skipShapes checks the skip segment against the output and fills its
// channel counts.
func (p convProblem) skipShapes(c *convPlan) (err error) {
	k := p.skip
	if !k.x.present() {
		return nil
	}
	if len(k.x.shape) != 4 {
		return fmt.Errorf("conv2d: skip input %v: want [B,Ho,Wo,C]", k.x.shape)
	}
	if c.Cskip1, c.Cskip, err = channels(k.x, k.x2); err != nil {
		return err
	}
	if !k.x.shape[:3].Equal(p.y.shape[:3]) || !k.w.shape.Equal(tensor.Shape{c.Cout, 1, 1, c.Cskip}) {
		return fmt.Errorf("conv2d: skip input %v with weight %v for output %v", k.x.shape, k.w.shape, p.y.shape)
	}
	if k.bias.present() && !k.bias.shape.Equal(tensor.Shape{c.Cout}) {
		return fmt.Errorf("conv2d: skip bias %v for %d output channels", k.bias.shape, c.Cout)
	}
	return nil
}

// plan picks the kernel and grid; errors as for gemmProblem.plan.
func (p convProblem) plan() (convPlan, error) {
	c, err := p.shapes()
	if err != nil {
		return convPlan{}, &shapeError{err}
	}
	M, N, K := c.B*c.Ho*c.Wo, c.Cout, c.KH*c.KW*c.Cin+c.Cskip
	ops := tileOperands{p.y, p.x, p.w, p.bias, p.residual}
	suffix, err := ops.check(M, N, K, c.B*c.H*c.W)
	if err == nil {
		err = sameDType(p.x.dtype, p.x2, p.skip.x, p.skip.x2, p.skip.w, p.skip.bias)
	}
	if err == nil && p.skip.x.present() && (!p.norm || p.stride != 1) {
		err = fmt.Errorf("a skip segment needs conv2d_norm at stride 1")
	}
	if err != nil {
		return convPlan{}, fmt.Errorf("fast conv2d: %w", err)
	}
	if M == 0 || N == 0 {
		return c, nil
	}
	// With every source's channel count a multiple of 8 (and 16-byte
	// aligned sources), each 8-channel chunk of an input pixel is one 16-byte
	// cp.async (and K = KH·KW·Cin is a multiple of 8 for the weights too);
	// otherwise the unaligned kernel decodes each element.
	kernel := "conv2d"
	if p.norm {
		kernel = "conv2d_norm"
	}
	rowLen := c.Cin
	if c.C1%8 != 0 || !aligned(16, p.x2) {
		rowLen = 1
	}
	c.tileLaunch = ops.launch("conv", kernel, suffix, rowLen, M, N, K, p.tiles)
	// The skip segment's weights come through the aligned kernels' second
	// row loader only (conv.cu's SegmentRowLoader).
	if p.skip.x.present() && (strings.Contains(c.name, "_unaligned_") || c.Cskip1%8 != 0 || c.Cskip%8 != 0 ||
		!aligned(16, p.skip.x, p.skip.x2, p.skip.w)) {
		return convPlan{}, fmt.Errorf("fast conv2d: a skip segment needs 8-channel aligned operands")
	}
	return c, nil
}

// convOut is the output size of a convolution along one axis.
func convOut(in, k, stride, pad int) int { return (in+2*pad-k)/stride + 1 }
