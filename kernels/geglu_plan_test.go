package kernels

import (
	"errors"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

func TestGEGLUPlanPicksKernelAndGrid(t *testing.T) {
	f16 := tensor.F16
	cases := []struct {
		name    string
		p       gegluProblem
		kernel  string
		grid    Dim3
		m, n, k int
		shared  int
	}{
		// SDXL's 64² level, CFG batch: 8192 tokens, 640 wide, inner 2560.
		{"sdxl ff", gegluProblem{y: op("y", f16, 2, 4096, 2560), x: op("x", f16, 2, 4096, 640), w: op("w", f16, 5120, 640), bias: op("b", f16, 5120)},
			"gemm_geglu_128x128_f16", Dim3{64, 40, 1}, 8192, 2560, 640, 65536},
		// A long K the planner would split: the fused kernel runs unsplit.
		{"split asked, none run", gegluProblem{y: op("y", f16, 5, 7), x: op("x", f16, 5, 200), w: op("w", f16, 14, 200), tiles: fixedTiles(blockTiles[0], 3)},
			"gemm_geglu_128x128_f16", Dim3{1, 1, 1}, 5, 7, 200, 65536},
		// 37 outputs in 32-wide column blocks of the 128x64 tile: 2 blocks.
		{"tails", gegluProblem{y: op("y", tensor.BF16, 77, 37), x: op("x", tensor.BF16, 77, 72), w: op("w", tensor.BF16, 74, 72), tiles: fixedTiles(blockTiles[1], 1)},
			"gemm_geglu_128x64_bf16", Dim3{1, 2, 1}, 77, 37, 72, 49152},
		{"K not a multiple of 8", gegluProblem{y: op("y", f16, 65, 65), x: op("x", f16, 65, 36), w: op("w", f16, 130, 36), tiles: fixedTiles(blockTiles[2], 1)},
			"gemm_geglu_unaligned_64x128_f16", Dim3{2, 2, 1}, 65, 65, 36, 49152},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pl, err := c.p.plan()
			if err != nil {
				t.Fatal(err)
			}
			if pl.name != c.kernel || pl.module != "gemm" || pl.grid.norm() != c.grid || pl.M != c.m || pl.N != c.n || pl.K != c.k {
				t.Errorf("got %s.%s grid %v M=%d N=%d K=%d, want gemm.%s grid %v M=%d N=%d K=%d",
					pl.module, pl.name, pl.grid.norm(), pl.M, pl.N, pl.K, c.kernel, c.grid, c.m, c.n, c.k)
			}
			if pl.block != D1(256) || pl.shared != c.shared || pl.choice.splits != 1 || pl.partialBytes != 0 {
				t.Errorf("block %v shared %d splits %d partials %d, want 256 threads, %d bytes, unsplit",
					pl.block, pl.shared, pl.choice.splits, pl.partialBytes, c.shared)
			}
		})
	}
}

func TestGEGLUPlanRejects(t *testing.T) {
	f16 := tensor.F16
	var se *shapeError
	for _, c := range []struct {
		name  string
		p     gegluProblem
		shape bool // a programmer error, not a declined case
	}{
		{"odd weight rows", gegluProblem{y: op("y", f16, 4, 3), x: op("x", f16, 4, 8), w: op("w", f16, 7, 8)}, true},
		{"output not half the weight", gegluProblem{y: op("y", f16, 4, 6), x: op("x", f16, 4, 8), w: op("w", f16, 6, 8)}, true},
		{"bias of the output's width", gegluProblem{y: op("y", f16, 4, 3), x: op("x", f16, 4, 8), w: op("w", f16, 6, 8), bias: op("b", f16, 3)}, true},
		{"rows differ", gegluProblem{y: op("y", f16, 5, 3), x: op("x", f16, 4, 8), w: op("w", f16, 6, 8)}, true},
		{"float32", gegluProblem{y: op("y", tensor.F32, 4, 3), x: op("x", tensor.F32, 4, 8), w: op("w", tensor.F32, 6, 8)}, false},
		{"mixed dtypes", gegluProblem{y: op("y", f16, 4, 3), x: op("x", f16, 4, 8), w: op("w", tensor.BF16, 6, 8)}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.p.plan()
			if err == nil {
				t.Fatal("planned")
			}
			if errors.As(err, &se) != c.shape {
				t.Errorf("%v: shape error %v, want %v", err, !c.shape, c.shape)
			}
		})
	}
}
