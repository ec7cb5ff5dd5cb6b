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
		if o := a.selfAttendFused(b, x); o != nil {
			return a.project(b, o, residual)
		}
		context = x
	}
	q := a.Q.Forward(b, x)
	kv := a.PrepareContext(b, context)
	o := a.attend(b, q, kv)
	kv.Free(b) // before the output projection allocates: self-attention's K/V are as large as x
	return a.project(b, o, residual)
}

// CrossKV is a cross-attention's keys and values, to_k and to_v of one
// context [B,S,contextDim], each [B,S,dim]. A generation attends to the
// same text context at every step, so its K/V can be projected once
// (PrepareContext) and read by every step (ForwardKV).
type CrossKV struct {
	K, V *tensor.Tensor
}

// PrepareContext projects context [B,S,contextDim] to the keys and values
// that ForwardKV reads. The caller frees them (CrossKV.Free). They follow
// the weights as they are now: merging other weights in (LoRA) needs them
// prepared again.
func (a *Attention) PrepareContext(b tensor.Backend, context *tensor.Tensor) CrossKV {
	return CrossKV{K: a.K.Forward(b, context), V: a.V.Forward(b, context)}
}

// Free releases the keys and values.
func (kv CrossKV) Free(b tensor.Backend) {
	b.Free(kv.K)
	b.Free(kv.V)
}

// ForwardKV is ForwardAdd attending to prepared keys and values, which it
// only reads: the same operations on the same values, minus the two
// projections.
func (a *Attention) ForwardKV(b tensor.Backend, x *tensor.Tensor, kv CrossKV, residual *tensor.Tensor) *tensor.Tensor {
	return a.project(b, a.attend(b, a.Q.Forward(b, x), kv), residual)
}

// selfAttendFused is the heads' output of self-attention on x through the
// backend's fused projection and attention (tensor.FusedSelfAttention),
// or nil where the backend has none or declines (biased projections
// included: the fused GEMM has no bias): ForwardAdd then composes it.
func (a *Attention) selfAttendFused(b tensor.Backend, x *tensor.Tensor) *tensor.Tensor {
	f, ok := b.(tensor.FusedSelfAttention)
	s := x.Shape()
	if !ok || len(s) != 3 || a.Q.Bias != nil || a.K.Bias != nil || a.V.Bias != nil {
		return nil
	}
	o := b.Alloc(x.DType(), s[0], s[1], a.Q.Out())
	if f.SelfAttention(o, x, a.Q.Weight, a.K.Weight, a.V.Weight, a.Heads) {
		return o
	}
	b.Free(o)
	return nil
}

// attend is softmax(q·kᵀ/√d)·v per head, [B,T,dim]; it frees q.
func (a *Attention) attend(b tensor.Backend, q *tensor.Tensor, kv CrossKV) *tensor.Tensor {
	o := b.Alloc(q.DType(), q.Shape()...)
	b.Attention(o, q, kv.K, kv.V, a.Heads, false)
	b.Free(q)
	return o
}

// project is to_out.0 of the heads' output o plus residual; it frees o.
func (a *Attention) project(b tensor.Backend, o, residual *tensor.Tensor) *tensor.Tensor {
	y := a.Out.ForwardFused(b, o, tensor.NoActivation, residual)
	b.Free(o)
	return y
}
