package kernels

import (
	"errors"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// The normed GEMMs run the plain planners' kernels, tiles and grids, under
// ln_gemm.cu's names.
func TestNormedPlansFollowThePlainOnes(t *testing.T) {
	f16 := tensor.F16
	norm := func(dt tensor.DType, k int) rowNormOperands {
		return rowNormOperands{gamma: op("g", dt, k), beta: op("b", dt, k)}
	}
	gemm := gemmProblem{y: op("y", f16, 2, 4096, 640), x: op("x", f16, 2, 4096, 640), w: op("w", f16, 640, 640), residual: op("r", f16, 2, 4096, 640)}
	split := gemmProblem{y: op("y", f16, 77, 72), x: op("x", f16, 77, 1280), w: op("w", f16, 72, 1280), tiles: fixedTiles(blockTiles[1], 3)}
	unaligned := gemmProblem{y: op("y", tensor.BF16, 33, 40), x: op("x", tensor.BF16, 33, 45), w: op("w", tensor.BF16, 40, 45)}
	for _, p := range []gemmProblem{gemm, split, unaligned} {
		plain, err := p.plan()
		if err != nil {
			t.Fatal(err)
		}
		normed, err := normGemmProblem{p, norm(p.x.dtype, p.x.shape.Last())}.plan()
		if err != nil {
			t.Fatal(err)
		}
		if normed.module != "ln_gemm" || normed.name != "ln_"+plain.name || normed.grid != plain.grid ||
			normed.shared != plain.shared || normed.choice != plain.choice || normed.partialBytes != plain.partialBytes {
			t.Errorf("normed %s.%s %v, plain %s.%s %v", normed.module, normed.name, normed.choice, plain.module, plain.name, plain.choice)
		}
	}
	w := op("w", f16, 640, 640)
	qkv := qkvProblem{y: op("y", f16, 2, 4096, 1920), x: op("x", f16, 2, 4096, 640), wq: w, wk: w, wv: w}
	plainQ, err := qkv.plan()
	if err != nil {
		t.Fatal(err)
	}
	normedQ, err := normQkvProblem{qkv, norm(f16, 640)}.plan()
	if err != nil || normedQ.name != "ln_"+plainQ.name || normedQ.grid != plainQ.grid {
		t.Errorf("normed q/k/v %s %v (%v), plain %s %v", normedQ.name, normedQ.grid, err, plainQ.name, plainQ.grid)
	}
	geglu := gegluProblem{y: op("y", f16, 2, 4096, 2560), x: op("x", f16, 2, 4096, 640), w: op("w", f16, 5120, 640), bias: op("b", f16, 5120)}
	plainG, err := geglu.plan()
	if err != nil {
		t.Fatal(err)
	}
	normedG, err := normGegluProblem{geglu, norm(f16, 640)}.plan()
	if err != nil || normedG.name != "ln_"+plainG.name || normedG.grid != plainG.grid || normedG.choice.splits != 1 {
		t.Errorf("normed GEGLU %s %v (%v), plain %s %v", normedG.name, normedG.grid, err, plainG.name, plainG.grid)
	}
}

func TestNormedPlanRejects(t *testing.T) {
	f16 := tensor.F16
	p := gemmProblem{y: op("y", f16, 4, 8), x: op("x", f16, 4, 16), w: op("w", f16, 8, 16)}
	var se *shapeError
	for _, c := range []struct {
		name  string
		p     gemmProblem
		norm  rowNormOperands
		shape bool // a programmer error, not a declined case
	}{
		{"no beta", p, rowNormOperands{gamma: op("g", f16, 16)}, true},
		{"gamma of the output's width", p, rowNormOperands{gamma: op("g", f16, 8), beta: op("b", f16, 16)}, true},
		{"float32 gamma", p, rowNormOperands{gamma: op("g", tensor.F32, 16), beta: op("b", tensor.F32, 16)}, false},
		{"float32 activations", gemmProblem{y: op("y", tensor.F32, 4, 8), x: op("x", tensor.F32, 4, 16), w: op("w", tensor.F32, 8, 16)},
			rowNormOperands{gamma: op("g", tensor.F32, 16), beta: op("b", tensor.F32, 16)}, false},
		{"empty rows", gemmProblem{y: op("y", f16, 4, 8), x: op("x", f16, 4, 0), w: op("w", f16, 8, 0)},
			rowNormOperands{gamma: op("g", f16, 0), beta: op("b", f16, 0)}, false},
	} {
		_, err := normGemmProblem{c.p, c.norm}.plan()
		if err == nil || errors.As(err, &se) != c.shape {
			t.Errorf("%s: got %v, want a shape error: %v", c.name, err, c.shape)
		}
	}
}
