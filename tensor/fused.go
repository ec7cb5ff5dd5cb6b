package tensor

// Fused operations are optional: a backend that can do several steps in one
// pass implements these interfaces besides Backend, and callers find them by
// type assertion. Each method reports whether it ran. A backend returns
// false (having queued nothing) for a case it does not handle, and the
// caller then composes the same result from Backend's plain operations, so
// every fused method has an exact composite meaning given in its comment.

// NoActivation is the UnaryOp value meaning "no activation" in a fused
// epilogue. Backend.Unary does not accept it.
const NoActivation UnaryOp = 0

// FusedLinear is implemented by backends that can finish a Linear with its
// activation and a residual add in the same kernel.
type FusedLinear interface {
	// LinearFused computes dst = act(x·wᵀ + bias) + residual, the composite
	// of Linear, Unary (skipped for NoActivation) and Binary Add (skipped
	// for a nil residual). bias and residual may be nil; residual has dst's
	// shape and is either dst itself or does not overlap it.
	LinearFused(dst, x, w, bias, residual *Tensor, act UnaryOp) bool
}

// FusedLinearAddAct is implemented by backends that can add a residual
// before a Linear's activation in the same kernel (SDXL's time embedding:
// SiLU(time_embed(t) + label_emb(y)), read by every ResBlock).
type FusedLinearAddAct interface {
	// LinearAddAct computes dst = act(x·wᵀ + bias + residual), the
	// composite of Linear, Binary Add and Unary. bias may be nil; residual
	// has dst's shape and is either dst itself or does not overlap it.
	LinearAddAct(dst, x, w, bias, residual *Tensor, act UnaryOp) bool
}

// FusedConv2D is implemented by backends that can add a residual in a
// convolution's epilogue (a ResBlock's second convolution plus its skip).
type FusedConv2D interface {
	// Conv2DResidual computes dst = conv(x, w) + bias + residual, the
	// composite of Conv2D and Binary Add (skipped for a nil residual). bias
	// and residual may be nil; residual has dst's shape and is either dst
	// itself or does not overlap it.
	Conv2DResidual(dst, x, w, bias, residual *Tensor, stride, pad int) bool
}

// FusedSelfAttention is implemented by backends that can project a
// self-attention's queries, keys and values with one GEMM and attend to
// them in place.
type FusedSelfAttention interface {
	// SelfAttention computes dst = Attention(x·wqᵀ, x·wkᵀ, x·wvᵀ, heads,
	// not causal), the composite of three bias-free Linears and Attention:
	// x [B,T,K], each weight [C,K], dst [B,T,C].
	SelfAttention(dst, x, wq, wk, wv *Tensor, heads int) bool
}

// FusedGEGLU is implemented by backends that can gate a feed-forward
// projection in its Linear's epilogue, without the [..., 2N] intermediate.
type FusedGEGLU interface {
	// LinearGEGLU computes dst = GEGLU(x·wᵀ + bias), the composite of
	// Linear into a [..., 2N] temporary and GEGLU into dst [..., N]: w is
	// the stored [2N, K] weight (value rows, then gate rows) and bias [2N]
	// may be nil.
	LinearGEGLU(dst, x, w, bias *Tensor) bool
}
