package cpu

import "runtime"

// streamMaxRows is the largest m for which gemm streams B instead of
// packing it whole. With few rows (the 128 tokens of SDXL's 1280-wide
// level at a 32×32 latent, a query block in attention) every weight is used
// only m times, and a fully packed B (up to 59 MB for a 1280-channel 3×3
// conv) would go to memory and back between packing and use. Streaming
// packs A once instead (it is the small operand) and B one L2-sized chunk at
// a time, consumed straight away.
const streamMaxRows = 512

// streamChunkPanels caps the B panels of one chunk: 16 panels × 16 columns
// × kc depth × 4 bytes = 256 KB, half of this machine's L2.
const streamChunkPanels = 16

// gemmStreamB computes C += A·B for small m: A is packed once, then tasks
// over column chunks pack a chunk×kc slab of B and multiply every row block
// by it while it is hot in cache.
func gemmStreamB(m, n, k int, a aSource, b bSource, c []float32, ldc int, parallel bool) {
	mpad := roundUp(m, mr)
	packedA := getScratch(mpad * k)
	defer scratch.Put(packedA)
	pa := *packedA
	// Slab s of A (depth k0..k0+kcs) occupies pa[k0*mpad:], its row block
	// starting at row i0 at offset i0*kcs.
	mBlocks := (m + mc - 1) / mc
	slabs := (k + kc - 1) / kc
	packA := func(lo, hi int) {
		for t := lo; t < hi; t++ {
			s, mb := t/mBlocks, t%mBlocks
			k0, i0 := s*kc, mb*mc
			kcs := min(kc, k-k0)
			a.packA(pa[k0*mpad+i0*kcs:], i0, min(mc, m-i0), k0, kcs)
		}
	}
	panels := (n + nr - 1) / nr
	perTask := streamChunkPanels
	if parallel {
		parallelFor(slabs*mBlocks, 1, packA)
		// Enough chunks for every core to get several.
		perTask = max(1, min(streamChunkPanels, panels/(4*runtime.NumCPU())))
	} else {
		packA(0, slabs*mBlocks)
	}
	tasks := (panels + perTask - 1) / perTask
	run := func(lo, hi int) {
		packedB := getScratch(perTask * nr * kc)
		defer scratch.Put(packedB)
		pb := *packedB
		for t := lo; t < hi; t++ {
			j0 := t * perTask * nr
			j1 := min(j0+perTask*nr, n)
			for k0 := 0; k0 < k; k0 += kc {
				kcs := min(kc, k-k0)
				for j := j0; j < j1; j += nr {
					b.packB(pb[(j-j0)*kcs:(j-j0+nr)*kcs], j, min(nr, j1-j), k0, kcs)
				}
				for i0 := 0; i0 < m; i0 += mc {
					macroKernel(pa[k0*mpad+i0*kcs:], pb, kcs, min(mc, m-i0), 0, j1-j0, c[i0*ldc+j0:], ldc)
				}
			}
		}
	}
	if parallel {
		parallelFor(tasks, 1, run)
	} else {
		run(0, tasks)
	}
}
