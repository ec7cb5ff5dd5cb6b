package sdxl

import (
	"encoding/binary"

	"github.com/gosdxl/gosdxl/nn"
	"github.com/gosdxl/gosdxl/prompt"
	"github.com/gosdxl/gosdxl/tensor"
)

// clipLayerNormEps is the LayerNorm epsilon of both CLIP text encoders.
const clipLayerNormEps = 1e-5

// TextOutput is what one text encoder computes for a batch of 77-id rows.
type TextOutput struct {
	// Penultimate is hidden_states[-2] [B,77,C]: the output of the
	// second-to-last layer, no final LayerNorm. SDXL conditions on it.
	Penultimate *tensor.Tensor
	// Last is the final LayerNorm of the last layer's output [B,77,C]
	// (transformers' last_hidden_state). Nil when not requested.
	Last *tensor.Tensor
	// Pooled is Last at each row's first EOS, [B,C]; for encoder 2 it is
	// then projected to [B,proj] (SDXL's pooled text embedding). Nil when
	// not requested.
	Pooled *tensor.Tensor
}

// textLayer is one pre-norm transformer layer of either encoder.
type textLayer interface {
	forward(b tensor.Backend, x *tensor.Tensor, heads int) *tensor.Tensor
}

// runTextTransformer embeds ids [B,T] (token + position 0..T-1; a file's
// position_ids are never read) and runs the layers, keeping the output of
// the second-to-last one. With full unset the last layer is skipped and only
// the penultimate state is returned.
//
// Ids from the table's size on are textual-inversion vectors: row id-V of
// extra replaces the token embedding at that position (see prompt.EmbeddingSet).
func runTextTransformer(b tensor.Backend, dt tensor.DType, tokenTable, positionTable *tensor.Tensor, extra [][]float32,
	layers []textLayer, heads int, ids [][]int32, full bool) (penultimate, last *tensor.Tensor) {
	batch, seq := len(ids), len(ids[0])
	flat := make([]int32, 0, batch*seq)
	for _, row := range ids {
		flat = append(flat, row...)
	}
	keep, vectors := splitExtra(flat, tokenTable.Shape()[0], tokenTable.Shape().Last(), extra)
	positions := make([]int32, seq)
	for i := range positions {
		positions[i] = int32(i)
	}
	width := tokenTable.Shape().Last()

	idT := int32Tensor(b, flat, batch, seq)
	x := b.Alloc(dt, batch, seq, width)
	b.Gather(x, tokenTable, idT)
	b.Free(idT)
	if keep != nil {
		// x·keep + vectors: the gathered row is zeroed where a vector goes.
		k := b.FromFloat32(dt, tensor.Shape{batch, seq, 1}, keep)
		v := b.FromFloat32(dt, tensor.Shape{batch, seq, width}, vectors)
		b.Binary(x, x, k, tensor.Mul)
		b.Binary(x, x, v, tensor.Add)
		b.Free(k)
		b.Free(v)
	}
	posT := int32Tensor(b, positions, 1, seq)
	pos := b.Alloc(dt, 1, seq, width)
	b.Gather(pos, positionTable, posT)
	b.Free(posT)
	b.Binary(x, x, pos, tensor.Add)
	b.Free(pos)

	for i := 0; i < len(layers)-1; i++ {
		next := layers[i].forward(b, x, heads)
		b.Free(x)
		x = next
	}
	if !full {
		return x, nil
	}
	return x, layers[len(layers)-1].forward(b, x, heads)
}

// splitExtra replaces ids at or past the vocabulary size v by 0 (a valid
// row, zeroed afterwards) and returns, when there are any, the per-position
// keep factors (1, or 0 where a vector goes) and the vectors [len(ids), width].
func splitExtra(ids []int32, v, width int, extra [][]float32) (keep, vectors []float32) {
	for i, id := range ids {
		if int(id) < v {
			continue
		}
		if keep == nil {
			keep = make([]float32, len(ids))
			for j := range keep {
				keep[j] = 1
			}
			vectors = make([]float32, len(ids)*width)
		}
		copy(vectors[i*width:(i+1)*width], extra[int(id)-v])
		keep[i] = 0
		ids[i] = 0
	}
	return keep, vectors
}

// residualAttention computes x + out(attention(q, k, v)) with a causal
// mask, the first half of a layer once its q, k, v projections are made;
// it frees q, k and v.
func residualAttention(b tensor.Backend, x, q, k, v *tensor.Tensor, out *nn.Linear, heads int) *tensor.Tensor {
	o := b.Alloc(x.DType(), x.Shape()...)
	b.Attention(o, q, k, v, heads, true)
	b.Free(q)
	b.Free(k)
	b.Free(v)
	a := out.Forward(b, o)
	b.Free(o)
	b.Binary(a, a, x, tensor.Add)
	return a
}

// residualMLP computes x + fc2(act(fc1(norm(x)))), the second half of a layer.
func residualMLP(b tensor.Backend, x *tensor.Tensor, norm *nn.LayerNorm, fc1, fc2 *nn.Linear, act tensor.UnaryOp) *tensor.Tensor {
	h := norm.Forward(b, x)
	u := fc1.Forward(b, h)
	b.Free(h)
	b.Unary(u, u, act)
	y := fc2.Forward(b, u)
	b.Free(u)
	b.Binary(y, y, x, tensor.Add)
	return y
}

// poolFirstEOS picks, for each row of ids, the state at its first EOS
// (transformers uses the first occurrence of eos_token_id): [B,T,C] -> [B,C].
func poolFirstEOS(b tensor.Backend, states *tensor.Tensor, ids [][]int32) *tensor.Tensor {
	s := states.Shape()
	rows := make([]int32, len(ids))
	for r, row := range ids {
		at := len(row) - 1
		for i, id := range row {
			if id == prompt.EOS {
				at = i
				break
			}
		}
		rows[r] = int32(r*s[1] + at)
	}
	idx := int32Tensor(b, rows, len(rows))
	out := b.Alloc(states.DType(), len(rows), s[2])
	b.Gather(out, states.Reshape(s[0]*s[1], s[2]), idx)
	b.Free(idx)
	return out
}

// int32Tensor uploads ids as an I32 tensor through FromRaw, which every
// backend supports for integer types.
func int32Tensor(b tensor.Backend, v []int32, shape ...int) *tensor.Tensor {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], uint32(x))
	}
	return b.FromRaw(tensor.I32, tensor.Shape(shape), raw)
}
