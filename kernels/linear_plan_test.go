package kernels

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// op builds a present operand at a 256-byte aligned address, like the pool's.
func op(name string, dt tensor.DType, shape ...int) operand {
	return operand{name: name, shape: tensor.Shape(shape), dtype: dt, addr: 0x7f0000000000}
}

func TestGemmPlanPicksKernelAndGrid(t *testing.T) {
	f16 := tensor.F16
	cases := []struct {
		name    string
		p       gemmProblem
		kernel  string
		grid    Dim3
		m, n, k int
		shared  int
		splits  int
	}{
		{"sdxl ff", gemmProblem{y: op("y", f16, 2, 4096, 5120), x: op("x", f16, 2, 4096, 640), w: op("w", f16, 5120, 640), bias: op("b", f16, 5120)},
			"gemm_128x128_f16", Dim3{64, 40, 1}, 8192, 5120, 640, 65536, 1},
		{"sdxl 32² conv-sized K", gemmProblem{y: op("y", f16, 2048, 1280), x: op("x", f16, 2048, 11520), w: op("w", f16, 1280, 11520)},
			"gemm_128x128_f16", Dim3{16, 10, 4}, 2048, 1280, 11520, 65536, 4},
		{"tails", gemmProblem{y: op("y", tensor.BF16, 77, 130), x: op("x", tensor.BF16, 77, 72), w: op("w", tensor.BF16, 130, 72), tiles: fixedTiles(blockTiles[2], 1)},
			"gemm_64x128_bf16", Dim3{2, 2, 1}, 77, 130, 72, 49152, 1},
		{"K not a multiple of 8", gemmProblem{y: op("y", f16, 5, 7), x: op("x", f16, 5, 36), w: op("w", f16, 7, 36), tiles: fixedTiles(blockTiles[1], 1)},
			"gemm_unaligned_128x64_f16", Dim3{1, 1, 1}, 5, 7, 36, 49152, 1},
		{"forced split", gemmProblem{y: op("y", f16, 5, 7), x: op("x", f16, 5, 200), w: op("w", f16, 7, 200), tiles: fixedTiles(blockTiles[0], 3)},
			"gemm_128x128_f16", Dim3{1, 1, 3}, 5, 7, 200, 65536, 3},
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
			if pl.block != D1(256) || pl.shared != c.shared {
				t.Errorf("block %v shared %d, want 256 threads and %d bytes", pl.block, pl.shared, c.shared)
			}
			if pl.choice.splits != c.splits {
				t.Fatalf("%d splits, want %d", pl.choice.splits, c.splits)
			}
			if c.splits > 1 {
				if pl.partialBytes != c.splits*c.m*c.n*4 {
					t.Errorf("split-K: %d partial bytes, want %d", pl.partialBytes, c.splits*c.m*c.n*4)
				}
				if pl.kChunk()*c.splits < c.k || pl.kChunk()*(c.splits-1) >= c.k || pl.kChunk()%32 != 0 {
					t.Errorf("kchunk %d does not cut K=%d into %d splits of whole steps", pl.kChunk(), c.k, c.splits)
				}
			} else if pl.partialBytes != 0 {
				t.Errorf("unsplit plan has %d bytes of partials", pl.partialBytes)
			}
		})
	}
}

func TestGemmPlanMisalignedInputUsesUnalignedKernel(t *testing.T) {
	x := op("x", tensor.F16, 4, 64)
	x.addr += 2 // a view starting one element in
	pl, err := gemmProblem{y: op("y", tensor.F16, 4, 8), x: x, w: op("w", tensor.F16, 8, 64)}.plan()
	if err != nil || !strings.HasPrefix(pl.name, "gemm_unaligned_") {
		t.Fatalf("got %q, %v; want a gemm_unaligned_ kernel", pl.name, err)
	}
}

func TestGemmPlanEmptyLaunchesNothing(t *testing.T) {
	pl, err := gemmProblem{y: op("y", tensor.F16, 0, 8), x: op("x", tensor.F16, 0, 16), w: op("w", tensor.F16, 8, 16)}.plan()
	if err != nil || !pl.empty() {
		t.Fatalf("plan %+v, %v: want an empty plan", pl, err)
	}
}

// Unsupported cases are plain errors (the simple kernel runs); mismatched
// shapes are *shapeError (the caller's bug).
func TestGemmPlanRejects(t *testing.T) {
	f16 := tensor.F16
	cases := []struct {
		name  string
		p     gemmProblem
		shape bool
		want  string
	}{
		{"f32", gemmProblem{y: op("y", tensor.F32, 4, 8), x: op("x", tensor.F32, 4, 16), w: op("w", tensor.F32, 8, 16)}, false, "F16 or BF16"},
		{"mixed", gemmProblem{y: op("y", f16, 4, 8), x: op("x", f16, 4, 16), w: op("w", tensor.BF16, 8, 16)}, false, "w is BF16"},
		{"activation", gemmProblem{y: op("y", f16, 4, 8), x: op("x", f16, 4, 16), w: op("w", f16, 8, 16), act: 3}, false, "activation"},
		{"activation after the residual", gemmProblem{y: op("y", f16, 4, 8), x: op("x", f16, 4, 16), w: op("w", f16, 8, 16), act: 3 | ActAfterResidual}, false, "activation"},
		{"K", gemmProblem{y: op("y", f16, 4, 8), x: op("x", f16, 4, 16), w: op("w", f16, 8, 15)}, true, "do not match"},
		{"N", gemmProblem{y: op("y", f16, 4, 9), x: op("x", f16, 4, 16), w: op("w", f16, 8, 16)}, true, "do not match"},
		{"rows", gemmProblem{y: op("y", f16, 2, 4, 8), x: op("x", f16, 9, 16), w: op("w", f16, 8, 16)}, true, "do not match"},
		{"bias", gemmProblem{y: op("y", f16, 4, 8), x: op("x", f16, 4, 16), w: op("w", f16, 8, 16), bias: op("b", f16, 9)}, true, "bias"},
		{"residual", gemmProblem{y: op("y", f16, 4, 8), x: op("x", f16, 4, 16), w: op("w", f16, 8, 16), residual: op("r", f16, 8, 4)}, true, "residual"},
		// Beyond the launch grid or the kernel's int row index: the simple kernel's case.
		{"grid y", gemmProblem{y: op("y", f16, 1, 65535*128+1), x: op("x", f16, 1, 8), w: op("w", f16, 65535*128+1, 8)}, false, "column blocks"},
		{"last tile rows", gemmProblem{y: op("y", f16, math.MaxInt32-100, 8), x: op("x", f16, math.MaxInt32-100, 8), w: op("w", f16, 8, 8)}, false, "row index"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.p.plan()
			var se *shapeError
			if err == nil || errors.As(err, &se) != c.shape || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v (shape error: %v), want an error containing %q with shape error %v", err, errors.As(err, &se), c.want, c.shape)
			}
		})
	}
}

// x [B,T,K] against y [B·T,N] is the same GEMM: only row counts must agree.
func TestGemmPlanAcceptsReshapedRows(t *testing.T) {
	pl, err := gemmProblem{y: op("y", tensor.F16, 154, 8), x: op("x", tensor.F16, 2, 77, 16), w: op("w", tensor.F16, 8, 16)}.plan()
	if err != nil || pl.M != 154 {
		t.Fatalf("got M=%d, %v; want M=154", pl.M, err)
	}
}
