package nn

import "github.com/gosdxl/gosdxl/tensor"

// ResBlock is the UNet residual block (SGM names): GroupNorm+SiLU and a 3×3
// conv, plus the projected time embedding added per channel, GroupNorm+SiLU
// and another 3×3 conv, added to the input (through a 1×1 conv when the
// channel count changes).
type ResBlock struct {
	InNorm  GroupNorm `weight:"in_layers.0"`
	InConv  Conv2D    `weight:"in_layers.2"`
	Emb     Linear    `weight:"emb_layers.1"`
	OutNorm GroupNorm `weight:"out_layers.0"`
	OutConv Conv2D    `weight:"out_layers.3"`
	// Skip is nil when in == out: the input is added as it is.
	Skip *Conv2D `weight:"skip_connection"`
}

// ResBlockNormEps is the epsilon of the UNet ResBlocks' GroupNorms.
const ResBlockNormEps = 1e-5

// NewResBlock declares a block from in to out channels taking an embDim-wide
// time embedding.
func NewResBlock(in, out, embDim, groups int) ResBlock {
	r := ResBlock{
		InNorm:  NewGroupNorm(in, groups, ResBlockNormEps, true),
		InConv:  NewConv2D(in, out, 3, 1, 1),
		Emb:     NewLinear(embDim, out),
		OutNorm: NewGroupNorm(out, groups, ResBlockNormEps, true),
		OutConv: NewConv2D(out, out, 3, 1, 1),
	}
	if in != out {
		skip := NewConv2D(in, out, 1, 1, 0)
		r.Skip = &skip
	}
	return r
}

// Forward maps x [B,H,W,in] to [B,H,W,out] with embAct [B,embDim], the
// time embedding after the SiLU that opens emb_layers: every ResBlock of a
// UNet call reads the same one, so the UNet applies it once per call
// rather than each of its blocks.
func (r *ResBlock) Forward(b tensor.Backend, x, embAct *tensor.Tensor) *tensor.Tensor {
	e := r.Emb.Forward(b, embAct)
	y := r.ForwardProjected(b, x, tensor.AllColumns(e))
	b.Free(e)
	return y
}

// ForwardProjected is Forward given the projected embedding emb_layers(embAct)
// as columns of a wider matrix [B, W]: a UNet computes every block's
// projection with one Linear (the blocks' Emb weights side by side) and
// each block reads its columns in place.
func (r *ResBlock) ForwardProjected(b tensor.Backend, x *tensor.Tensor, e tensor.Columns) *tensor.Tensor {
	// Both GroupNorms are applied by the convolution that reads them, and
	// the projected time embedding is added per image in the first one's
	// epilogue (one kernel each where the backend can: nn/fused_groupnorm.go).
	y := r.InConv.ForwardNormed(b, x, &r.InNorm, e, nil)

	if r.Skip == nil {
		out := r.OutConv.ForwardNormed(b, y, &r.OutNorm, tensor.Columns{}, x)
		b.Free(y)
		return out
	}
	// With a skip convolution the skip conv's epilogue adds the main branch
	// in place: fusing the skip's output into the 3×3 conv instead would
	// hold one more full-size tensor at once.
	out := r.OutConv.ForwardNormed(b, y, &r.OutNorm, tensor.Columns{}, nil)
	b.Free(y)
	conv2DInto(b, out, x, r.Skip, out)
	return out
}
