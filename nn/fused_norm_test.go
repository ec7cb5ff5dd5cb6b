package nn

import "github.com/gosdxl/gosdxl/tensor"

// fusingBackend's tensor.FusedRowNorm: each method computes its documented
// composite (the LayerNorm into a temporary, then the operation's own
// composite from the CPU's plain operations) and is counted in norm.

var _ tensor.FusedRowNorm = (*fusingBackend)(nil)

// normed runs op on n's LayerNorm of x, if the backend does not decline.
func (f *fusingBackend) normed(x *tensor.Tensor, n tensor.RowNorm, op func(h *tensor.Tensor)) bool {
	f.asked++
	if f.decline {
		return false
	}
	f.norm++
	h := f.Alloc(x.DType(), x.Shape()...)
	f.LayerNorm(h, x, n.Gamma, n.Beta, n.Eps)
	op(h)
	f.Free(h)
	return true
}

func (f *fusingBackend) LinearFusedNormed(dst, x *tensor.Tensor, n tensor.RowNorm, w, bias, residual *tensor.Tensor, act tensor.UnaryOp) bool {
	return f.normed(x, n, func(h *tensor.Tensor) {
		out := f.Alloc(dst.DType(), dst.Shape()...)
		f.Linear(out, h, w, bias)
		if act != tensor.NoActivation {
			f.Unary(out, out, act)
		}
		f.finish(dst, out, residual)
	})
}

func (f *fusingBackend) SelfAttentionNormed(dst, x *tensor.Tensor, n tensor.RowNorm, wq, wk, wv *tensor.Tensor, heads int) bool {
	return f.normed(x, n, func(h *tensor.Tensor) {
		s := dst.Shape()
		q, k, v := f.Alloc(h.DType(), s...), f.Alloc(h.DType(), s...), f.Alloc(h.DType(), s...)
		f.Linear(q, h, wq, nil)
		f.Linear(k, h, wk, nil)
		f.Linear(v, h, wv, nil)
		f.Attention(dst, q, k, v, heads, false)
		f.Free(q)
		f.Free(k)
		f.Free(v)
	})
}

func (f *fusingBackend) CrossAttentionNormed(dst, x *tensor.Tensor, n tensor.RowNorm, wq, k, v *tensor.Tensor, heads int) bool {
	return f.normed(x, n, func(h *tensor.Tensor) {
		q := f.Alloc(h.DType(), dst.Shape()...)
		f.Linear(q, h, wq, nil)
		f.Attention(dst, q, k, v, heads, false)
		f.Free(q)
	})
}

func (f *fusingBackend) LinearGEGLUNormed(dst, x *tensor.Tensor, n tensor.RowNorm, w, bias *tensor.Tensor) bool {
	return f.normed(x, n, func(h *tensor.Tensor) {
		shape := dst.Shape().Clone()
		shape[len(shape)-1] *= 2
		p := f.Alloc(dst.DType(), shape...)
		f.Linear(p, h, w, bias)
		f.GEGLU(dst, p)
		f.Free(p)
	})
}
