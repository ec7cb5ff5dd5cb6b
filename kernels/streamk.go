//go:build cuda

package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// The backend's side of the stream-K GEMM (cuda/streamk.cu, planned in
// streamk_plan.go): the workspace its blocks hand partial tiles through,
// the occupancy query that bounds its grid, and the launch, tried before
// gemm.cu's for plain Linear GEMMs and pointwise convolutions.

// streamkState is what the backend keeps for the stream-K kernel.
type streamkState struct {
	// partials holds one partial tile (float32) per block; it only grows,
	// like the backend's other workspaces, so a captured graph's addresses
	// stay valid and no memory is taken per call. The blocks' flags are the
	// backend's semaphores (tileSemaphores: zero between launches; the
	// kernel lowers every flag it raises).
	partials workspace
	// resident caches the occupancy query: blocks of a kernel per SM.
	resident map[Kernel]int
	// force, when set (tests), runs every GEMM the stream-K kernel takes
	// with this tile on this many blocks, whatever the model prefers.
	force *streamkForce
}

// streamkForce is a test's fixed stream-K tile and grid.
type streamkForce struct {
	tile   blockTile
	blocks int
}

// tryStreamK runs y = act(x·wᵀ + bias) + residual with the stream-K
// kernel when it takes the case and the wave model prefers it (or a test
// forces it), and reports whether it ran. Shape errors are left to the
// caller's planner, which panics with them.
func (b *Backend) tryStreamK(y, x, w, bias, residual *tensor.Tensor, act Activation) bool {
	p := gemmProblem{
		y: b.operandOf("output", y), x: b.operandOf("x", x), w: b.operandOf("weight", w),
		bias: b.operandOf("bias", bias), residual: b.operandOf("residual", residual), act: act,
	}
	return b.launchStreamK(p, y, x, w, bias, residual)
}

// tryPointwiseStreamK is tryStreamK for a 1x1 convolution of stride 1
// without padding, which is the GEMM x[B·H·W, Cin] · w[Cout, Cin]ᵀ.
func (b *Backend) tryPointwiseStreamK(y, x, w, bias, residual *tensor.Tensor, stride, pad int) bool {
	ws, xs := w.Shape(), x.Shape()
	if len(ws) != 4 || ws[1] != 1 || ws[2] != 1 || stride != 1 || pad != 0 || len(xs) != 4 {
		return false
	}
	rows, cin, cout := xs[0]*xs[1]*xs[2], xs[3], ws[0]
	as := func(name string, t *tensor.Tensor, shape tensor.Shape) operand {
		o := b.operandOf(name, t)
		if t != nil {
			o.shape = shape
		}
		return o
	}
	p := gemmProblem{
		y: as("output", y, tensor.Shape{rows, cout}), x: as("x", x, tensor.Shape{rows, cin}),
		w: as("weight", w, tensor.Shape{cout, cin}), bias: b.operandOf("bias", bias),
		residual: as("residual", residual, tensor.Shape{rows, cout}),
	}
	if !y.Shape().Equal(tensor.Shape{xs[0], xs[1], xs[2], cout}) ||
		(residual != nil && !residual.Shape().Equal(y.Shape())) {
		return false // the convolution's own planner reports the mismatch
	}
	return b.launchStreamK(p, y, x, w, bias, residual)
}

// launchStreamK plans p stream-K and launches it, or returns false.
func (b *Backend) launchStreamK(p gemmProblem, y, x, w, bias, residual *tensor.Tensor) bool {
	pl, ok := b.planStreamK(p)
	if !ok {
		return false
	}
	c := pl.choice
	partial := b.streamk.partials.atLeast(b, c.workspaceBytes(), false)
	flags := b.tileSemaphores(c.blocks)
	b.Launch(Kernel{pl.module, pl.name}, pl.grid, pl.block, pl.shared,
		y, x, w, bias, residual, pl.M, pl.N, pl.K, int32(p.act), partial, flags, c.skTiles)
	return true
}

// planStreamK is the stream-K launch of p on this device, if the kernel
// takes the case and the model prefers it to the tile planner's choice
// (or a test forces it).
func (b *Backend) planStreamK(p gemmProblem) (streamkLaunch, bool) {
	if b.tileOverride != nil && b.streamk.force == nil {
		return streamkLaunch{}, false // a test or the self-check forces a gemm.cu tile
	}
	M, N, K, suffix, err := p.streamkOperands()
	if err != nil || M == 0 || N == 0 {
		return streamkLaunch{}, false
	}
	sms := b.info.multiprocessors
	var c streamkChoice
	if f := b.streamk.force; f != nil {
		c = streamkSchedule(M, N, K, f.tile, f.blocks)
	} else {
		resident := func(t blockTile) int {
			return sms * b.residentBlocks(Kernel{"streamk", streamkKernelName(t, suffix)}, t.sharedBytes())
		}
		var ok bool
		if c, ok = chooseStreamK(M, N, K, sms, resident, b.tilePlanner().choose(M, N, K)); !ok {
			return streamkLaunch{}, false
		}
	}
	pl, err := p.streamkPlan(c)
	return pl, err == nil
}

// residentBlocks is how many blocks of kernel k (256 threads, shared bytes
// of dynamic shared memory) one SM holds at once, from the driver's
// occupancy query; 0 when the query fails (stream-K is then not used).
func (b *Backend) residentBlocks(k Kernel, shared int) int {
	if n, ok := b.streamk.resident[k]; ok {
		return n
	}
	var n int
	b.w.do(func() {
		fn, err := b.resolve(k)
		if err == nil && shared > fn.maxShared {
			if err = funcSetMaxDynamicShared(fn.f, shared); err == nil {
				fn.maxShared = shared
			}
		}
		if err == nil {
			n, err = fn.f.MaxActiveBlocksPerMultiProcessor(gemmThreads, int64(shared))
		}
		if err != nil {
			b.logf("kernels: occupancy of %s: %v (stream-K off for it)", k, err)
			n = 0
		}
	})
	if b.streamk.resident == nil {
		b.streamk.resident = map[Kernel]int{}
	}
	b.streamk.resident[k] = n
	return n
}

// streamkCheckCases are the self-check's stream-K GEMMs: tiles split
// between blocks (a grid of 5 blocks on 3x2 tiles of 7 K steps, a tail in
// every dimension), in every tile shape, against the simple kernel.
func (b *Backend) streamkCheckCases(in *checkInputs) []checkCase {
	const m, k, n = 300, 200, 136
	x, w, bias := in.random(m, k), in.random(n, k), in.random(n)
	var cases []checkCase
	for _, t := range blockTiles {
		cases = append(cases, checkCase{
			name:   fmt.Sprintf("x[%d %d]·w[%d %d]ᵀ, %v stream-K on 5 blocks", m, k, n, k, t),
			dst:    []int{m, n},
			simple: func(dst *tensor.Tensor) { b.simpleLinear(dst, x, w, bias) },
			fast: func(dst *tensor.Tensor) bool {
				return b.withStreamK(streamkForce{t, 5}, func() bool { return b.tryStreamK(dst, x, w, bias, nil, ActNone) })
			},
		})
	}
	return cases
}

// withStreamK runs f with stream-K forced to tile and grid f, then
// restores the model's choice.
func (b *Backend) withStreamK(force streamkForce, f func() bool) bool {
	saved := b.streamk.force
	b.streamk.force = &force
	defer func() { b.streamk.force = saved }()
	return f()
}
