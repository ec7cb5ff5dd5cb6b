package sdxl

import (
	"github.com/gosdxl/gosdxl/nn"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// vaeNormEps is the epsilon of every VAE GroupNorm.
const vaeNormEps = 1e-6

// vaeResBlock is the VAE's residual block: GroupNorm+SiLU, 3×3 conv, twice,
// added to the input (through the 1×1 nin_shortcut when widths differ).
// Unlike the UNet's it takes no time embedding.
type vaeResBlock struct {
	Norm1    nn.GroupNorm `weight:"norm1"`
	Conv1    nn.Conv2D    `weight:"conv1"`
	Norm2    nn.GroupNorm `weight:"norm2"`
	Conv2    nn.Conv2D    `weight:"conv2"`
	Shortcut *nn.Conv2D   `weight:"nin_shortcut"`
}

func newVAEResBlock(in, out int) vaeResBlock {
	r := vaeResBlock{
		Norm1: nn.NewGroupNorm(in, weights.NormGroups, vaeNormEps, true),
		Conv1: nn.NewConv2D(in, out, 3, 1, 1),
		Norm2: nn.NewGroupNorm(out, weights.NormGroups, vaeNormEps, true),
		Conv2: nn.NewConv2D(out, out, 3, 1, 1),
	}
	if in != out {
		s := nn.NewConv2D(in, out, 1, 1, 0)
		r.Shortcut = &s
	}
	return r
}

func (r *vaeResBlock) Forward(b tensor.Backend, x *tensor.Tensor) *tensor.Tensor {
	// Each GroupNorm is applied by the convolution that reads it (one
	// kernel where the backend can: nn/fused_groupnorm.go).
	y := r.Conv1.ForwardNormed(b, x, &r.Norm1, tensor.Columns{}, nil)
	if r.Shortcut == nil {
		return r.Conv2.ForwardNormedFreeing(b, y, &r.Norm2, x)
	}
	y = r.Conv2.ForwardNormedFreeing(b, y, &r.Norm2, nil)
	s := r.Shortcut.Forward(b, x)
	b.Binary(y, y, s, tensor.Add)
	b.Free(s)
	return y
}

// vaeAttention is the mid block's single-head self-attention over all
// pixels; q, k, v and proj_out are stored as 1×1 convs and used as Linear.
type vaeAttention struct {
	Norm nn.GroupNorm `weight:"norm"`
	Q    nn.Linear    `weight:"q"`
	K    nn.Linear    `weight:"k"`
	V    nn.Linear    `weight:"v"`
	Out  nn.Linear    `weight:"proj_out"`
}

func newVAEAttention(c int) vaeAttention {
	return vaeAttention{
		Norm: nn.NewGroupNorm(c, weights.NormGroups, vaeNormEps, false),
		Q:    nn.NewLinearFrom1x1Conv(c, c),
		K:    nn.NewLinearFrom1x1Conv(c, c),
		V:    nn.NewLinearFrom1x1Conv(c, c),
		Out:  nn.NewLinearFrom1x1Conv(c, c),
	}
}

func (a *vaeAttention) Forward(b tensor.Backend, x *tensor.Tensor) *tensor.Tensor {
	s := x.Shape()
	h := a.Norm.Forward(b, x)
	seq := h.Reshape(s[0], s[1]*s[2], s[3])
	q, k, v := a.Q.Forward(b, seq), a.K.Forward(b, seq), a.V.Forward(b, seq)
	b.Free(h)
	o := b.Alloc(x.DType(), q.Shape()...)
	b.Attention(o, q, k, v, 1, false)
	b.Free(q)
	b.Free(k)
	b.Free(v)
	y := b.Alloc(x.DType(), s...) // not a view: the caller frees it
	a.Out.ForwardInto(b, y.Reshape(o.Shape()...), o, tensor.NoActivation, nil)
	b.Free(o)
	b.Binary(y, y, x, tensor.Add)
	return y
}

// vaeMid is the mid block of encoder and decoder: resnet, attention, resnet.
type vaeMid struct {
	Block1 vaeResBlock  `weight:"block_1"`
	Attn   vaeAttention `weight:"attn_1"`
	Block2 vaeResBlock  `weight:"block_2"`
}

func newVAEMid(c int) vaeMid {
	return vaeMid{Block1: newVAEResBlock(c, c), Attn: newVAEAttention(c), Block2: newVAEResBlock(c, c)}
}

func (m *vaeMid) Forward(b tensor.Backend, x *tensor.Tensor) *tensor.Tensor {
	h := m.Block1.Forward(b, x)
	a := m.Attn.Forward(b, h)
	b.Free(h)
	y := m.Block2.Forward(b, a)
	b.Free(a)
	return y
}

// normConv computes conv(norm(x)) and frees x as soon as nothing needs it,
// so the largest activation is not held twice: the end of both VAE halves.
func normConv(b tensor.Backend, norm *nn.GroupNorm, conv *nn.Conv2D, x *tensor.Tensor) *tensor.Tensor {
	return conv.ForwardNormedFreeing(b, x, norm, nil)
}

// runResBlocks applies blocks in order, freeing the intermediates (not x).
func runResBlocks(b tensor.Backend, blocks []vaeResBlock, x *tensor.Tensor) *tensor.Tensor {
	h := x
	for i := range blocks {
		next := blocks[i].Forward(b, h)
		if h != x {
			b.Free(h)
		}
		h = next
	}
	return h
}
