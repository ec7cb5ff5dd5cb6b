package tensor

// RowNorm is a LayerNorm over the last dimension, (x − mean)/√(var + Eps)
// · Gamma + Beta with Gamma and Beta [C], given to an operation as the
// normalisation of its input rows (FusedRowNorm).
type RowNorm struct {
	Gamma, Beta *Tensor
	Eps         float32
}

// FusedRowNorm is implemented by backends that can normalise an
// operation's input rows as they load them, so that a LayerNorm feeding a
// linear layer needs no pass and no tensor of its own. Each method has the
// exact composite meaning "LayerNorm(x, n) into a temporary, then the
// fused operation of the same name on it" (FusedLinear.LinearFused,
// FusedSelfAttention.SelfAttention, FusedGEGLU.LinearGEGLU), and reports
// whether it ran; on false nothing was queued.
//
// CrossAttentionNormed is a cross-attention's first half on the normed
// rows: q = LayerNorm(x, n)·wqᵀ (no bias) into a temporary of x's type,
// then Attention(dst, q, k, v, heads, false), with k and v the
// attention's own [B,Tk,C] (a prompt's projected context).
type FusedRowNorm interface {
	LinearFusedNormed(dst, x *Tensor, n RowNorm, w, bias, residual *Tensor, act UnaryOp) bool
	SelfAttentionNormed(dst, x *Tensor, n RowNorm, wq, wk, wv *Tensor, heads int) bool
	LinearGEGLUNormed(dst, x *Tensor, n RowNorm, w, bias *Tensor) bool
	CrossAttentionNormed(dst, x *Tensor, n RowNorm, wq, k, v *Tensor, heads int) bool
}
