package kernels

import "fmt"

// What the two block-tile kernels, the GEMM (linear_plan.go) and the
// implicit-GEMM convolution (conv_plan.go), share: both are built on
// cuda/gemm_tile.cuh, with the tile shape and K split chosen by the wave
// planner (wave_plan.go).

// gemmThreads is the block size of every tile shape (8 warps).
const gemmThreads = 256

// Largest tile dimensions, for the checks that hold for every choice.
const (
	gemmTileM = 128
	gemmTileN = 128
)

// tilePlanner chooses the tile and split of an M x N x K problem. The
// backend's uses the device's SM count (chooseTiles); tests plant others to
// force each choice on small shapes.
type tilePlanner func(M, N, K int) tileChoice

// choose runs p, or the planner for an H100-sized device when p is nil.
func (p tilePlanner) choose(M, N, K int) tileChoice {
	if p == nil {
		return chooseTiles(M, N, K, defaultSMs)
	}
	return p(M, N, K)
}

// fixedTiles is a planner that always answers tile t with K cut into
// about splits ranges: the self-check's and tests' way to run each choice.
func fixedTiles(t blockTile, splits int) tilePlanner {
	return func(M, N, K int) tileChoice { return splitOf(t, K, splits) }
}

// tileCheckChoices are the choices the self-check runs explicitly: every
// tile, alone and with K cut in three.
func tileCheckChoices() []tileChoice {
	var out []tileChoice
	for _, t := range blockTiles {
		for _, s := range []int{1, 3} {
			out = append(out, tileChoice{tile: t, splits: s})
		}
	}
	return out
}

// tileGridFits checks what the tile kernels (gemm.cu, conv.cu) need of an
// M x N output with tile t: every row index of the last block tile,
// padding included (m0 + BM - 1), fits the kernels' int, and the column
// blocks fit gridDim.y. A launch beyond either would fail or index wrongly
// instead of falling back to the simple kernel.
func tileGridFits(M, N int, t blockTile) error {
	if !fitsInt32(ceilDiv(M, t.M) * t.M) {
		return fmt.Errorf("M=%d rows exceed the kernel's 32-bit row index", M)
	}
	if ceilDiv(N, t.N) > maxGridY {
		return fmt.Errorf("N=%d needs more than %d column blocks", N, maxGridY)
	}
	return nil
}

// tileOperands are the tensors of a tile kernel (gemm.cu, conv.cu).
type tileOperands struct {
	y, x, w, bias, residual operand
}

// check tests what both tile kernels need beyond matching shapes, for an
// M x N x K GEMM (sizes: further values the kernel keeps in an int), and
// returns the kernel's type suffix.
func (o tileOperands) check(M, N, K int, sizes ...int) (suffix string, err error) {
	suffix, err = tensorCoreSuffix(o.x.dtype)
	if err == nil {
		err = sameDType(o.x.dtype, o.y, o.w, o.bias, o.residual)
	}
	if err == nil && !fitsInt32(append([]int{M, N, K}, sizes...)...) {
		err = fmt.Errorf("M=%d N=%d K=%d exceed the kernel's 32-bit sizes", M, N, K)
	}
	if err == nil {
		err = tileGridFits(M, N, blockTile{gemmTileM, gemmTileN})
	}
	// Pair stores in the epilogue need 4-byte aligned output and residual.
	if err == nil && !aligned(4, o.y, o.residual, o.bias) {
		err = fmt.Errorf("output, bias or residual not 4-byte aligned")
	}
	return suffix, err
}

// tileLaunch is the launch of a tile kernel.
type tileLaunch struct {
	launchPlan
	choice tileChoice
	// With choice.splits > 1: the float32 partials' bytes (the launcher's
	// scratch), which the tile's last split sums in the same launch.
	partialBytes int
}

// launch plans an M x N x K problem of kernel (in module) with the
// planner's choice. cp.async moves 16 bytes = 8 elements, so the fast
// variant needs every x and w row (rowLen elements) to start on 16 bytes;
// otherwise the _unaligned_ variant runs.
func (o tileOperands) launch(module, kernel, suffix string, rowLen, M, N, K int, planner tilePlanner) tileLaunch {
	c := planner.choose(M, N, K)
	if tileGridFits(M, N, c.tile) != nil || c.splits < 1 || c.splits > maxGridY {
		c = splitOf(blockTiles[0], K, 1) // check verified that 128x128 fits
	}
	variant := kernel
	if rowLen%8 != 0 || !aligned(16, o.x, o.w) {
		variant += "_unaligned"
	}
	out := tileLaunch{
		launchPlan: launchPlan{
			module: module,
			name:   variant + "_" + c.tile.kernelName() + "_" + suffix,
			grid:   Dim3{ceilDiv(M, c.tile.M), ceilDiv(N, c.tile.N), c.splits},
			block:  D1(gemmThreads),
			shared: c.tile.sharedBytes(),
		},
		choice: c,
	}
	if c.splits > 1 {
		out.partialBytes = c.splits * M * N * 4
	}
	return out
}

// kChunk is the kernel's kchunk argument: the K range of one split (any
// value when not split; the kernel ignores it).
func (l tileLaunch) kChunk() int { return l.choice.kChunk() }
