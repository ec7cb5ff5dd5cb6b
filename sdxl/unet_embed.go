package sdxl

import (
	"github.com/gosdxl/gosdxl/nn"
	"github.com/gosdxl/gosdxl/tensor"
)

// timeEmbeddings is what every ResBlock receives (stepEmbeddings) for a
// call's timesteps and SDXL's added conditioning [pooled text ‖ sinusoids
// of the six size/crop numbers] through label_emb (Linear, SiLU, Linear).
// The caller frees the result.
func (u *UNet) timeEmbeddings(b tensor.Backend, in UNetInput, dt tensor.DType) blockEmbeddings {
	t := b.FromFloat32(dt, tensor.Shape{len(in.Timesteps), u.cfg.Channels[0]}, nn.TimestepEmbedding(in.Timesteps, u.cfg.Channels[0]))
	label := u.labelEmbedding(b, in.TextEmbeds, in.TimeIDs, dt)
	e := u.stepEmbeddings(b, t, label)
	b.Free(t)
	b.Free(label)
	return e
}

// stepEmbeddings is the time embedding SiLU(time_embed(sinusoid) + label)
// (time_embed: Linear, SiLU, Linear) from the timesteps' sinusoids
// [B, Channels[0]] and the label embedding of labelEmbedding, already
// through the SiLU that opens every ResBlock's emb_layers (the sum itself
// is read nowhere else), and, where the backend takes the ResBlocks'
// projections side by side (unet_embproj.go), those projections too: the
// three Linears are then one tensor.LinearChain, one launch on a GPU for a
// batch of up to eight rows. The caller frees the result.
func (u *UNet) stepEmbeddings(b tensor.Backend, sinusoid, label *tensor.Tensor) blockEmbeddings {
	p := u.embStackFor(b)
	rows, dt := sinusoid.Shape()[0], sinusoid.DType()
	h := b.Alloc(dt, rows, u.TimeEmbed1.Out())
	act := b.Alloc(dt, rows, u.TimeEmbed2.Out())
	layers := []tensor.ChainLayer{
		{W: u.TimeEmbed1.Weight, Bias: u.TimeEmbed1.Bias, Act: tensor.SiLU, Out: h},
		{W: u.TimeEmbed2.Weight, Bias: u.TimeEmbed2.Bias, Residual: label, Act: tensor.SiLU, Out: act},
	}
	e := blockEmbeddings{act: act}
	if p != nil {
		e.all, e.first = b.Alloc(dt, rows, p.weight.Shape()[0]), p.first
		layers = append(layers, tensor.ChainLayer{W: p.weight, Bias: p.bias, Out: e.all})
	}
	tensor.LinearChain(b, sinusoid, layers)
	b.Free(h)
	return e
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
