package kernels

import "testing"

func TestGroupNormChunksCoverEveryPositionWithinTheGridLimit(t *testing.T) {
	for _, c := range []struct{ positions, cpg int }{
		{1, 1}, {7, 40}, {64 * 64, 40}, {128 * 128, 4}, {1024 * 1024, 4}, {1024 * 1024, 8},
		{1024 * 1024, 512}, {2048 * 2048, 8192}, {65535, 8192}, {65536, 8192},
	} {
		per, chunks := groupNormChunks(c.positions, c.cpg)
		switch {
		case chunks < 1 || chunks > maxGridY:
			t.Errorf("%+v: %d chunks, grid.y allows 1..%d", c, chunks, maxGridY)
		case per*chunks < c.positions:
			t.Errorf("%+v: %d chunks of %d miss positions", c, chunks, per)
		case (chunks-1)*per >= c.positions:
			t.Errorf("%+v: the last of %d chunks of %d is empty", c, chunks, per)
		case c.positions > 8192 && per*c.cpg < 8192 && chunks < maxGridY:
			t.Errorf("%+v: %d elements per block, want about 8k", c, per*c.cpg)
		}
	}
}
