package kernels

import (
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// The schedule the kernel derives from (sk_tiles, grid) covers every
// iteration of every tile exactly once, and the fix-up's invariants hold:
// each block publishes at most one partial tile (its last range), a
// split tile is finished by the block holding its last K step, which has
// a higher index than every block it waits for, and the data-parallel
// tiles divide evenly among the blocks.
func TestStreamKScheduleCoversEveryIteration(t *testing.T) {
	for _, tc := range []struct{ M, N, K, blocks int }{
		{200, 136, 200, 5}, {300, 72, 104, 7}, {130, 300, 264, 4}, {77, 40, 72, 5}, {65, 129, 40, 3},
		{2048, 1280, 1280, 132}, {2048, 1280, 640, 114}, {8192, 640, 2560, 108}, {2, 1280, 1280, 132},
	} {
		for _, tl := range blockTiles {
			c := streamkSchedule(tc.M, tc.N, tc.K, tl, tc.blocks)
			if (c.tiles-c.skTiles)%c.blocks != 0 || c.skTiles > c.tiles || c.skTiles < min(c.tiles, c.blocks) {
				t.Errorf("%v: %d data-parallel tiles on %d blocks", c, c.tiles-c.skTiles, c.blocks)
			}
			owner := make([]int, c.skTiles*c.kSteps)
			for i := range owner {
				owner[i] = -1
			}
			published := make([]int, c.blocks)
			for b := range c.blocks {
				for i := c.begin(b); i < c.begin(b+1); i++ {
					if owner[i] != -1 {
						t.Fatalf("%v: iteration %d in blocks %d and %d", c, i, owner[i], b)
					}
					owner[i] = b
				}
				if end := c.begin(b + 1); end > c.begin(b) && end%c.kSteps != 0 {
					published[b]++
				}
			}
			for i, b := range owner {
				if b == -1 {
					t.Fatalf("%v: iteration %d in no block", c, i)
				}
			}
			for tile := range c.skTiles {
				last := owner[(tile+1)*c.kSteps-1]
				for k := range c.kSteps {
					if b := owner[tile*c.kSteps+k]; b > last {
						t.Errorf("%v: tile %d finished by block %d, which waits for block %d", c, tile, last, b)
					}
				}
			}
			for b, n := range published {
				if n > 1 {
					t.Errorf("%v: block %d publishes %d tiles", c, b, n)
				}
			}
		}
	}
}

func TestChooseStreamK(t *testing.T) {
	perSM := func(sms int) func(blockTile) int { return func(blockTile) int { return sms } }
	cases := []struct {
		M, N, K, sms int
		resident     func(blockTile) int
		want         string // "" = no stream-K
	}{
		// The 32² level's attention output: 320 half tiles → 188 shared + 132 whole.
		{2048, 1280, 1280, 132, perSM(132), "128x64 stream-K 188 of 320 tiles on 132 blocks"},
		{2048, 1280, 640, 132, perSM(132), "128x64 stream-K 188 of 320 tiles on 132 blocks"},
		// Whole waves already (264 tiles on 132 SMs): nothing to rebalance.
		{33792, 128, 1280, 132, perSM(132), ""},
		// Too short to matter (4 steps of K): launch-bound.
		{2048, 1280, 128, 132, perSM(132), ""},
		// The occupancy query says no block fits: never stream-K.
		{2048, 1280, 1280, 132, perSM(0), ""},
		// Two blocks fit per SM: still one a SM (more would only split more tiles).
		{2048, 1280, 1280, 132, perSM(264), "128x64 stream-K 188 of 320 tiles on 132 blocks"},
		// Fewer resident blocks than SMs: the idle SMs cost more than stream-K gains.
		{2048, 1280, 1280, 132, perSM(100), ""},
	}
	for _, c := range cases {
		plain := chooseTiles(c.M, c.N, c.K, c.sms)
		sk, ok := chooseStreamK(c.M, c.N, c.K, c.sms, c.resident, plain)
		got := ""
		if ok {
			got = sk.String()
		}
		if got != c.want {
			t.Errorf("M=%d N=%d K=%d on %d SMs: got %q, want %q", c.M, c.N, c.K, c.sms, got, c.want)
		}
	}
	// The fix-up of the attention output moves at most two partial tiles
	// per block (publish one, add one): 8.4 MB of workspace for 132 slots.
	c := streamkSchedule(2048, 1280, 1280, blockTiles[1], 132)
	if n := c.fixupTiles(); n != 2 {
		t.Errorf("%v: a block moves up to %d partial tiles, want 2", c, n)
	}
	if got, want := c.workspaceBytes(), 132*128*64*4; got != want {
		t.Errorf("workspace %d bytes, want %d", got, want)
	}
}

// The stream-K kernels take aligned f16/bf16 operands only; others are
// declined (gemm.cu runs them), and mismatched shapes are a shapeError.
func TestStreamKPlanDeclines(t *testing.T) {
	p := func(dt tensor.DType, K int, addr uint64) gemmProblem {
		return gemmProblem{
			y: operand{"y", tensor.Shape{64, 64}, dt, 256}, x: operand{"x", tensor.Shape{64, K}, dt, addr},
			w: operand{"w", tensor.Shape{64, K}, dt, 256},
		}
	}
	c := streamkSchedule(64, 64, 64, blockTiles[0], 4)
	if pl, err := p(tensor.F16, 64, 256).streamkPlan(c); err != nil || pl.name != "gemm_streamk_128x128_f16" || pl.grid.X != 4 {
		t.Errorf("aligned f16: %+v, %v", pl, err)
	}
	for _, bad := range []gemmProblem{p(tensor.F32, 64, 256), p(tensor.F16, 60, 256), p(tensor.BF16, 64, 258)} {
		if _, err := bad.streamkPlan(c); err == nil || !strings.Contains(err.Error(), "stream-K") {
			t.Errorf("%v K=%d at %#x: error %v, want a decline", bad.x.dtype, bad.x.shape[1], bad.x.addr, err)
		}
	}
	wrong := p(tensor.F16, 64, 256)
	wrong.w.shape = tensor.Shape{64, 32}
	if _, err := wrong.streamkPlan(c); err == nil {
		t.Error("mismatched shapes planned")
	} else if _, ok := err.(*shapeError); !ok {
		t.Errorf("mismatched shapes: %v is not a shapeError", err)
	}
}
