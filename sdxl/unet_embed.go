package sdxl

import (
	"github.com/gosdxl/gosdxl/nn"
	"github.com/gosdxl/gosdxl/tensor"
)

// timeEmbedding is the embedding every ResBlock receives: the timestep's
// sinusoid through time_embed (Linear, SiLU, Linear), plus SDXL's added
// conditioning [pooled text ‖ sinusoids of the six size/crop numbers]
// through label_emb (Linear, SiLU, Linear).
func (u *UNet) timeEmbedding(b tensor.Backend, in UNetInput, dt tensor.DType) *tensor.Tensor {
	batch := len(in.TimeIDs)
	t := b.FromFloat32(dt, tensor.Shape{batch, u.cfg.Channels[0]}, nn.TimestepEmbedding(in.Timesteps, u.cfg.Channels[0]))
	emb := mlp(b, &u.TimeEmbed1, &u.TimeEmbed2, t)
	b.Free(t)

	width := (u.cfg.ADMInChannels - u.cfg.PooledDim) / 6
	ids := make([]float32, 0, 6*batch)
	for _, row := range in.TimeIDs {
		ids = append(ids, row[:]...)
	}
	sizes := b.FromFloat32(dt, tensor.Shape{batch, 6 * width}, nn.TimestepEmbedding(ids, width))
	added := b.Alloc(dt, batch, u.cfg.ADMInChannels)
	b.Concat(added, in.TextEmbeds, sizes)
	b.Free(sizes)
	label := mlp(b, &u.LabelEmbed1, &u.LabelEmbed2, added)
	b.Free(added)

	b.Binary(emb, emb, label, tensor.Add)
	b.Free(label)
	return emb
}

// mlp is second(SiLU(first(x))).
func mlp(b tensor.Backend, first, second *nn.Linear, x *tensor.Tensor) *tensor.Tensor {
	h := first.Forward(b, x)
	b.Unary(h, h, tensor.SiLU)
	y := second.Forward(b, h)
	b.Free(h)
	return y
}
