package kernels

import (
	"errors"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

func TestAttentionPlan(t *testing.T) {
	f16 := tensor.F16
	p := attentionProblem{o: op("o", f16, 2, 4096, 640), q: op("q", f16, 2, 4096, 640), k: op("k", f16, 2, 77, 640), v: op("v", f16, 2, 77, 640), heads: 10}
	pl, err := p.plan()
	if err != nil {
		t.Fatal(err)
	}
	if pl.name != "flash_attention_d64_f16" || pl.grid != (Dim3{32, 10, 2}) || pl.Tq != 4096 || pl.Tk != 77 || pl.C != 640 || pl.scale != 0.125 {
		t.Errorf("got %s grid %v Tq=%d Tk=%d C=%d scale=%v", pl.name, pl.grid, pl.Tq, pl.Tk, pl.C, pl.scale)
	}
	if pl.block != D1(256) || pl.shared != 55296 {
		t.Errorf("block %v shared %d", pl.block, pl.shared)
	}
}

func TestAttentionPlanRejects(t *testing.T) {
	f16 := tensor.F16
	var se *shapeError
	// VAE attention: one head of 512 — not this kernel's head size.
	_, err := attentionProblem{o: op("o", f16, 1, 64, 512), q: op("q", f16, 1, 64, 512), k: op("k", f16, 1, 64, 512), v: op("v", f16, 1, 64, 512), heads: 1}.plan()
	if err == nil || errors.As(err, &se) {
		t.Errorf("head size 512: got %v, want a fallback error", err)
	}
	_, err = attentionProblem{o: op("o", f16, 1, 64, 128), q: op("q", f16, 1, 64, 128), k: op("k", f16, 1, 9, 128), v: op("v", f16, 1, 8, 128), heads: 2}.plan()
	if !errors.As(err, &se) {
		t.Errorf("k and v lengths differ: got %v, want a shape error", err)
	}
	_, err = attentionProblem{o: op("o", f16, 1, 64, 128), q: op("q", f16, 1, 64, 128), k: op("k", f16, 1, 8, 128), v: op("v", f16, 1, 8, 128), heads: 3}.plan()
	if !errors.As(err, &se) {
		t.Errorf("128 channels in 3 heads: got %v, want a shape error", err)
	}
}
