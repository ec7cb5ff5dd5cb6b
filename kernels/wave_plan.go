package kernels

import "fmt"

// The wave-efficiency planner of the tensor-core GEMM and implicit-GEMM
// convolution (cuda/gemm.cu, cuda/conv.cu): which block tile and how many
// K splits an M x N x K problem runs with on a device of a given SM count.
//
// Model. An SM's tensor cores are the unit of capacity: blocks resident on
// the same SM share its throughput, so the machine retires about one block
// tile per SM per "tile time" whatever the occupancy. A grid of G blocks
// therefore runs ceil(G / SMs) waves, and the last wave leaves SMs idle
// unless G is a multiple of the SM count. Padding wastes capacity too: a
// tile past the edge of M or N multiplies zeros. Wave efficiency is
//
//	efficiency = work / (waves × SMs × tile capacity)
//
// with work = M·N·ceil(K/32) and tile capacity = BM·BN·(K steps per split):
// K is counted in whole 32-wide steps, because K's own padding (conv_in's
// K = 36) is the same for every choice and no tile shape can recover it.
//
// Choices: the three block tiles of gemm_tile.cuh (128x128, 128x64,
// 64x128) and split-K, where grid z cuts K into equal ranges that write
// float32 partials, summed by the tile's last split to finish, which
// applies the epilogue (gemm_tile.cuh's split_finish: no reduce launch).
// The planner maximises
//
//	score = efficiency × tileHandicap × 1 / (1 + splitCost)
//
//   - tileHandicap: a half tile moves 1.5× the operand bytes per
//     multiply-add (shared-memory and ldmatrix traffic), so it must beat the
//     128x128 tile by more than halfTileHandicap to be chosen.
//   - splitCost: the extra time of split-K relative to the main loop's.
//     Both are counted in "steps", the time one SM takes for one 32-wide K
//     step of a 128x128 tile. The main loop takes waves × (K steps per
//     split) × (tile area / 128²) steps. The partials cost 8 bytes per
//     output element and split (written once, read once by the finishing
//     split), spread over all SMs, priced by splitMACsPerByte; the
//     finishing split's pass over its tile, after its own main loop, costs
//     splitFinishSteps. So split-K pays only where a long K leaves much
//     main-loop time to rebalance, never on small problems where that tail
//     would dominate. Splits also need at least minSplitSteps
//     K steps each, so that the 4-stage pipeline fills, and the problem's
//     fastest unsplit grid must run at least minSplitMainSteps: a kernel
//     of a few µs is bound by launch latency, which no rebalancing
//     shortens.
//
// The constants are the model's assumptions, not measurements; the wave
// term is exact for a grid whose blocks all take the same time. Where
// split-K's partials cost more than the idle SMs (a short K), the stream-K
// kernel may fill the waves instead (streamk_plan.go, priced the same way).

// blockTile is one block tile shape of gemm_tile.cuh.
type blockTile struct{ M, N int }

// blockTiles are the compiled tile shapes, in order of preference on ties
// (the largest tile has the highest arithmetic intensity).
var blockTiles = [...]blockTile{{128, 128}, {128, 64}, {64, 128}}

func (t blockTile) String() string { return fmt.Sprintf("%dx%d", t.M, t.N) }

// kernelName is the tile's infix in the kernel names: "128x64".
func (t blockTile) kernelName() string { return t.String() }

// sharedBytes is the dynamic shared memory of the tile's kernel: 4 stages of
// (BM+BN) unpadded rows of 32 2-byte elements, XOR-swizzled (gemm_tile.cuh's
// Shape::SMEM_BYTES): 65536 bytes for 128x128, 49152 for the half tiles.
func (t blockTile) sharedBytes() int { return 4 * (t.M + t.N) * tileK * 2 }

const (
	tileK = 32 // K step of the main loop (BK)

	// defaultSMs is the SM count of an H100/H200, used when the device
	// does not report one.
	defaultSMs = 132

	// maxSplits bounds split-K: beyond it the partials' traffic dominates
	// every SDXL shape anyway.
	maxSplits = 8
	// minSplitSteps is the fewest K steps a split may have (4 stages).
	minSplitSteps = 4
	// minSplitMainSteps is the shortest unsplit main loop (in steps, see
	// splitFinishSteps: about 10 µs) worth splitting.
	minSplitMainSteps = 32
	// halfTileHandicap: see the model above.
	halfTileHandicap = 0.03
	// splitMACsPerByte prices a byte of partials in multiply-adds: this
	// kernel retires roughly 250 T multiply-adds/s on an H100/H200 (half
	// the f16 peak), and the partials (tens of MB at most) stay in the
	// 50 MB L2, which moves some 15 TB/s.
	splitMACsPerByte = 16
	// splitFinishSteps is the finishing split's tail in steps: reading the
	// tile's partials back from L2 (a few hundred KB at about 100 GB/s per
	// SM) takes about 1 µs, where one step (128·128·32 multiply-adds on
	// one SM at ~2 T/s) takes about 0.3 µs.
	splitFinishSteps = 4
	// stepMACs is one step's multiply-adds (a 128x128 tile, 32 deep).
	stepMACs = 128 * 128 * tileK
)

// tileChoice is how one GEMM runs: the block tile and the K split.
type tileChoice struct {
	tile   blockTile
	splits int // grid z: K ranges, 1 = no split (fused epilogue)
	kSteps int // 32-wide K steps per split
}

func (c tileChoice) String() string {
	if c.splits == 1 {
		return c.tile.String()
	}
	return fmt.Sprintf("%s split-K %d", c.tile, c.splits)
}

// kChunk is the K range of one split, a multiple of the K step.
func (c tileChoice) kChunk() int { return c.kSteps * tileK }

// blocks is the grid's block count.
func (c tileChoice) blocks(M, N int) int {
	return ceilDiv(M, c.tile.M) * ceilDiv(N, c.tile.N) * c.splits
}

// splitOf makes the choice of tile t with K cut into about `splits` equal
// ranges of whole steps; the split count is then what those ranges need
// (7 steps in 3 splits of 3 is 3 splits, 8 steps in 3 splits of 3 too).
func splitOf(t blockTile, K, splits int) tileChoice {
	steps := max(1, ceilDiv(K, tileK))
	per := ceilDiv(steps, splits)
	return tileChoice{tile: t, splits: ceilDiv(steps, per), kSteps: per}
}

// waveEfficiency is the model's efficiency of choice c (see above).
func waveEfficiency(M, N, K, sms int, c tileChoice) float64 {
	if M == 0 || N == 0 {
		return 1
	}
	steps := max(1, ceilDiv(K, tileK))
	waves := ceilDiv(c.blocks(M, N), sms)
	work := float64(M) * float64(N) * float64(steps)
	capacity := float64(waves) * float64(sms) * float64(c.tile.M*c.tile.N) * float64(c.kSteps)
	return work / capacity
}

// planScore is what chooseTiles maximises.
func planScore(M, N, K, sms int, c tileChoice) float64 {
	s := waveEfficiency(M, N, K, sms, c)
	if c.tile != blockTiles[0] {
		s *= 1 - halfTileHandicap
	}
	if c.splits > 1 {
		partialSteps := 8 * float64(c.splits) * float64(M) * float64(N) * splitMACsPerByte / (float64(sms) * stepMACs)
		s /= 1 + (partialSteps+splitFinishSteps)/mainSteps(M, N, sms, c)
	}
	return s
}

// mainSteps is the main loop's time in steps (see the model): waves × K
// steps per split × the tile's area relative to 128x128.
func mainSteps(M, N, sms int, c tileChoice) float64 {
	waves := ceilDiv(c.blocks(M, N), sms)
	return float64(waves*c.kSteps) * float64(c.tile.M*c.tile.N) / (128 * 128)
}

// chooseTiles picks the tile and split for an M x N x K GEMM on sms SMs.
func chooseTiles(M, N, K, sms int) tileChoice {
	if sms < 1 {
		sms = defaultSMs
	}
	best := splitOf(blockTiles[0], K, 1)
	bestScore := planScore(M, N, K, sms, best)
	// The problem's unsplit time: the fastest tile's.
	unsplit := mainSteps(M, N, sms, best)
	for _, t := range blockTiles[1:] {
		unsplit = min(unsplit, mainSteps(M, N, sms, splitOf(t, K, 1)))
	}
	splittable := unsplit >= minSplitMainSteps
	for _, t := range blockTiles {
		for s := 1; s <= maxSplits; s++ {
			c := splitOf(t, K, s)
			if s > 1 && (c.splits != s || c.kSteps < minSplitSteps || !splittable) {
				continue
			}
			if sc := planScore(M, N, K, sms, c); sc > bestScore {
				best, bestScore = c, sc
			}
		}
	}
	return best
}
