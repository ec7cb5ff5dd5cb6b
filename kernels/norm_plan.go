package kernels

// Launch geometry of the normalisations (norm.cu); kept free of the cuda
// build tag so that it is tested everywhere.

// groupNormThreads is the block size of both GroupNorm launches
// (GN_THREADS in norm.cu).
const groupNormThreads = 256

// groupNormPlan is the geometry of GroupNorm's two launches (norm.cu).
// groupnorm_stats runs a block per (image·groups + group, chunk of per
// positions); groupnorm_apply a block per (image·groups/span + span
// index, chunk of applyPer positions), where a span is consecutive groups
// one block normalises together.
type groupNormPlan struct {
	per, chunks      int // stats: positions per block, blocks per group
	span             int // apply: groups per block
	applyPer, applyY int // apply: positions per block, blocks per span
}

const (
	groupNormMaxSpan   = 8  // GN_MAX_SPAN: a warp of the apply block merges each group
	groupNormSpanWidth = 32 // channels an apply block aims to span
)

// planGroupNorm sizes both launches.
//
// Stats: at least about 8k elements per block, and at most
// groupNormThreads chunks per group, which bounds the partial statistics
// each apply block merges. Apply: spans of groups at least 32 channels
// wide where the groups divide so (the channels of a group are contiguous
// in memory; narrow groups alone, like the VAE's 4 channels, would leave
// most of each memory sector to other blocks), and enough elements per
// block that merging span·chunks partials costs under a tenth of the
// block's own reads. Every chunk of either launch is non-empty, and
// applyY stays within grid.y's 65535.
func planGroupNorm(positions, groups, cpg int) groupNormPlan {
	var p groupNormPlan
	p.per = max(1, ceilDiv(8192, cpg), ceilDiv(positions, groupNormThreads))
	p.chunks = max(1, ceilDiv(positions, p.per))
	p.span = 1
	for d := 2; d <= min(groups, groupNormMaxSpan) && p.span*cpg < groupNormSpanWidth; d++ {
		if groups%d == 0 {
			p.span = d
		}
	}
	width := p.span * cpg
	elems := max(8192, 64*p.span*p.chunks)
	p.applyPer = max(1, ceilDiv(elems, width), ceilDiv(positions, maxGridY))
	p.applyY = max(1, ceilDiv(positions, p.applyPer))
	return p
}

// groupNormWorkspace is the bytes of partial statistics a GroupNorm over
// bgs (image, group) pairs keeps between its two launches: (count, mean,
// M2) in float32 per chunk.
func groupNormWorkspace(bgs, chunks int) int { return bgs * chunks * 3 * 4 }

// layerNormKind is the LayerNorm kernel for a row length (norm.cu).
type layerNormKind int

const (
	layerNormWarp  layerNormKind = iota // layernorm_warp: a warp per row, the row in registers
	layerNormBlock                      // layernorm_block: a block per row, the row in registers
	layerNormLong                       // layernorm: a block per row, read three times
)

const (
	layerNormValues   = 16                   // LN_VALUES: row elements a thread holds
	layerNormWarpC    = 32 * layerNormValues // the longest row of layernorm_warp
	layerNormBlockC   = 256 * layerNormValues
	layerNormWarpRows = 8 // rows per 256-thread block of layernorm_warp
)

// layerNormKernel picks the kernel, grid and block for rows of C elements.
// layernorm_block gets the fewest whole warps that hold the row, so that a
// 640-element row takes 64 threads, not 256 mostly idle ones.
func layerNormKernel(rows, C int) (kind layerNormKind, grid, threads int) {
	switch {
	case C <= layerNormWarpC:
		return layerNormWarp, ceilDiv(rows, layerNormWarpRows), 32 * layerNormWarpRows
	case C <= layerNormBlockC:
		return layerNormBlock, rows, 32 * ceilDiv(C, 32*layerNormValues)
	}
	return layerNormLong, rows, 256
}
