package weights

// unetBlocks is the SGM UNet's block numbering: which numbered
// input_blocks/output_blocks entry holds which ResBlock, transformer and
// resampler. It is read off canonical names (readUNetBlocks), whose source
// of truth is the model's layer structs, so that config inference and the
// diffusers table never restate how SGM numbers its blocks.
type unetBlocks struct {
	down []unetLevel // input side, narrowest level first
	up   []unetLevel // output side, deepest level first
	// midDepth is middle_block's transformer depth.
	midDepth int
}

// unetLevel is one resolution level of one side of the UNet.
type unetLevel struct {
	// blocks are the numbers of the level's blocks holding a ResBlock (at
	// .0) and, when depth > 0, a transformer (at .1).
	blocks []int
	depth  int
	// sampler is the number of the block holding the level's downsampler
	// (its own block, at .0.op) or upsampler (the last ResBlock's block,
	// at samplerSlot); -1 when the level has none.
	sampler     int
	samplerSlot string // ".0.op", ".1.conv" or ".2.conv"
}

// resamplerSlots are where a block may hold a down- or upsampler, in the
// order they are looked for.
var resamplerSlots = []string{".0.op", ".1.conv", ".2.conv"}

// readUNetBlocks walks the numbered UNet blocks of canonical names in
// order. A block holding a resampler closes its level: a downsampler is a
// block of its own after a level's ResBlocks, an upsampler sits in the
// level's last block.
func readUNetBlocks(names []string) unetBlocks {
	has := make(map[string]bool, len(names))
	for _, n := range names {
		has[n] = true
	}
	p := UNetPrefix
	side := func(prefix string, first int) []unetLevel {
		var levels []unetLevel
		lvl := unetLevel{sampler: -1}
		count := countIndexed(names, prefix)
		for n := first; n < count; n++ {
			block := prefix + itoa(n)
			slot := ""
			for _, s := range resamplerSlots {
				if has[block+s+".weight"] {
					slot = s
				}
			}
			if slot != ".0.op" {
				if len(lvl.blocks) == 0 {
					lvl.depth = countIndexed(names, block+".1.transformer_blocks.")
				}
				lvl.blocks = append(lvl.blocks, n)
			}
			if slot != "" {
				lvl.sampler, lvl.samplerSlot = n, slot
				levels = append(levels, lvl)
				lvl = unetLevel{sampler: -1}
			}
		}
		if len(lvl.blocks) > 0 {
			levels = append(levels, lvl)
		}
		return levels
	}
	return unetBlocks{
		down:     side(p+"input_blocks.", 1), // input_blocks.0 is conv_in
		up:       side(p+"output_blocks.", 0),
		midDepth: countIndexed(names, p+"middle_block.1.transformer_blocks."),
	}
}
