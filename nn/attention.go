package nn

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Attention is multi-head scaled dot-product attention with diffusers'
// names: to_q, to_k, to_v without bias, to_out.0 with bias. Keys and values
// come from the input itself (self-attention) or from a context sequence
// (cross-attention, the text conditioning).
type Attention struct {
	Q     Linear `weight:"to_q"`
	K     Linear `weight:"to_k"`
	V     Linear `weight:"to_v"`
	Out   Linear `weight:"to_out.0"`
	Heads int
}

// NewAttention declares attention over dim-wide queries and contextDim-wide
// keys/values (contextDim = dim for self-attention), in heads heads.
func NewAttention(dim, contextDim, heads int) Attention {
	if heads <= 0 || dim%heads != 0 {
		panic(fmt.Sprintf("nn: attention width %d does not split into %d heads", dim, heads))
	}
	return Attention{
		Q:     NewLinear(dim, dim),
		K:     NewLinear(contextDim, dim),
		V:     NewLinear(contextDim, dim),
		Out:   NewLinear(dim, dim),
		Heads: heads,
	}
}

// Forward attends from x [B,T,dim] to context [B,S,contextDim], or to x
// itself when context is nil.
func (a *Attention) Forward(b tensor.Backend, x, context *tensor.Tensor) *tensor.Tensor {
	return a.ForwardAdd(b, x, context, nil)
}

// ForwardAdd is Forward plus residual [B,T,dim] (nil: nothing), added in
// the output projection's epilogue where the backend can fuse it.
func (a *Attention) ForwardAdd(b tensor.Backend, x, context, residual *tensor.Tensor) *tensor.Tensor {
	if context == nil {
		context = x
	}
	q := a.Q.Forward(b, x)
	k := a.K.Forward(b, context)
	v := a.V.Forward(b, context)
	o := b.Alloc(x.DType(), q.Shape()...)
	b.Attention(o, q, k, v, a.Heads, false)
	b.Free(q)
	b.Free(k)
	b.Free(v)
	y := a.Out.ForwardFused(b, o, tensor.NoActivation, residual)
	b.Free(o)
	return y
}
