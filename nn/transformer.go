package nn

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// TransformerBlock is SDXL's BasicTransformerBlock with pre-norm residuals:
// self-attention, cross-attention to the text context, GEGLU feed-forward.
type TransformerBlock struct {
	Norm1 LayerNorm   `weight:"norm1"`
	Attn1 Attention   `weight:"attn1"`
	Norm2 LayerNorm   `weight:"norm2"`
	Attn2 Attention   `weight:"attn2"`
	Norm3 LayerNorm   `weight:"norm3"`
	FF    FeedForward `weight:"ff"`
}

// TransformerLayerNormEps is the epsilon of the blocks' LayerNorms.
const TransformerLayerNormEps = 1e-5

// NewTransformerBlock declares a block of width dim attending to a
// contextDim-wide text context, with heads heads.
func NewTransformerBlock(dim, contextDim, heads int) TransformerBlock {
	return TransformerBlock{
		Norm1: NewLayerNorm(dim, TransformerLayerNormEps),
		Attn1: NewAttention(dim, dim, heads),
		Norm2: NewLayerNorm(dim, TransformerLayerNormEps),
		Attn2: NewAttention(dim, contextDim, heads),
		Norm3: NewLayerNorm(dim, TransformerLayerNormEps),
		FF:    NewFeedForward(dim, 4*dim),
	}
}

// Forward maps x [B,T,dim] to [B,T,dim], cross-attending to context [B,S,contextDim].
func (t *TransformerBlock) Forward(b tensor.Backend, x, context *tensor.Tensor) *tensor.Tensor {
	kv := t.Attn2.PrepareContext(b, context)
	y := t.ForwardKV(b, x, kv)
	kv.Free(b)
	return y
}

// ForwardKV is Forward with the cross-attention's keys and values prepared
// from the context (Attn2.PrepareContext), which it only reads.
func (t *TransformerBlock) ForwardKV(b tensor.Backend, x *tensor.Tensor, kv CrossKV) *tensor.Tensor {
	// Each residual add happens in the epilogue of the sub-layer's last
	// linear and each LayerNorm in the loader of its first where the
	// backend can (tensor.FusedRowNorm); each sum is a new tensor and the
	// previous one is freed.
	y := t.Attn1.SelfAttendNormed(b, x, t.Norm1.RowNorm(), x)

	next := t.Attn2.ForwardKVNormed(b, y, t.Norm2.RowNorm(), kv, y)
	b.Free(y)
	y = next

	next = t.FF.ForwardAddNormed(b, y, t.Norm3.RowNorm(), y)
	b.Free(y)
	return next
}

// SpatialTransformer runs transformer blocks over the pixels of a feature
// map (SDXL's Transformer2DModel with linear projections): GroupNorm,
// proj_in, the blocks, proj_out, plus the input as a residual.
type SpatialTransformer struct {
	Norm    GroupNorm          `weight:"norm"`
	ProjIn  Linear             `weight:"proj_in"`
	Blocks  []TransformerBlock `weight:"transformer_blocks"`
	ProjOut Linear             `weight:"proj_out"`
}

// SpatialTransformerNormEps is the epsilon of the input GroupNorm: 1e-6,
// unlike the 1e-5 of the ResBlocks around it.
const SpatialTransformerNormEps = 1e-6

// NewSpatialTransformer declares depth blocks of width dim.
func NewSpatialTransformer(dim, contextDim, heads, depth, groups int) SpatialTransformer {
	blocks := make([]TransformerBlock, depth)
	for i := range blocks {
		blocks[i] = NewTransformerBlock(dim, contextDim, heads)
	}
	return SpatialTransformer{
		Norm:    NewGroupNorm(dim, groups, SpatialTransformerNormEps, false),
		ProjIn:  NewLinear(dim, dim),
		Blocks:  blocks,
		ProjOut: NewLinear(dim, dim),
	}
}

// PrepareContext projects context [B,S,contextDim] for every block's
// cross-attention, in block order, for ForwardKV. The caller frees them
// (FreeKV).
func (s *SpatialTransformer) PrepareContext(b tensor.Backend, context *tensor.Tensor) []CrossKV {
	kv := make([]CrossKV, len(s.Blocks))
	for i := range s.Blocks {
		kv[i] = s.Blocks[i].Attn2.PrepareContext(b, context)
	}
	return kv
}

// FreeKV frees what PrepareContext returned.
func FreeKV(b tensor.Backend, kv []CrossKV) {
	for _, x := range kv {
		x.Free(b)
	}
}

// Forward maps x [B,H,W,dim] to [B,H,W,dim], cross-attending to context
// [B,S,contextDim].
func (s *SpatialTransformer) Forward(b tensor.Backend, x, context *tensor.Tensor) *tensor.Tensor {
	kv := s.PrepareContext(b, context)
	y := s.ForwardKV(b, x, kv)
	FreeKV(b, kv)
	return y
}

// ForwardKV is Forward with each block's cross-attention keys and values
// prepared (PrepareContext), which it only reads. Channels-last makes the
// feature map a token sequence [B,H·W,dim] without any permutation.
func (s *SpatialTransformer) ForwardKV(b tensor.Backend, x *tensor.Tensor, kv []CrossKV) *tensor.Tensor {
	if len(kv) != len(s.Blocks) {
		panic(fmt.Sprintf("nn: %d prepared contexts for %d transformer blocks", len(kv), len(s.Blocks)))
	}
	shape := x.Shape()
	seq := s.ProjIn.ForwardGroupNormed(b, x.Reshape(shape[0], shape[1]*shape[2], shape[3]), &s.Norm, tensor.NoActivation)
	for i := range s.Blocks {
		next := s.Blocks[i].ForwardKV(b, seq, kv[i])
		b.Free(seq)
		seq = next
	}
	// The output is allocated in its image shape and written through a
	// token view: callers free what they get, and freeing a view is an error.
	tokens := x.Reshape(shape[0], shape[1]*shape[2], shape[3])
	y := b.Alloc(x.DType(), shape...)
	s.ProjOut.ForwardInto(b, y.Reshape(tokens.Shape()...), seq, tensor.NoActivation, tokens)
	b.Free(seq)
	return y
}
