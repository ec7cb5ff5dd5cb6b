package kernels

import (
	"errors"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

func TestConvPlan(t *testing.T) {
	f16 := tensor.F16
	cases := []struct {
		name   string
		p      convProblem
		kernel string
		grid   Dim3
		ho, wo int
	}{
		{"3x3 same", convProblem{y: op("y", f16, 2, 64, 64, 640), x: op("x", f16, 2, 64, 64, 640), w: op("w", f16, 640, 3, 3, 640), bias: op("b", f16, 640), stride: 1, pad: 1},
			"conv2d_128x64_f16", Dim3{64, 10, 1}, 64, 64},
		{"3x3 stride 2", convProblem{y: op("y", f16, 1, 17, 16, 320), x: op("x", f16, 1, 33, 31, 320), w: op("w", f16, 320, 3, 3, 320), stride: 2, pad: 1, tiles: fixedTiles(blockTiles[2], 1)},
			"conv2d_64x128_f16", Dim3{5, 3, 1}, 17, 16},
		{"1x1", convProblem{y: op("y", tensor.BF16, 1, 8, 8, 24), x: op("x", tensor.BF16, 1, 8, 8, 16), w: op("w", tensor.BF16, 24, 1, 1, 16), residual: op("r", tensor.BF16, 1, 8, 8, 24), stride: 1, tiles: fixedTiles(blockTiles[0], 1)},
			"conv2d_128x128_bf16", Dim3{1, 1, 1}, 8, 8},
		{"split-K", convProblem{y: op("y", f16, 2, 32, 32, 1280), x: op("x", f16, 2, 32, 32, 1280), w: op("w", f16, 1280, 3, 3, 1280), stride: 1, pad: 1},
			"conv2d_128x128_f16", Dim3{16, 10, 4}, 32, 32},
		{"conv_in Cin=4", convProblem{y: op("y", f16, 1, 128, 128, 320), x: op("x", f16, 1, 128, 128, 4), w: op("w", f16, 320, 3, 3, 4), stride: 1, pad: 1},
			"conv2d_unaligned_128x64_f16", Dim3{128, 5, 1}, 128, 128},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pl, err := c.p.plan()
			if err != nil {
				t.Fatal(err)
			}
			if pl.name != c.kernel || pl.module != "conv" || pl.grid.norm() != c.grid || pl.Ho != c.ho || pl.Wo != c.wo {
				t.Errorf("got %s.%s grid %v out %dx%d, want conv.%s grid %v out %dx%d", pl.module, pl.name, pl.grid.norm(), pl.Ho, pl.Wo, c.kernel, c.grid, c.ho, c.wo)
			}
		})
	}
}

func TestConvPlanRejects(t *testing.T) {
	f16 := tensor.F16
	var se *shapeError
	_, err := convProblem{y: op("y", f16, 1, 8, 8, 16), x: op("x", f16, 1, 8, 8, 16), w: op("w", f16, 16, 3, 3, 16), stride: 1, pad: 0}.plan()
	if !errors.As(err, &se) {
		t.Errorf("6x6 output declared as 8x8: got %v, want a shape error", err)
	}
	_, err = convProblem{y: op("y", f16, 1, 8, 8, 16), x: op("x", f16, 1, 8, 8, 8), w: op("w", f16, 16, 3, 3, 16), stride: 1, pad: 1}.plan()
	if !errors.As(err, &se) {
		t.Errorf("Cin mismatch: got %v, want a shape error", err)
	}
	_, err = convProblem{y: op("y", tensor.F32, 1, 8, 8, 16), x: op("x", tensor.F32, 1, 8, 8, 16), w: op("w", tensor.F32, 16, 3, 3, 16), stride: 1, pad: 1}.plan()
	if err == nil || errors.As(err, &se) {
		t.Errorf("F32: got %v, want a fallback error", err)
	}
}
