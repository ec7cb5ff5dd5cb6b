//go:build cuda

package kernels

// workspace is device memory the backend keeps for intermediate results
// that live between two launches of one op (GroupNorm's partial
// statistics), so that the op allocates nothing per call: inside a captured
// step there are then no driver allocations and the address is the same at
// every replay. It grows to the largest request seen, by at least a factor
// of two; a block it outgrows is kept until Close, because a graph
// captured earlier may still write to it.
//
// The semaphores (tileSemaphores, normCounter) are a second workspace whose
// ints are zero whenever a launch starts: zeroed when a block is taken, and
// re-armed by the launch that counts in them before it ends, so launches
// in stream order can share them.
type workspace struct {
	cur     deviceBuffer   // class 0: none yet
	retired []deviceBuffer // outgrown blocks, possibly still in a graph
}

// workspace returns the address of at least n bytes of the backend's
// workspace, which one op may use from its first launch to its last: the
// backend's launches run in stream order, so the next op's cannot overlap.
func (b *Backend) workspace(n int) devicePtr { return b.work.atLeast(b, n, false) }

// tileSemaphores returns n zeroed ints for a split-K launch's tiles to
// count their finished splits in (gemm_tile.cuh's split_finish). The
// kernel leaves them zero again, so every launch finds them so.
func (b *Backend) tileSemaphores(n int) devicePtr { return b.sems.atLeast(b, 4*n, true) }

// atLeast returns w's current block, first replacing it with one of at
// least n bytes (zeroed on the stream when zeroed is set) if it is smaller.
func (w *workspace) atLeast(b *Backend, n int, zeroed bool) devicePtr {
	if w.cur.class >= n {
		return w.cur.ptr
	}
	// Exact memory from the driver, not a pool block: taking an idle block
	// here, in the middle of a step, would leave the next step one block
	// short of what this one used, and that step would go to the driver.
	buf := b.newBuffer(max(n, 2*w.cur.class), true)
	if buf.class == 0 {
		return 0 // the allocation failed: b.err is set and launches do nothing
	}
	if zeroed {
		b.w.do(func() {
			if b.err == nil {
				b.err = memsetBytes(buf.ptr, 0, buf.class, b.stream)
			}
		})
	}
	if w.cur.class != 0 {
		w.retired = append(w.retired, w.cur)
	}
	w.cur = *buf
	return w.cur.ptr
}

// dropWorkspace returns the workspaces' blocks to the driver (Close, on the
// context goroutine, after the stream has drained).
func (b *Backend) dropWorkspace() error {
	var first error
	for _, w := range []*workspace{&b.work, &b.sems, &b.streamk.partials} {
		for _, buf := range append(w.retired, w.cur) {
			if buf.class == 0 {
				continue
			}
			if err := b.giveBack(buf); err != nil && first == nil {
				first = err
			}
		}
		*w = workspace{}
	}
	return first
}

// normCounter returns the address of groupnorm_table's counter of finished
// blocks, a semaphore like the split-K tiles' (zero at every launch's
// start, reset by the launch's last block).
func (b *Backend) normCounter() devicePtr { return b.tileSemaphores(1) }
