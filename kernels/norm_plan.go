package kernels

// Launch geometry of the normalisations (norm.cu); kept free of the cuda
// build tag so that it is tested everywhere.

// groupNormThreads is the block size of both GroupNorm launches
// (GN_THREADS in norm.cu).
const groupNormThreads = 256

// groupNormChunks splits the positions of one (image, group) among the
// blocks of groupnorm_stats and groupnorm_apply (grid.y): per positions
// each, at least about 8k elements per block, and at most groupNormThreads
// chunks, so that each apply block merges its group's partial statistics
// with one load per thread. Every chunk is non-empty.
func groupNormChunks(positions, channelsPerGroup int) (per, chunks int) {
	per = max(1, ceilDiv(8192, channelsPerGroup), ceilDiv(positions, groupNormThreads))
	return per, max(1, ceilDiv(positions, per))
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
	layerNormWarpC    = 32 * 32  // LN_WARP_VALUES per lane
	layerNormBlockC   = 256 * 16 // LN_BLOCK_VALUES per thread of 256
	layerNormWarpRows = 8        // rows per 256-thread block of layernorm_warp
)

// layerNormKernel picks the kernel and grid for rows of C elements; every
// kernel runs 256-thread blocks.
func layerNormKernel(rows, C int) (kind layerNormKind, grid int) {
	switch {
	case C <= layerNormWarpC:
		return layerNormWarp, ceilDiv(rows, layerNormWarpRows)
	case C <= layerNormBlockC:
		return layerNormBlock, rows
	}
	return layerNormLong, rows
}
