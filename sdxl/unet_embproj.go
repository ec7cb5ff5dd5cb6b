package sdxl

import (
	"slices"

	"github.com/gosdxl/gosdxl/nn"
	"github.com/gosdxl/gosdxl/tensor"
)

// Every ResBlock projects the same activated time embedding with its own
// emb_layers Linear [Cout, TimeEmbedDim]: 17 small GEMMs per SDXL call,
// each a kernel launch of two rows. Stacked, the weights [ΣCout,
// TimeEmbedDim] project all of them in one Linear, [B, ΣCout], and each
// block's first convolution adds its columns in place (tensor.Columns).
// Only backends whose fused convolution reads those columns in place
// (tensor.FusedNormConv2D) get the stacked copy: elsewhere (the CPU
// reference) it would cost a copy of the weights and a Slice per block and
// save nothing. The arithmetic is the same: each output column is the
// same dot product either way.

// embProjection is the stacked emb_layers of a UNet's ResBlocks.
type embProjection struct {
	// from is every block's weight and bias the stack was copied from, in
	// order: a merged LoRA puts other tensors in their place
	// (lora.Merger), and the stack is then rebuilt.
	from         []*tensor.Tensor
	weight, bias *tensor.Tensor       // [ΣCout, TimeEmbedDim], [ΣCout]
	first        map[*nn.ResBlock]int // each block's first column
}

// blockEmbeddings is what the ResBlocks of one call read: the activated
// time embedding, which each block projects itself, or every block's
// projection side by side (all) where the backend takes the stack
// (UNet.stepEmbeddings).
type blockEmbeddings struct {
	act   *tensor.Tensor // [B, TimeEmbedDim], after the SiLU
	all   *tensor.Tensor // [B, ΣCout] or nil
	first map[*nn.ResBlock]int
}

// resBlocks lists the UNet's ResBlocks in the order of a call.
func (u *UNet) resBlocks() []*nn.ResBlock {
	var rs []*nn.ResBlock
	for i := range u.Input {
		if r := u.Input[i].Res; r != nil {
			rs = append(rs, r)
		}
	}
	rs = append(rs, &u.Middle.Res1, &u.Middle.Res2)
	for i := range u.Output {
		if r := u.Output[i].Res; r != nil {
			rs = append(rs, r)
		}
	}
	return rs
}

// takesStack reports whether b reads a per-image bias's columns in place,
// the only case where the stack saves anything.
func takesStack(b tensor.Backend) bool {
	_, ok := b.(tensor.FusedNormConv2D)
	return ok
}

// prepareEmbProjection stacks the projections now where b takes them,
// rather than in the next call (a pipeline's plan does it before its first
// step).
func (u *UNet) prepareEmbProjection(b tensor.Backend) {
	if takesStack(b) {
		u.stackedEmbProjection(b)
	}
}

// embStackFor returns the stacked projections where b takes them
// (building or rebuilding them as needed), or nil.
func (u *UNet) embStackFor(b tensor.Backend) *embProjection {
	if !takesStack(b) {
		return nil
	}
	return u.stackedEmbProjection(b)
}

// forward runs r on x with its projection.
func (e blockEmbeddings) forward(b tensor.Backend, r *nn.ResBlock, x *tensor.Tensor) *tensor.Tensor {
	if e.all == nil {
		return r.Forward(b, x, e.act)
	}
	return r.ForwardProjected(b, x, tensor.Columns{Of: e.all, From: e.first[r]})
}

// forwardCat runs r on cat(h, skip), read where they lie, with its
// projection.
func (e blockEmbeddings) forwardCat(b tensor.Backend, r *nn.ResBlock, h, skip *tensor.Tensor) *tensor.Tensor {
	if e.all == nil {
		return r.ForwardCat(b, h, skip, e.act)
	}
	return r.ForwardCatProjected(b, h, skip, tensor.Columns{Of: e.all, From: e.first[r]})
}

func (e blockEmbeddings) free(b tensor.Backend) {
	b.Free(e.act)
	if e.all != nil {
		b.Free(e.all)
	}
}

// stackedEmbProjection returns the stack, built on first use or when a
// block's weights changed since, or nil when the blocks' Linears cannot
// be stacked (a missing bias, mixed types).
func (u *UNet) stackedEmbProjection(b tensor.Backend) *embProjection {
	rs := u.resBlocks()
	from := make([]*tensor.Tensor, 0, 2*len(rs))
	for _, r := range rs {
		from = append(from, r.Emb.Weight, r.Emb.Bias)
	}
	if p := u.embProj; p != nil && slices.Equal(p.from, from) {
		return p
	}
	u.releaseEmbProjection(b)
	for i := 0; i < len(from); i += 2 {
		w, bias := from[i], from[i+1]
		if bias == nil || len(w.Shape()) != 2 || w.Shape()[1] != from[0].Shape()[1] ||
			w.DType() != from[0].DType() || bias.DType() != from[1].DType() {
			return nil
		}
	}
	p := &embProjection{from: from, first: make(map[*nn.ResBlock]int, len(rs))}
	col := 0
	for _, r := range rs {
		p.first[r] = col
		col += r.Emb.Out()
	}
	ws, bs := make([]*tensor.Tensor, len(rs)), make([]*tensor.Tensor, len(rs))
	for i := range rs {
		ws[i], bs[i] = from[2*i], from[2*i+1]
	}
	p.weight = stackRows(b, ws, col, from[0].Shape()[1])
	p.bias = stackRows(b, bs, col)
	u.embProj = p
	return p
}

// stackRows copies the row-major matrices parts, all of one width, one
// under the other into a new tensor of shape (the sum of their rows, the
// width): Concat of their flat views, one part at a time.
func stackRows(b tensor.Backend, parts []*tensor.Tensor, shape ...int) *tensor.Tensor {
	out := b.Alloc(parts[0].DType(), shape...)
	flat := func(t *tensor.Tensor) *tensor.Tensor { return t.Reshape(1, t.NumElements()) }
	if len(parts) == 1 {
		b.Slice(flat(out), flat(parts[0]), 0)
		return out
	}
	acc, owned := flat(parts[0]), (*tensor.Tensor)(nil)
	for i := 1; i < len(parts); i++ {
		next := flat(parts[i])
		var made *tensor.Tensor
		cat := flat(out)
		if i < len(parts)-1 {
			made = b.Alloc(acc.DType(), 1, acc.NumElements()+next.NumElements())
			cat = made
		}
		b.Concat(cat, acc, next)
		if owned != nil {
			b.Free(owned)
		}
		acc, owned = cat, made
	}
	return out
}

// releaseEmbProjection frees the stack, if any (Model.Close, and before a
// rebuild).
func (u *UNet) releaseEmbProjection(b tensor.Backend) {
	if u.embProj == nil {
		return
	}
	b.Free(u.embProj.weight)
	b.Free(u.embProj.bias)
	u.embProj = nil
}
