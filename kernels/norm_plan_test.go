package kernels

import "testing"

func TestGroupNormChunksCoverEveryPosition(t *testing.T) {
	for _, c := range []struct{ positions, cpg int }{
		{1, 1}, {7, 40}, {64 * 64, 40}, {128 * 128, 4}, {1024 * 1024, 4}, {1024 * 1024, 8},
		{1024 * 1024, 512}, {2048 * 2048, 8192}, {65535, 8192}, {65536, 8192}, {257, 8192},
	} {
		per, chunks := groupNormChunks(c.positions, c.cpg)
		switch {
		case chunks < 1 || chunks > groupNormThreads:
			t.Errorf("%+v: %d chunks, the apply blocks merge 1..%d", c, chunks, groupNormThreads)
		case per*chunks < c.positions:
			t.Errorf("%+v: %d chunks of %d miss positions", c, chunks, per)
		case (chunks-1)*per >= c.positions:
			t.Errorf("%+v: the last of %d chunks of %d is empty", c, chunks, per)
		case c.positions > 8192 && per*c.cpg < 8192 && chunks < groupNormThreads:
			t.Errorf("%+v: %d elements per block, want about 8k", c, per*c.cpg)
		}
	}
}

func TestLayerNormKernelByRowLength(t *testing.T) {
	for _, c := range []struct {
		rows, C int
		kind    layerNormKind
		grid    int
	}{
		{1, 1, layerNormWarp, 1},
		{154, 768, layerNormWarp, 20}, // CLIP-L, two prompts: 8 rows per block
		{8192, 320, layerNormWarp, 1024},
		{9, 1024, layerNormWarp, 2},
		{9, 1025, layerNormBlock, 9},
		{2048, 1280, layerNormBlock, 2048},
		{3, 4096, layerNormBlock, 3},
		{3, 4097, layerNormLong, 3},
	} {
		kind, grid := layerNormKernel(c.rows, c.C)
		if kind != c.kind || grid != c.grid {
			t.Errorf("rows %d C %d: kernel %d over %d blocks, want %d over %d", c.rows, c.C, kind, grid, c.kind, c.grid)
		}
	}
}
