package tensor

import "fmt"

// ConvInput is a convolution's input as a fused convolution reads it,
// without it ever being written: the channels of X followed by those of X2
// (torch.cat along the channels; X2 nil: X alone), enlarged 2× by
// nearest-neighbour sampling when Up2 is set ([B,H,W,C] read as
// [B,2H,2W,C]: pixel (y, x) is X's (y/2, x/2), torch's
// F.interpolate(scale_factor=2, mode="nearest")).
type ConvInput struct {
	X, X2 *Tensor
	Up2   bool
}

// Shape is the input as convolved: [B, H, W, C] with C summed over X and
// X2 and H, W doubled with Up2. It panics when X and X2 are not [B,H,W,·]
// images of the same batch and size.
func (in ConvInput) Shape() Shape {
	s := in.X.Shape().Clone()
	if len(s) != 4 {
		panic(fmt.Sprintf("tensor: convolution input %v is not [B,H,W,C]", s))
	}
	if in.X2 != nil {
		s2 := in.X2.Shape()
		if len(s2) != 4 || s2[0] != s[0] || s2[1] != s[1] || s2[2] != s[2] {
			panic(fmt.Sprintf("tensor: convolution inputs %v and %v cannot be concatenated along the channels", s, s2))
		}
		s[3] += s2[3]
	}
	if in.Up2 {
		s[1], s[2] = 2*s[1], 2*s[2]
	}
	return s
}

// ConvSkip is a 1×1 convolution of a second input added to a fused
// convolution's output: a ResBlock's skip connection.
type ConvSkip struct {
	In           ConvInput // at the output's size: Up2 is not allowed
	Weight, Bias *Tensor   // [Cout,1,1,C] and [Cout] or nil
}

// FusedConv is a convolution with what a fused kernel can do on the way:
//
//	dst = conv(Norm(In), Weight, Stride, Pad) + Bias + ImageBias[b]
//	      + conv1×1(Skip.In, Skip.Weight) + Skip.Bias + Residual
//
// Norm nil: In as it is; ImageBias is Cout columns of a [B, W] matrix (the
// zero Columns: none); Skip and Residual may be nil.
// The padding is zeros of the normalised map. Residual has dst's shape and
// is dst itself or does not overlap it; nothing else overlaps dst.
type FusedConv struct {
	In           ConvInput
	Norm         *ChannelNorm
	Weight, Bias *Tensor
	Stride, Pad  int
	ImageBias    Columns
	Skip         *ConvSkip
	Residual     *Tensor
}

// FusedConvReader is implemented by backends that can run a FusedConv in
// one kernel, reading a concatenated or enlarged input and a skip input
// where they lie (an up block's ResBlock reads cat(h, skip) without the
// concatenation, its second convolution adds the 1×1 skip convolution in
// the same GEMM, an Upsample convolves the resize it never writes).
type FusedConvReader interface {
	// Conv2DFused computes c into dst, as ComposeConv2D does it, and
	// reports whether it ran; when it returns false nothing was queued.
	Conv2DFused(dst *Tensor, c FusedConv) bool
}

// Conv2DFused computes c into dst on b: in one kernel where b can
// (FusedConvReader), else as ComposeConv2D.
func Conv2DFused(b Backend, dst *Tensor, c FusedConv) {
	if f, ok := b.(FusedConvReader); ok && f.Conv2DFused(dst, c) {
		return
	}
	ComposeConv2D(b, dst, c)
}

// ComposeConv2D is FusedConv's meaning composed of simpler operations, in
// this order: Concat and ResizeNearest of In into a temporary; the
// convolution of its GroupNorm with ImageBias and Residual (FusedNormConv2D
// where b has it, else GroupNorm into a temporary, Conv2D and Binary Adds,
// the Residual last); then the skip's Conv2D added to dst (FusedConv2D's
// Conv2DResidual where b has it, else into a temporary and a Binary Add).
// Every backend's fused kernel must match it.
func ComposeConv2D(b Backend, dst *Tensor, c FusedConv) {
	x := materialize(b, c.In)
	if c.Norm != nil {
		n := *c.Norm
		if f, ok := b.(FusedNormConv2D); ok && f.Conv2DNormed(dst, x, n, c.Weight, c.Bias, c.ImageBias, c.Residual, c.Stride, c.Pad) {
			release(b, x, c.In)
			addSkip(b, dst, c.Skip)
			return
		}
		h := b.Alloc(x.DType(), x.Shape()...)
		b.GroupNorm(h, x, n.Gamma, n.Beta, n.Groups, n.Eps, n.SiLU)
		release(b, x, c.In)
		x = h
	}
	if !c.ImageBias.Present() {
		convResidual(b, dst, x, c.Weight, c.Bias, c.Residual, c.Stride, c.Pad)
	} else {
		out := dst
		if c.Residual == dst {
			out = b.Alloc(dst.DType(), dst.Shape()...)
		}
		b.Conv2D(out, x, c.Weight, c.Bias, c.Stride, c.Pad)
		n := dst.Shape().Last()
		e, copied := c.ImageBias.Dense(b, n)
		b.Binary(out, out, e.Reshape(e.Shape()[0], 1, 1, n), Add)
		if copied {
			b.Free(e)
		}
		addInto(b, dst, out, c.Residual)
	}
	if c.Norm != nil {
		b.Free(x)
	} else {
		release(b, x, c.In)
	}
	addSkip(b, dst, c.Skip)
}

// addSkip adds the skip connection's 1×1 convolution to dst (nil: none).
func addSkip(b Backend, dst *Tensor, skip *ConvSkip) {
	if skip == nil {
		return
	}
	if skip.In.Up2 {
		panic("tensor: a fused convolution's skip input cannot be enlarged")
	}
	x := materialize(b, skip.In)
	convResidual(b, dst, x, skip.Weight, skip.Bias, dst, 1, 0)
	release(b, x, skip.In)
}

// convResidual is dst = conv(x) + bias + residual (nil: none; may be dst).
func convResidual(b Backend, dst, x, w, bias, residual *Tensor, stride, pad int) {
	if residual == nil {
		b.Conv2D(dst, x, w, bias, stride, pad)
		return
	}
	if f, ok := b.(FusedConv2D); ok && f.Conv2DResidual(dst, x, w, bias, residual, stride, pad) {
		return
	}
	out := dst
	if residual == dst {
		out = b.Alloc(dst.DType(), dst.Shape()...)
	}
	b.Conv2D(out, x, w, bias, stride, pad)
	addInto(b, dst, out, residual)
}

// addInto finishes dst = out + residual, where out is dst or a temporary
// (freed here). Float addition commutes, so both orders give the same bits.
func addInto(b Backend, dst, out, residual *Tensor) {
	switch {
	case residual == nil:
	case out == dst:
		b.Binary(dst, dst, residual, Add)
	default:
		b.Binary(dst, dst, out, Add)
		b.Free(out)
	}
}

// materialize writes in as one tensor: in.X itself when there is nothing
// to do, else a temporary that release frees.
func materialize(b Backend, in ConvInput) *Tensor {
	s := in.Shape()
	x := in.X
	if in.X2 != nil {
		xs := x.Shape()
		cat := b.Alloc(x.DType(), xs[0], xs[1], xs[2], s[3])
		b.Concat(cat, x, in.X2)
		x = cat
	}
	if in.Up2 {
		big := b.Alloc(x.DType(), s...)
		b.ResizeNearest(big, x)
		if x != in.X {
			b.Free(x)
		}
		x = big
	}
	return x
}

// release frees what materialize made for in.
func release(b Backend, x *Tensor, in ConvInput) {
	if x != in.X {
		b.Free(x)
	}
}
