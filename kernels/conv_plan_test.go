package kernels

import (
	"errors"
	"strings"
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

// The loader's ways of reading an input where it lies: two tensors'
// channels (aligned only when both parts are whole chunks), nearest 2x
// (the output planned at the enlarged size) and conv2d_norm's skip segment
// (K grows by its channels; aligned operands and stride 1 only).
func TestConvPlanReadsInputWhereItLies(t *testing.T) {
	f16 := tensor.F16
	cat := convProblem{y: op("y", f16, 2, 32, 32, 640), x: op("x", f16, 2, 32, 32, 1280), x2: op("x2", f16, 2, 32, 32, 640),
		w: op("w", f16, 640, 3, 3, 1920), stride: 1, pad: 1, norm: true}
	pl, err := cat.plan()
	if err != nil || pl.Cin != 1920 || pl.C1 != 1280 || pl.name != "conv2d_norm_128x64_f16" {
		t.Errorf("cat(1280, 640): %s Cin %d C1 %d, %v; want conv2d_norm_128x64_f16, 1920, 1280", pl.name, pl.Cin, pl.C1, err)
	}
	odd := convProblem{y: op("y", f16, 1, 8, 8, 16), x: op("x", f16, 1, 8, 8, 12), x2: op("x2", f16, 1, 8, 8, 4),
		w: op("w", f16, 16, 3, 3, 16), stride: 1, pad: 1}
	if pl, err := odd.plan(); err != nil || !strings.HasPrefix(pl.name, "conv2d_unaligned_") {
		t.Errorf("cat(12, 4): %s, %v; want the unaligned kernel (a chunk straddles the parts)", pl.name, err)
	}
	up := convProblem{y: op("y", f16, 2, 64, 64, 1280), x: op("x", f16, 2, 32, 32, 1280), up: true,
		w: op("w", f16, 1280, 3, 3, 1280), stride: 1, pad: 1}
	if pl, err := up.plan(); err != nil || pl.H != 64 || pl.W != 64 || pl.Up != 1 {
		t.Errorf("up2 of 32x32: H %d W %d up %d, %v; want 64, 64, 1", pl.H, pl.W, pl.Up, err)
	}
	skip := convProblem{y: op("y", f16, 2, 32, 32, 640), x: op("x", f16, 2, 32, 32, 640), w: op("w", f16, 640, 3, 3, 640),
		skip:   convSkip{x: op("s", f16, 2, 32, 32, 1280), x2: op("s2", f16, 2, 32, 32, 640), w: op("ws", f16, 640, 1, 1, 1920), bias: op("bs", f16, 640)},
		stride: 1, pad: 1, norm: true, tiles: fixedTiles(blockTiles[0], 1)}
	if pl, err := skip.plan(); err != nil || pl.Cskip != 1920 || pl.Cskip1 != 1280 {
		t.Errorf("skip cat(1280, 640): Cskip %d Cskip1 %d, %v; want 1920, 1280", pl.Cskip, pl.Cskip1, err)
	}
	var se *shapeError
	bad := skip
	bad.skip.w = op("ws", f16, 640, 1, 1, 1280)
	if _, err := bad.plan(); !errors.As(err, &se) {
		t.Errorf("skip weight for 1280 channels of 1920: got %v, want a shape error", err)
	}
	unaligned := skip
	unaligned.skip.x, unaligned.skip.x2 = op("s", f16, 2, 32, 32, 1276), op("s2", f16, 2, 32, 32, 644)
	if _, err := unaligned.plan(); err == nil || errors.As(err, &se) {
		t.Errorf("skip of 1276 + 644 channels: got %v, want a fallback error", err)
	}
	plain := skip
	plain.norm = false
	if _, err := plain.plan(); err == nil || errors.As(err, &se) {
		t.Errorf("skip segment on conv2d: got %v, want a fallback error", err)
	}
}
