package kernels

import (
	"fmt"
	"math"
)

// Stream-K scheduling of the tensor-core GEMM (cuda/streamk.cu), priced by
// the wave model of wave_plan.go.
//
// A plain grid of T tiles on S SMs runs ceil(T/S) waves; when T is not a
// multiple of S the last wave leaves SMs idle (160 tiles of the 32² level's
// 1280-wide GEMMs on 132 SMs: 2 waves for 1.2 waves of work, 60.6%; 80.8%
// with the best half tile). Split-K evens this out with float32 partials of
// every output (8 bytes per output and split, plus a reduce launch), which
// costs more than it gains when K is short. Stream-K instead runs one block
// per SM and hands each the same number of (tile, K step) iterations: the
// tiles [0, skTiles) are cut into equal contiguous ranges of iterations, the
// rest run whole (data-parallel, a multiple of the grid). A tile whose
// iterations fall to two or three blocks is finished in the kernel by the
// block holding its last K steps, which adds the others' float32 partials;
// every block publishes at most one partial tile, so the traffic is bounded
// by the grid (132 tiles: 8.7 MB for 128x128), not by the output.
//
// Model. The longest block runs ceil(skTiles·ks / blocks) iterations plus
// its data-parallel tiles' (ks = K steps per tile), so
//
//	efficiency = work / (that × SMs × tile area)
//
// like waveEfficiency (padding past M and N counts as waste, idle SMs too).
// The score takes streamkHandicap off and divides by 1 + (fix-up time)/(main-loop time), as split-K's
// does. The fix-up runs on each block's own SM at its share of the L2's
// bandwidth, so its time is that of the block moving the most partial
// tiles (4 bytes an element; the one it publishes and those it adds),
// priced by splitMACsPerByte, plus streamkSyncSteps for the flag
// handshake; no launch is added. Problems under streamkMinSteps are left
// alone: a kernel of a few µs is bound by launch latency, not waves.
//
// skTiles is T mod blocks plus one full wave (all of T when T < blocks):
// every block then works on at least one whole tile's worth of iterations,
// so a tile is shared by two or three blocks, never by many, and the
// finishing block waits for at most a couple of flags raised long before.

// streamkMinSteps is the shortest unsplit main loop (in steps, about 5 µs)
// worth scheduling stream-K; shorter kernels are bound by launch latency.
// Split-K's minimum (minSplitMainSteps) is twice this because it adds a
// launch; stream-K adds none, and its fixed handshake is in its score.
const streamkMinSteps = 16

// streamkHandicap: a stream-K grid holds one block per SM, where the plain
// grid's blocks share an SM two at a time and hide each other's memory
// latency; so stream-K must fill more than this much more of the waves to
// be chosen (an assumption, like halfTileHandicap, until measured).
const streamkHandicap = 0.03

// streamkSyncSteps is the flag handshake's cost in steps (see
// splitFinishSteps): a fence and a release by the publishing block, an
// acquire and a block barrier by the finishing one, about half a µs.
const streamkSyncSteps = 2

// streamkChoice is a stream-K schedule: tile shape, grid and the split
// between stream-K and data-parallel tiles.
type streamkChoice struct {
	tile    blockTile
	blocks  int // the grid, at most one block per SM
	tiles   int // output tiles
	skTiles int // tiles [0, skTiles) shared out by iterations
	kSteps  int // 32-wide K steps per tile
}

func (c streamkChoice) String() string {
	return fmt.Sprintf("%s stream-K %d of %d tiles on %d blocks", c.tile, c.skTiles, c.tiles, c.blocks)
}

// streamkSchedule is the schedule of tile t for an M x N x K GEMM on
// `blocks` blocks (see the model for skTiles).
func streamkSchedule(M, N, K int, t blockTile, blocks int) streamkChoice {
	c := streamkChoice{tile: t, blocks: max(1, blocks), kSteps: max(1, ceilDiv(K, tileK))}
	c.tiles = ceilDiv(M, t.M) * ceilDiv(N, t.N)
	c.skTiles = c.tiles
	if c.tiles > c.blocks {
		c.skTiles = c.tiles%c.blocks + c.blocks
	}
	return c
}

// fits reports whether the kernel's int arithmetic holds the schedule: it
// computes iterations × block index.
func (c streamkChoice) fits() bool {
	return fitsInt32(c.tiles) && int64(c.skTiles)*int64(c.kSteps)*int64(c.blocks+1) <= math.MaxInt32
}

// begin is block b's first stream-K iteration (the kernel's Range).
func (c streamkChoice) begin(b int) int { return c.skTiles * c.kSteps * b / c.blocks }

// blockSteps is the most iterations (K steps of one tile) a block runs.
func (c streamkChoice) blockSteps() int {
	return ceilDiv(c.skTiles*c.kSteps, c.blocks) + (c.tiles-c.skTiles)/c.blocks*c.kSteps
}

// fixupTiles is the most partial tiles one block moves: the one it
// publishes (its range ends inside a tile) plus those it adds (it finishes
// a tile that lower blocks began). It bounds the fix-up's time, which runs
// on each block's own SM.
func (c streamkChoice) fixupTiles() int {
	most := 0
	for b := range c.blocks {
		lo, hi := c.begin(b), c.begin(b+1)
		if lo == hi {
			continue
		}
		n := 0
		if hi%c.kSteps != 0 {
			n++ // publishes its last tile
		}
		if tile0 := lo / c.kSteps * c.kSteps; lo != tile0 && hi >= tile0+c.kSteps {
			for p := b - 1; p >= 0 && c.begin(p+1) > tile0; p-- {
				if c.begin(p) < c.begin(p+1) {
					n++ // adds p's partial to the tile it finishes
				}
			}
		}
		most = max(most, n)
	}
	return most
}

// workspaceBytes is the partial tiles' workspace: one slot per block.
func (c streamkChoice) workspaceBytes() int { return c.blocks * c.tile.M * c.tile.N * 4 }

// streamkEfficiency is the model's wave efficiency of c on sms SMs.
func streamkEfficiency(M, N, K, sms int, c streamkChoice) float64 {
	if M == 0 || N == 0 {
		return 1
	}
	work := float64(M) * float64(N) * float64(max(1, ceilDiv(K, tileK)))
	return work / (float64(c.blockSteps()) * float64(sms) * float64(c.tile.M*c.tile.N))
}

// streamkScore is streamkEfficiency with the tile handicap and the fix-up's
// cost, comparable with planScore.
func streamkScore(M, N, K, sms int, c streamkChoice) float64 {
	s := streamkEfficiency(M, N, K, sms, c) * (1 - streamkHandicap)
	if c.tile != blockTiles[0] {
		s *= 1 - halfTileHandicap
	}
	area := float64(c.tile.M * c.tile.N)
	main := float64(c.blockSteps()) * area / (128 * 128)
	fix := 4*float64(c.fixupTiles())*area*splitMACsPerByte/stepMACs + streamkSyncSteps
	return s / (1 + fix/main)
}

// chooseStreamK returns the best stream-K schedule of an M x N x K GEMM on
// sms SMs and whether it scores above plain, the tile planner's choice.
// resident(t) is how many blocks of tile t's kernel the device holds at
// once (the driver's occupancy query times the SM count): the kernel's
// handshake needs every block of the grid running, so the grid never
// exceeds it.
func chooseStreamK(M, N, K, sms int, resident func(blockTile) int, plain tileChoice) (streamkChoice, bool) {
	if sms < 1 {
		sms = defaultSMs
	}
	if M == 0 || N == 0 || unsplitSteps(M, N, K, sms) < streamkMinSteps {
		return streamkChoice{}, false
	}
	var best streamkChoice
	found, bestScore := false, planScore(M, N, K, sms, plain)
	for _, t := range blockTiles {
		blocks := min(sms, resident(t))
		if blocks < 1 {
			continue
		}
		c := streamkSchedule(M, N, K, t, blocks)
		if c.tiles%blocks == 0 || !c.fits() {
			continue // the plain grid already fills whole waves
		}
		if sc := streamkScore(M, N, K, sms, c); sc > bestScore {
			best, bestScore, found = c, sc, true
		}
	}
	return best, found
}

// unsplitSteps is the main loop's time of the fastest unsplit tile (the
// rule chooseTiles applies to split-K).
func unsplitSteps(M, N, K, sms int) float64 {
	s := math.Inf(1)
	for _, t := range blockTiles {
		s = min(s, mainSteps(M, N, sms, splitOf(t, K, 1)))
	}
	return s
}

// streamkLaunch is the launch of streamk.cu's kernel for a GEMM.
type streamkLaunch struct {
	launchPlan
	choice  streamkChoice
	M, N, K int
}

// streamkOperands checks what the stream-K kernels take beyond gemm.cu's
// checks: aligned operands only (cuda/streamk.cu), K within one tile's
// int arithmetic. It returns M, N, K and the kernels' type suffix.
func (p gemmProblem) streamkOperands() (M, N, K int, suffix string, err error) {
	if M, N, K, err = p.shapes(); err != nil {
		return 0, 0, 0, "", &shapeError{err}
	}
	if p.act < ActNone || p.act > ActGELU { // ActAfterResidual is gemm.cu's only
		return 0, 0, 0, "", fmt.Errorf("stream-K linear: unsupported activation %d", p.act)
	}
	ops := tileOperands{p.y, p.x, p.w, p.bias, p.residual}
	if suffix, err = ops.check(M, N, K); err != nil {
		return 0, 0, 0, "", fmt.Errorf("stream-K linear: %w", err)
	}
	if K%8 != 0 || !aligned(16, p.x, p.w) {
		return 0, 0, 0, "", fmt.Errorf("stream-K linear: K=%d or x/w rows not 16-byte aligned (the kernels copy 8-element chunks)", K)
	}
	return M, N, K, suffix, nil
}

// streamkPlan plans p with schedule c (errors as for gemmProblem.plan).
func (p gemmProblem) streamkPlan(c streamkChoice) (streamkLaunch, error) {
	M, N, K, suffix, err := p.streamkOperands()
	if err != nil {
		return streamkLaunch{}, err
	}
	if !c.fits() {
		return streamkLaunch{}, fmt.Errorf("stream-K linear: %v exceeds the kernel's int arithmetic", c)
	}
	return streamkLaunch{
		launchPlan: launchPlan{
			module: "streamk",
			name:   streamkKernelName(c.tile, suffix),
			grid:   D1(c.blocks),
			block:  D1(gemmThreads),
			shared: c.tile.sharedBytes(),
		},
		choice: c, M: M, N: N, K: K,
	}, nil
}

// streamkKernelName is tile t's stream-K kernel for a type suffix.
func streamkKernelName(t blockTile, suffix string) string {
	return "gemm_streamk_" + t.kernelName() + "_" + suffix
}
