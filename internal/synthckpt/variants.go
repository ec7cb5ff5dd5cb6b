package synthckpt

import "github.com/gosdxl/gosdxl/weights"

// Variant is a named configuration for synthetic checkpoints.
type Variant struct {
	Name   string
	Config weights.Config
}

// Variants are small SDXL-shaped configurations that differ from the
// reference tiny-sdxl-a (UNet 64/128/128 with 2 heads, encoders 64 and 128
// wide): other widths at every level, 3 and 4 attention heads, one
// transformer block per level, encoders with 2 and 3 heads, a wider VAE.
// UNet widths are multiples of 64 (the head size, which sdxl.NewUNet
// requires at every level), VAE widths of 32 (GroupNorm's groups).
func Variants() []Variant {
	const vocab, positions = 49408, 77
	te1 := weights.TextEncoderConfig{Hidden: 128, Layers: 2, Heads: 2, Intermediate: 256, Vocab: vocab, Positions: positions}
	te2 := weights.TextEncoderConfig{Hidden: 192, Layers: 2, Heads: 3, Intermediate: 384, Vocab: vocab, Positions: positions,
		Projection: 64}
	const sizeWidth = 32 // each of the six size/crop sinusoids in the ADM input
	return []Variant{{
		Name: "synth-b",
		Config: weights.Config{
			UNet: weights.UNetConfig{
				Channels: []int{128, 192, 256}, TransformerDepth: []int{0, 1, 1}, MidTransformerDepth: 1,
				Heads: []int{0, 3, 4}, ContextDim: te1.Hidden + te2.Hidden, ADMInChannels: te2.Projection + 6*sizeWidth,
				TimeEmbedDim: 4 * 128, InChannels: 4, OutChannels: 4, ResBlocksPerLevel: 2, PooledDim: te2.Projection,
			},
			TextEncoder1: te1,
			TextEncoder2: te2,
			VAE:          weights.VAEConfig{Channels: []int{32, 64, 64, 96}, LatentChannels: 4, ResBlocksPerLevel: 2},
		},
	}}
}
