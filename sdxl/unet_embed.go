package sdxl

import (
	"github.com/gosdxl/gosdxl/nn"
	"github.com/gosdxl/gosdxl/tensor"
)

// timeEmbedding is the embedding every ResBlock receives, already through
// the SiLU that opens each block's emb_layers: SiLU of the timestep's
// sinusoid through time_embed (Linear, SiLU, Linear) plus SDXL's added
// conditioning [pooled text ‖ sinusoids of the six size/crop numbers]
// through label_emb (Linear, SiLU, Linear).
func (u *UNet) timeEmbedding(b tensor.Backend, in UNetInput, dt tensor.DType) *tensor.Tensor {
	t := b.FromFloat32(dt, tensor.Shape{len(in.Timesteps), u.cfg.Channels[0]}, nn.TimestepEmbedding(in.Timesteps, u.cfg.Channels[0]))
	label := u.labelEmbedding(b, in.TextEmbeds, in.TimeIDs, dt)
	emb := u.stepEmbedding(b, t, label)
	b.Free(t)
	b.Free(label)
	return emb
}

// stepEmbedding is SiLU(time_embed(sinusoid) + label), from the
// timesteps' sinusoids [B, Channels[0]] and the label embedding of
// labelEmbedding. The sum itself is needed nowhere else: every ResBlock
// reads it through the same SiLU, applied once here in TimeEmbed2's
// epilogue after the add (nn.ResBlock.Forward takes it activated).
func (u *UNet) stepEmbedding(b tensor.Backend, sinusoid, label *tensor.Tensor) *tensor.Tensor {
	h := u.TimeEmbed1.ForwardFused(b, sinusoid, tensor.SiLU, nil)
	y := u.TimeEmbed2.ForwardAddAct(b, h, label, tensor.SiLU)
	b.Free(h)
	return y
}

// labelEmbedding is label_emb([pooled ‖ sinusoids of the time ids]): the
// part of the time embedding that stays the same for a whole generation.
func (u *UNet) labelEmbedding(b tensor.Backend, textEmbeds *tensor.Tensor, timeIDs [][6]float32, dt tensor.DType) *tensor.Tensor {
	batch := len(timeIDs)
	width := (u.cfg.ADMInChannels - u.cfg.PooledDim) / 6
	ids := make([]float32, 0, 6*batch)
	for _, row := range timeIDs {
		ids = append(ids, row[:]...)
	}
	sizes := b.FromFloat32(dt, tensor.Shape{batch, 6 * width}, nn.TimestepEmbedding(ids, width))
	added := b.Alloc(dt, batch, u.cfg.ADMInChannels)
	b.Concat(added, textEmbeds, sizes)
	b.Free(sizes)
	h := u.LabelEmbed1.ForwardFused(b, added, tensor.SiLU, nil)
	b.Free(added)
	label := u.LabelEmbed2.Forward(b, h)
	b.Free(h)
	return label
}
