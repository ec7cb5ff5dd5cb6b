//go:build cuda

package kernels

// workspace is device memory the backend keeps for intermediate results
// that live between two launches of one op (GroupNorm's partial
// statistics), so that the op allocates nothing per call: inside a captured
// step there are then no driver allocations and the address is the same at
// every replay. It grows to the largest request seen, by at least a factor
// of two; a block it outgrows is kept until Close, because a graph
// captured earlier may still write to it.
type workspace struct {
	cur     deviceBuffer   // class 0: none yet
	retired []deviceBuffer // outgrown blocks, possibly still in a graph
}

// workspace returns the address of at least n bytes of the backend's
// workspace, which one op may use from its first launch to its last: the
// backend's launches run in stream order, so the next op's cannot overlap.
func (b *Backend) workspace(n int) devicePtr { return b.grow(&b.work, n) }

// grow returns the address of at least n bytes of workspace w (b.work, or
// another the backend keeps for one kernel: streamk.go).
func (b *Backend) grow(w *workspace, n int) devicePtr {
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
	if w.cur.class != 0 {
		w.retired = append(w.retired, w.cur)
	}
	w.cur = *buf
	return w.cur.ptr
}

// dropWorkspace returns the workspace's blocks to the driver (Close, on the
// context goroutine, after the stream has drained).
func (b *Backend) dropWorkspace() error {
	first := b.drop(&b.work)
	for _, w := range []*workspace{&b.streamk.partials, &b.streamk.flags} {
		if err := b.drop(w); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// drop returns w's blocks to the driver.
func (b *Backend) drop(w *workspace) error {
	var first error
	for _, buf := range append(w.retired, w.cur) {
		if buf.class == 0 {
			continue
		}
		if err := b.giveBack(buf); err != nil && first == nil {
			first = err
		}
	}
	*w = workspace{}
	return first
}
