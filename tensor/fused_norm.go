package tensor

// ChannelNorm is a GroupNorm, optionally followed by SiLU, that a fused op
// applies to its input as it reads it: Backend.GroupNorm(h, x, Gamma, Beta,
// Groups, Eps, SiLU) into a temporary h, which the op then reads instead of
// x. x is [B, ..., C] and each image (first dimension) is normalised alone.
type ChannelNorm struct {
	Gamma, Beta *Tensor // [C]
	Groups      int
	Eps         float32
	SiLU        bool
}

// FusedNormConv2D is implemented by backends that can normalise a
// convolution's input in its loader and add a per-image bias in its
// epilogue (a ResBlock's "conv(silu(gn(x))) + emb").
type FusedNormConv2D interface {
	// Conv2DNormed computes dst = conv(n(x), w) + bias + imageBias[b] +
	// residual, the composite of GroupNorm (n) into a temporary, Conv2D,
	// Binary Add of imageBias [B, Cout] reshaped to [B,1,1,Cout] (skipped
	// for nil) and Binary Add of residual (skipped for nil). The padding is
	// zeros of the normalised map. bias, imageBias and residual may be nil;
	// residual has dst's shape and is either dst itself or does not overlap
	// it; x does not overlap dst.
	Conv2DNormed(dst, x *Tensor, n ChannelNorm, w, bias, imageBias, residual *Tensor, stride, pad int) bool
}

// FusedNormLinear is implemented by backends that can normalise a Linear's
// input in its loader (a SpatialTransformer's GroupNorm and proj_in).
type FusedNormLinear interface {
	// LinearNormed computes dst = act(n(x)·wᵀ + bias) + residual for x
	// [B, ..., K], the composite of GroupNorm (n) into a temporary and
	// FusedLinear's LinearFused meaning. bias and residual may be nil; x
	// does not overlap dst.
	LinearNormed(dst, x *Tensor, n ChannelNorm, w, bias, residual *Tensor, act UnaryOp) bool
}
