package kernels

import "testing"

func TestGroupNormPlanCoversEveryPosition(t *testing.T) {
	for _, c := range []struct{ positions, groups, cpg int }{
		{1, 32, 1}, {7, 32, 40}, {64 * 64, 32, 40}, {128 * 128, 32, 4}, {1024 * 1024, 32, 4}, {1024 * 1024, 32, 8},
		{1024 * 1024, 32, 512}, {2048 * 2048, 1, 8192}, {65535, 2, 8192}, {65536, 3, 8192}, {257, 5, 8192},
		{4096 * 4096, 1, 1}, {9, 7, 3},
	} {
		p := planGroupNorm(c.positions, c.groups, c.cpg)
		switch {
		case p.chunks < 1 || p.chunks > groupNormThreads:
			t.Errorf("%+v: %d chunks, the apply blocks merge 1..%d", c, p.chunks, groupNormThreads)
		case p.per*p.chunks < c.positions || (p.chunks-1)*p.per >= c.positions:
			t.Errorf("%+v: %d stats chunks of %d positions miss some or end empty", c, p.chunks, p.per)
		case c.positions > 8192 && p.per*c.cpg < 8192 && p.chunks < groupNormThreads:
			t.Errorf("%+v: %d elements per stats block, want about 8k", c, p.per*c.cpg)
		case p.span < 1 || p.span > groupNormMaxSpan || c.groups%p.span != 0:
			t.Errorf("%+v: a span of %d groups", c, p.span)
		case p.applyY < 1 || p.applyY > maxGridY:
			t.Errorf("%+v: %d apply chunks, grid.y allows 1..%d", c, p.applyY, maxGridY)
		case p.applyPer*p.applyY < c.positions || (p.applyY-1)*p.applyPer >= c.positions:
			t.Errorf("%+v: %d apply chunks of %d positions miss some or end empty", c, p.applyY, p.applyPer)
		}
	}
}

// The apply's spans: at least 32 channels where the groups divide so, and
// their merges a small part of each block's reads.
func TestGroupNormApplySpans(t *testing.T) {
	for _, c := range []struct{ positions, groups, cpg, span int }{
		{1024 * 1024, 32, 4, 8}, // the VAE's 128 channels
		{128 * 128, 32, 10, 4},  // the UNet's 320
		{64 * 64, 32, 20, 2},    // 640
		{32 * 32, 32, 40, 1},    // 1280
		{77, 3, 4, 3},           // 3 groups: the most that divide
		{77, 5, 2, 5},           //
		{77, 7, 3, 7},           //
		{77, 32, 1, 8},          // never past a warp per group
		{77, 1, 64, 1},          //
		{77, 6, 5, 6},           // all 6: 30 channels
		{77, 12, 5, 6},          // 12 would be past 8
	} {
		p := planGroupNorm(c.positions, c.groups, c.cpg)
		if p.span != c.span {
			t.Errorf("%+v: span %d, want %d", c, p.span, c.span)
		}
		if merged, read := 12*p.span*p.chunks, 2*p.applyPer*p.span*c.cpg; c.positions > p.applyPer && merged*10 > read {
			t.Errorf("%+v: an apply block merges %d bytes of statistics for %d bytes of f16 input", c, merged, read)
		}
	}
}

func TestLayerNormKernelByRowLength(t *testing.T) {
	for _, c := range []struct {
		rows, C       int
		kind          layerNormKind
		grid, threads int
	}{
		{1, 1, layerNormWarp, 1, 256},
		{8192, 320, layerNormWarp, 1024, 256}, // the UNet's first transformers: 8 rows per block
		{9, 512, layerNormWarp, 2, 256},
		{9, 513, layerNormBlock, 9, 64},
		{2 * 4096, 640, layerNormBlock, 2 * 4096, 64},
		{154, 768, layerNormBlock, 154, 64}, // CLIP-L, two prompts
		{2048, 1280, layerNormBlock, 2048, 96},
		{3, 4096, layerNormBlock, 3, 256},
		{3, 4097, layerNormLong, 3, 256},
	} {
		kind, grid, threads := layerNormKernel(c.rows, c.C)
		if kind != c.kind || grid != c.grid || threads != c.threads {
			t.Errorf("rows %d C %d: kernel %d over %d blocks of %d, want %d over %d of %d",
				c.rows, c.C, kind, grid, threads, c.kind, c.grid, c.threads)
		}
		if kind != layerNormLong && threads*layerNormValues < min(c.C, 32*layerNormValues) {
			t.Errorf("rows %d C %d: %d threads cannot hold the row", c.rows, c.C, threads)
		}
	}
}
