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

// Columns is columns [From, From+n) of a matrix Of [B, W], n being the
// width its reader needs: a part of a wider result read in place, without
// a copy (each ResBlock's time-embedding projection, all of which one
// Linear computes side by side). The zero value is none.
type Columns struct {
	Of   *Tensor
	From int
}

// AllColumns is all of t [B, n].
func AllColumns(t *Tensor) Columns { return Columns{Of: t} }

// Present reports whether c names a tensor.
func (c Columns) Present() bool { return c.Of != nil }

// Dense returns the n columns as a [B, n] tensor on b: Of itself when it is
// exactly that, else a copy (Slice) that the caller frees (copied true).
// The composites of the ops that read Columns in place use it.
func (c Columns) Dense(b Backend, n int) (t *Tensor, copied bool) {
	if c.From == 0 && c.Of.Shape().Last() == n {
		return c.Of, false
	}
	t = b.Alloc(c.Of.DType(), c.Of.Shape()[0], n)
	b.Slice(t, c.Of, c.From)
	return t, true
}

// FusedNormConv2D is implemented by backends that can normalise a
// convolution's input in its loader and add a per-image bias in its
// epilogue (a ResBlock's "conv(silu(gn(x))) + emb").
type FusedNormConv2D interface {
	// Conv2DNormed computes dst = conv(n(x), w) + bias + imageBias[b] +
	// residual, the composite of GroupNorm (n) into a temporary, Conv2D,
	// Binary Add of imageBias (columns [From, From+Cout) of a [B, W]
	// matrix, Slice-d out and reshaped to [B,1,1,Cout]; skipped when absent)
	// and Binary Add of residual (skipped for nil). The padding is zeros of
	// the normalised map. bias and residual may be nil, imageBias the zero
	// Columns; residual has dst's shape and is either dst itself or does
	// not overlap it; x does not overlap dst.
	Conv2DNormed(dst, x *Tensor, n ChannelNorm, w, bias *Tensor, imageBias Columns, residual *Tensor, stride, pad int) bool
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
