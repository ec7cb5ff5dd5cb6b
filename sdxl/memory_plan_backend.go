package sdxl

import "github.com/gosdxl/gosdxl/tensor"

// planBackend computes nothing: it keeps count of the device memory the
// calls made on it allocate and free, so that a generation's peak is known
// without a GPU (PlanMemory), and of the work each call would do (Work).
// Every op is a no-op; ToFloat32 gives zeros.
// It does not offer the CUDA backend's fused ops (tensor.FusedLinear…), so
// the model takes its composed paths: the plan is an upper bound of what
// the fused ops need.
type planBackend struct {
	block       func(bytes int) int // a block's size for a request (the pool's size class)
	inUse, peak int64
	work        Work // what the calls compute (nil: not counted)
}

// planBlock is one allocation's storage.
type planBlock struct {
	bytes int64
	freed bool
}

func (b *planBackend) Name() string { return "plan" }

// ShapeOnly tells the Binder to bind shapes without reading weights.
func (b *planBackend) ShapeOnly() bool { return true }

func (b *planBackend) Alloc(dt tensor.DType, shape ...int) *tensor.Tensor {
	s := tensor.Shape(shape)
	blk := &planBlock{bytes: int64(b.block(max(s.NumElements()*dt.Size(), 1)))}
	b.inUse += blk.bytes
	b.peak = max(b.peak, b.inUse)
	return tensor.New(b, dt, s, blk)
}

func (b *planBackend) FromFloat32(dt tensor.DType, shape tensor.Shape, _ []float32) *tensor.Tensor {
	return b.Alloc(dt, shape...)
}

func (b *planBackend) FromRaw(dt tensor.DType, shape tensor.Shape, _ []byte) *tensor.Tensor {
	return b.Alloc(dt, shape...)
}

func (b *planBackend) ToFloat32(t *tensor.Tensor) []float32 { return make([]float32, t.NumElements()) }

func (b *planBackend) Free(t *tensor.Tensor) {
	if blk, ok := t.Storage().(*planBlock); ok && !blk.freed {
		blk.freed = true
		b.inUse -= blk.bytes
	}
}

func (b *planBackend) Sync() error { return nil }

// count adds an operation's work when work is counted.
func (b *planBackend) count(k OpKind, flops float64, tensors ...*tensor.Tensor) {
	if b.work != nil {
		b.work.add(k, flops, tensors...)
	}
}

// Linear: x [M,K] · w [N,K]ᵀ, 2·M·N·K.
func (b *planBackend) Linear(dst, x, w, bias *tensor.Tensor) {
	b.count(KindLinear, 2*float64(dst.NumElements())*float64(x.Shape().Last()), dst, x, w, bias)
}

// Conv2D: every output element is a dot product over KH·KW·Cin.
func (b *planBackend) Conv2D(dst, x, w, bias *tensor.Tensor, stride, pad int) {
	perOut := w.NumElements() / w.Shape()[0]
	b.count(KindConv, 2*float64(dst.NumElements())*float64(perOut), dst, x, w, bias)
}

// Attention: q·kᵀ and p·v, each 2·B·Tq·Tk·C.
func (b *planBackend) Attention(dst, q, k, v *tensor.Tensor, heads int, causal bool) {
	qs := q.Shape()
	b.count(KindAttention, 4*float64(qs[0])*float64(qs[1])*float64(k.Shape()[1])*float64(qs[2]), dst, q, k, v)
}

func (b *planBackend) GroupNorm(dst, x, g, beta *tensor.Tensor, groups int, eps float32, silu bool) {
	b.count(KindNorm, 0, dst, x, g, beta)
}
func (b *planBackend) LayerNorm(dst, x, gamma, beta *tensor.Tensor, eps float32) {
	b.count(KindNorm, 0, dst, x, gamma, beta)
}
func (b *planBackend) Unary(dst, x *tensor.Tensor, op tensor.UnaryOp) {
	b.count(KindElementwise, 0, dst, x)
}
func (b *planBackend) GEGLU(dst, x *tensor.Tensor) { b.count(KindElementwise, 0, dst, x) }
func (b *planBackend) Binary(dst, a, c *tensor.Tensor, op tensor.BinaryOp) {
	b.count(KindElementwise, 0, dst, a, c)
}
func (b *planBackend) ResizeNearest(dst, x *tensor.Tensor) { b.count(KindElementwise, 0, dst, x) }
func (b *planBackend) Concat(dst, a, c *tensor.Tensor)     { b.count(KindElementwise, 0, dst, a, c) }
func (b *planBackend) Slice(dst, x *tensor.Tensor, _ int)  { b.count(KindElementwise, 0, dst, dst) }
func (b *planBackend) Cast(dst, x *tensor.Tensor)          { b.count(KindElementwise, 0, dst, x) }
func (b *planBackend) Gather(dst, table, ids *tensor.Tensor) {
	b.count(KindElementwise, 0, dst, dst, ids)
}
