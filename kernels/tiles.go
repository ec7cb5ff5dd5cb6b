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

// tileRun is what a planned tile kernel takes besides its operands and
// epilogue: with split-K, where its float32 partials go and the tile
// semaphores its last splits count in (both null without).
type tileRun struct {
	partial, sem devicePtr
	ws           *deviceBuffer
}

// startTiles prepares the launch of l. With split-K the kernel writes
// partials into pool scratch and the tile's last split sums them through
// the epilogue (gemm_tile.cuh's split_finish): one launch, no reduce. All
// of it is queued on the stream, with no host wait and nothing but pool
// memory and the backend's semaphores, so a graph capture records it like
// any other launch (release keeps the block for the graph's life).
func (b *Backend) startTiles(l tileLaunch) tileRun {
	if l.choice.splits <= 1 {
		return tileRun{}
	}
	ws := b.scratch(l.partialBytes)
	return tileRun{partial: ws.ptr, sem: b.tileSemaphores(l.grid.X * l.grid.Y), ws: ws}
}

// finishTiles gives a split-K launch's partials back (stream order keeps
// them until the kernel has read them).
func (b *Backend) finishTiles(r tileRun) {
	if r.ws != nil {
		b.release(r.ws)
	}
}

// withTiles runs f with the planner forced to c (the self-check's cases
// for each tile and split), then restores the planner.
func (b *Backend) withTiles(c tileChoice, f func() bool) bool {
	saved := b.tileOverride
	b.tileOverride = fixedTiles(c.tile, c.splits)
	defer func() { b.tileOverride = saved }()
	return f()
}
