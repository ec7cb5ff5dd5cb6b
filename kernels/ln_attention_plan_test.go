package kernels

import (
	"errors"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// crossNormed is SDXL's 1024² level-1 cross-attention (CFG batch 2, 4096
// queries of 640 channels in 10 heads, 77 keys) in dtype dt, with x Cin
// wide.
func crossNormed(dt tensor.DType, cin int) normAttentionProblem {
	return normAttentionProblem{
		o: op("o", dt, 2, 4096, 640), x: op("x", dt, 2, 4096, cin), wq: op("wq", dt, 640, cin),
		k: op("k", dt, 2, 77, 640), v: op("v", dt, 2, 77, 640), heads: 10, norm: normOperands(dt, cin),
	}
}

func TestNormAttentionPlan(t *testing.T) {
	pl, err := crossNormed(tensor.BF16, 640).plan()
	if err != nil {
		t.Fatal(err)
	}
	if pl.module != "ln_attention" || pl.name != "ln_attention_d64_bf16" || pl.grid != (Dim3{32, 10, 2}) || pl.block != D1(256) {
		t.Errorf("got %s.%s grid %v block %v", pl.module, pl.name, pl.grid, pl.block)
	}
	if pl.shared != 55296 || pl.Tq != 4096 || pl.Tk != 77 || pl.C != 640 || pl.Cin != 640 || pl.scale != 0.125 {
		t.Errorf("shared %d Tq %d Tk %d C %d Cin %d scale %v", pl.shared, pl.Tq, pl.Tk, pl.C, pl.Cin, pl.scale)
	}
	p := crossNormed(tensor.F16, 640)
	p.o, p.x = op("o", tensor.F16, 2, 0, 640), op("x", tensor.F16, 2, 0, 640)
	if pl, err := p.plan(); err != nil || !pl.empty() {
		t.Errorf("no queries: got %v, plan %q; want nothing to launch", err, pl.name)
	}
}

// TestNormAttentionPlanDeclines: the cases the kernel does not take come
// back as fallback errors (the caller composes), mismatched shapes as
// shape errors (the caller's bug).
func TestNormAttentionPlanDeclines(t *testing.T) {
	var se *shapeError
	declines := map[string]normAttentionProblem{
		"F32":          crossNormed(tensor.F32, 640),
		"Cin % 8 != 0": crossNormed(tensor.F16, 644),
		"heads of 32":  func() normAttentionProblem { p := crossNormed(tensor.F16, 640); p.heads = 20; return p }(),
		"unaligned x":  func() normAttentionProblem { p := crossNormed(tensor.F16, 640); p.x.addr = 258; return p }(),
		"unaligned wq": func() normAttentionProblem { p := crossNormed(tensor.F16, 640); p.wq.addr = 264; return p }(),
		"BF16 norm": func() normAttentionProblem {
			p := crossNormed(tensor.F16, 640)
			p.norm = normOperands(tensor.BF16, 640)
			return p
		}(),
		"F32 query rows": func() normAttentionProblem { p := crossNormed(tensor.F16, 640); p.x.dtype = tensor.F32; return p }(),
	}
	for name, p := range declines {
		if _, err := p.plan(); err == nil || errors.As(err, &se) {
			t.Errorf("%s: got %v, want a fallback error", name, err)
		}
	}
	shapes := map[string]normAttentionProblem{
		"wq rows": func() normAttentionProblem {
			p := crossNormed(tensor.F16, 640)
			p.wq = op("wq", tensor.F16, 320, 640)
			return p
		}(),
		"x tokens": func() normAttentionProblem {
			p := crossNormed(tensor.F16, 640)
			p.x = op("x", tensor.F16, 2, 77, 640)
			return p
		}(),
		"k batch": func() normAttentionProblem {
			p := crossNormed(tensor.F16, 640)
			p.k = op("k", tensor.F16, 1, 77, 640)
			return p
		}(),
		"no keys": func() normAttentionProblem {
			p := crossNormed(tensor.F16, 640)
			p.k, p.v = op("k", tensor.F16, 2, 0, 640), op("v", tensor.F16, 2, 0, 640)
			return p
		}(),
		"gamma size": func() normAttentionProblem {
			p := crossNormed(tensor.F16, 640)
			p.norm = normOperands(tensor.F16, 320)
			return p
		}(),
	}
	for name, p := range shapes {
		if _, err := p.plan(); !errors.As(err, &se) {
			t.Errorf("%s: got %v, want a shape error", name, err)
		}
	}
}
