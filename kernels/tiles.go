//go:build cuda

package kernels

// The backend's side of the tile kernels' planning (tile_plan.go,
// wave_plan.go): the planner with the device's SM count, and split-K's
// workspace and reduce, shared by the GEMM, the convolution and the wide
// attention's GEMMs.

// tilePlanner is the planner the tile kernels run with: chooseTiles for
// this device's SM count, or the one a test planted in tileOverride.
func (b *Backend) tilePlanner() tilePlanner {
	if b.tileOverride != nil {
		return b.tileOverride
	}
	sms := b.info.multiprocessors
	return func(M, N, K int) tileChoice { return chooseTiles(M, N, K, sms) }
}

// tileRun is what a planned tile kernel takes besides its operands: the
// bias and residual its epilogue applies, and where its float32 partials
// go (null without split-K).
type tileRun struct {
	bias, residual, partial devicePtr
	// With split-K: the epilogue's operands, applied by the reduce, and
	// the partials' scratch.
	epiBias, epiResidual devicePtr
	ws                   *deviceBuffer
}

// startTiles prepares the launch of l. Without split-K the tile kernel
// applies bias and residual itself. With it, the kernel gets null ones and
// writes partials into pool scratch, and finishTiles reduces them. All of
// it is queued on the stream, with no host wait and nothing but pool
// memory, so a graph capture records it like any other launch (release
// keeps the block for the graph's life).
func (b *Backend) startTiles(l tileLaunch, bias, residual devicePtr) tileRun {
	if l.choice.splits <= 1 {
		return tileRun{bias: bias, residual: residual}
	}
	ws := b.scratch(l.partialBytes)
	return tileRun{partial: ws.ptr, epiBias: bias, epiResidual: residual, ws: ws}
}

// finishTiles completes a split-K launch: splitk_reduce sums the partials
// into y (M x N) through the epilogue, then the scratch goes back.
func (b *Backend) finishTiles(l tileLaunch, r tileRun, y devicePtr, M, N int, act Activation) {
	if r.ws == nil {
		return
	}
	b.Launch(Kernel{l.reduce.module, l.reduce.name}, l.reduce.grid, l.reduce.block, 0,
		y, r.partial, r.epiBias, r.epiResidual, M, N, l.choice.splits, int32(act))
	b.release(r.ws)
}

// withTiles runs f with the planner forced to c (the self-check's cases
// for each tile and split), then restores the planner.
func (b *Backend) withTiles(c tileChoice, f func() bool) bool {
	saved := b.tileOverride
	b.tileOverride = fixedTiles(c.tile, c.splits)
	defer func() { b.tileOverride = saved }()
	return f()
}
