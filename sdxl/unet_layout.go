package sdxl

import (
	"github.com/gosdxl/gosdxl/nn"
	"github.com/gosdxl/gosdxl/weights"
)

// unetBlock is one numbered entry of the SGM UNet, input_blocks.N /
// middle_block / output_blocks.N. Its layers sit at positions .0, .1, .2;
// which of them exist depends on the block, so each kind is an optional
// pointer with its position as the tag (the binder skips nil pointers).
type unetBlock struct {
	ConvIn *nn.Conv2D             `weight:"0"` // input_blocks.0 only
	Res    *nn.ResBlock           `weight:"0"`
	Down   *nn.Downsample         `weight:"0"`
	Attn   *nn.SpatialTransformer `weight:"1"`
	// The upsampler follows the ResBlock (.1) on a level without attention
	// and the transformer (.2) on a level with it.
	UpAfterRes  *nn.Upsample `weight:"1"`
	UpAfterAttn *nn.Upsample `weight:"2"`
}

func (u *unetBlock) upsampler() *nn.Upsample {
	if u.UpAfterAttn != nil {
		return u.UpAfterAttn
	}
	return u.UpAfterRes
}

// middleBlock is middle_block: ResBlock, transformer, ResBlock.
type middleBlock struct {
	Res1 nn.ResBlock           `weight:"0"`
	Attn nn.SpatialTransformer `weight:"1"`
	Res2 nn.ResBlock           `weight:"2"`
}

// buildUNetBlocks spells out SGM's numbering for a config. With levels of
// channels c[l], transformer depth d[l] and r ResBlocks per level:
//
//	input_blocks.0           conv_in (in → c[0])
//	per level l, r times:    ResBlock(→ c[l]) [+ transformer if d[l] > 0]
//	after each level but the last: Downsample (own block, position .0)
//	middle_block             ResBlock, transformer(mid depth), ResBlock
//	output_blocks, levels from the deepest, r+1 times each:
//	                         ResBlock(h ‖ skip → c[l]) [+ transformer]
//	                         the last of a level but level 0 adds an Upsample
//
// Every input block pushes its output on the skip stack; every output block
// pops one and concatenates it after the running features.
func buildUNetBlocks(cfg weights.UNetConfig) (input []unetBlock, mid middleBlock, output []unetBlock) {
	ch, emb, groups := cfg.Channels, cfg.TimeEmbedDim, weights.NormGroups
	last := len(ch) - 1
	transformer := func(l, depth int) *nn.SpatialTransformer {
		if depth == 0 {
			return nil
		}
		st := nn.NewSpatialTransformer(ch[l], cfg.ContextDim, ch[l]/weights.HeadDim, depth, groups)
		return &st
	}

	convIn := nn.NewConv2D(cfg.InChannels, ch[0], 3, 1, 1)
	input = append(input, unetBlock{ConvIn: &convIn})
	skips := []int{ch[0]} // channel count of each skip, in push order
	prev := ch[0]
	for l := range ch {
		for range cfg.ResBlocksPerLevel {
			res := nn.NewResBlock(prev, ch[l], emb, groups)
			input = append(input, unetBlock{Res: &res, Attn: transformer(l, cfg.TransformerDepth[l])})
			prev = ch[l]
			skips = append(skips, prev)
		}
		if l != last {
			down := nn.NewDownsample(prev)
			input = append(input, unetBlock{Down: &down})
			skips = append(skips, prev)
		}
	}

	mid = middleBlock{
		Res1: nn.NewResBlock(prev, prev, emb, groups),
		Attn: nn.NewSpatialTransformer(prev, cfg.ContextDim, prev/weights.HeadDim, cfg.MidTransformerDepth, groups),
		Res2: nn.NewResBlock(prev, prev, emb, groups),
	}

	for l := last; l >= 0; l-- {
		for i := 0; i <= cfg.ResBlocksPerLevel; i++ {
			skip := skips[len(skips)-1]
			skips = skips[:len(skips)-1]
			res := nn.NewResBlock(prev+skip, ch[l], emb, groups)
			prev = ch[l]
			block := unetBlock{Res: &res, Attn: transformer(l, cfg.TransformerDepth[l])}
			if l != 0 && i == cfg.ResBlocksPerLevel {
				up := nn.NewUpsample(prev)
				if block.Attn != nil {
					block.UpAfterAttn = &up
				} else {
					block.UpAfterRes = &up
				}
			}
			output = append(output, block)
		}
	}
	return input, mid, output
}
