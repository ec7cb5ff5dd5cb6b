package kernels

import (
	"errors"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// chainCase is a chain on rows×k0 of dt with layers of the given widths
// (bias on the first, residual on the second), at 16-byte aligned addresses.
func chainCase(dt tensor.DType, rows, k0 int, widths ...int) chainProblem {
	p := chainProblem{x: operand{name: "x", shape: tensor.Shape{rows, k0}, dtype: dt, addr: 256}, sms: 132}
	k := k0
	for i, n := range widths {
		l := chainLayerOps{
			w:   operand{name: "weight", shape: tensor.Shape{n, k}, dtype: dt, addr: 4096},
			out: operand{name: "output", shape: tensor.Shape{rows, n}, dtype: dt, addr: 8192},
		}
		if i == 0 {
			l.bias = operand{name: "bias", shape: tensor.Shape{n}, dtype: dt, addr: 512}
		}
		if i == 1 {
			l.residual = operand{name: "residual", shape: tensor.Shape{rows, n}, dtype: dt, addr: 1024}
		}
		p.layers = append(p.layers, l)
		k = n
	}
	return p
}

// TestChainPlanSDXLTimeEmbedding: SDXL's time embedding with CFG (four
// rows: 320 → 1280 → 1280 → the 17 ResBlocks' 13,760 projections) is one
// launch of at most two blocks per SM.
func TestChainPlanSDXLTimeEmbedding(t *testing.T) {
	pl, err := chainCase(tensor.F16, 4, 320, 1280, 1280, 13760).plan()
	if err != nil {
		t.Fatal(err)
	}
	if pl.name != "linear_chain_f16" || pl.rows != 4 || pl.grid != D1(264) || pl.block != D1(256) {
		t.Errorf("plan %+v, want linear_chain_f16 on 264 blocks of 256 threads", pl)
	}
	// A small chain gets no more blocks than it has items: 1 + 2 here.
	if pl, err := chainCase(tensor.BF16, 1, 16, 8, 40).plan(); err != nil || pl.grid != D1(3) {
		t.Errorf("small chain: %+v, %v; want 3 blocks", pl, err)
	}
}

// TestChainPlanDeclines: the cases the kernel does not take are declined
// with a reason (the caller then composes the layers), mismatched shapes
// are a bug (shapeError).
func TestChainPlanDeclines(t *testing.T) {
	misaligned := chainCase(tensor.F16, 2, 64, 64)
	misaligned.layers[0].w.addr = 4098
	mixed := chainCase(tensor.F16, 2, 64, 64)
	mixed.layers[0].w.dtype = tensor.F32
	for _, c := range []struct {
		name string
		p    chainProblem
		want string
	}{
		{"nine rows", chainCase(tensor.F16, 9, 64, 64), "at most 8"},
		{"four layers", chainCase(tensor.F16, 2, 64, 64, 64, 64, 64), "1 to 3"},
		{"no layer", chainCase(tensor.F16, 2, 64), "1 to 3"},
		{"float32", chainCase(tensor.F32, 2, 64, 64), "F16 or BF16"},
		{"odd width", chainCase(tensor.F16, 2, 64, 36, 64), "8 at a time"},
		{"odd input", chainCase(tensor.F16, 2, 60, 64), "8 at a time"},
		{"misaligned", misaligned, "aligned"},
		{"mixed types", mixed, "one type"},
	} {
		_, err := c.p.plan()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error about %q", c.name, err, c.want)
		}
		var se *shapeError
		if err != nil && errors.As(err, &se) {
			t.Errorf("%s: declined as a shape mismatch: %v", c.name, err)
		}
	}
	bad := chainCase(tensor.F16, 2, 64, 64, 32)
	bad.layers[1].w.shape = tensor.Shape{32, 48} // does not take the first layer's 64 outputs
	if _, err := bad.plan(); err == nil || !errors.As(err, new(*shapeError)) {
		t.Errorf("layers that do not fit together: %v, want a shape error", err)
	}
}
