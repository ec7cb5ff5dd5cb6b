package nn

import "github.com/gosdxl/gosdxl/tensor"

// Operations on a LayerNorm of their input (tensor.RowNorm): a backend
// with tensor.FusedRowNorm normalises the rows as it loads them; otherwise
// normedThen gives the one composite meaning, the LayerNorm into a
// temporary and then the operation on it, with the plain operation's own
// fused and composite paths. Weights are never changed (LoRA merges stay
// as they are).

// RowNorm is the layer as an input normalisation for the next operation.
func (l *LayerNorm) RowNorm() tensor.RowNorm {
	return tensor.RowNorm{Gamma: l.Weight, Beta: l.Bias, Eps: l.Eps}
}

// normedThen is the composite of every normed operation: op on n's
// LayerNorm of x, which lives until op returns.
func normedThen(b tensor.Backend, x *tensor.Tensor, n tensor.RowNorm, op func(h *tensor.Tensor) *tensor.Tensor) *tensor.Tensor {
	h := b.Alloc(x.DType(), x.Shape()...)
	b.LayerNorm(h, x, n.Gamma, n.Beta, n.Eps)
	y := op(h)
	b.Free(h)
	return y
}

// rowNormFuser is b's tensor.FusedRowNorm, or nil.
func rowNormFuser(b tensor.Backend) tensor.FusedRowNorm {
	f, _ := b.(tensor.FusedRowNorm)
	return f
}

// ForwardNormed is ForwardFused on n's LayerNorm of x.
func (l *Linear) ForwardNormed(b tensor.Backend, x *tensor.Tensor, n tensor.RowNorm, act tensor.UnaryOp, residual *tensor.Tensor) *tensor.Tensor {
	if f := rowNormFuser(b); f != nil {
		shape := x.Shape().Clone()
		shape[len(shape)-1] = l.Out()
		y := b.Alloc(x.DType(), shape...)
		if f.LinearFusedNormed(y, x, n, l.Weight, l.Bias, residual, act) {
			return y
		}
		b.Free(y)
	}
	return normedThen(b, x, n, func(h *tensor.Tensor) *tensor.Tensor { return l.ForwardFused(b, h, act, residual) })
}

// SelfAttendNormed is ForwardAdd of self-attention (no context) on n's
// LayerNorm of x.
func (a *Attention) SelfAttendNormed(b tensor.Backend, x *tensor.Tensor, n tensor.RowNorm, residual *tensor.Tensor) *tensor.Tensor {
	s := x.Shape()
	if f := rowNormFuser(b); f != nil && len(s) == 3 && a.Q.Bias == nil && a.K.Bias == nil && a.V.Bias == nil {
		o := b.Alloc(x.DType(), s[0], s[1], a.Q.Out())
		if f.SelfAttentionNormed(o, x, n, a.Q.Weight, a.K.Weight, a.V.Weight, a.Heads) {
			return a.project(b, o, residual)
		}
		b.Free(o)
	}
	return normedThen(b, x, n, func(h *tensor.Tensor) *tensor.Tensor { return a.ForwardAdd(b, h, nil, residual) })
}

// ForwardKVNormed is ForwardKV on n's LayerNorm of x: only the query
// projection reads it. A backend may project the queries inside the
// attention (CrossAttentionNormed, bias-free to_q only); else the normed
// query projection runs on its own.
func (a *Attention) ForwardKVNormed(b tensor.Backend, x *tensor.Tensor, n tensor.RowNorm, kv CrossKV, residual *tensor.Tensor) *tensor.Tensor {
	if f := rowNormFuser(b); f != nil {
		if s := x.Shape(); len(s) == 3 && a.Q.Bias == nil {
			o := b.Alloc(x.DType(), s[0], s[1], a.Q.Out())
			if f.CrossAttentionNormed(o, x, n, a.Q.Weight, kv.K, kv.V, a.Heads) {
				return a.project(b, o, residual)
			}
			b.Free(o)
		}
		q := a.Q.ForwardNormed(b, x, n, tensor.NoActivation, nil)
		return a.project(b, a.attend(b, q, kv), residual)
	}
	return normedThen(b, x, n, func(h *tensor.Tensor) *tensor.Tensor { return a.ForwardKV(b, h, kv, residual) })
}

// ForwardAddNormed is ForwardAdd on n's LayerNorm of x.
func (f *FeedForward) ForwardAddNormed(b tensor.Backend, x *tensor.Tensor, n tensor.RowNorm, residual *tensor.Tensor) *tensor.Tensor {
	if fr := rowNormFuser(b); fr != nil {
		shape := x.Shape().Clone()
		shape[len(shape)-1] = f.Proj.Out() / 2
		g := b.Alloc(x.DType(), shape...)
		if fr.LinearGEGLUNormed(g, x, n, f.Proj.Weight, f.Proj.Bias) {
			y := f.Out.ForwardFused(b, g, tensor.NoActivation, residual)
			b.Free(g)
			return y
		}
		b.Free(g)
	}
	return normedThen(b, x, n, func(h *tensor.Tensor) *tensor.Tensor { return f.ForwardAdd(b, h, residual) })
}
