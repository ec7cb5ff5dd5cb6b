package kernels

import (
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

func TestWideAttentionPlanBlocksCoverEveryQueryWithinTheBudget(t *testing.T) {
	for _, c := range []struct{ tq, tk int }{
		{16384, 16384}, // the VAE at 1024²
		{65536, 65536}, // at 2048²
		{4096, 4096},
		{100, 64},
		{1, 8},
	} {
		p, err := planWideAttention(tensor.Shape{1, c.tq, 512}, tensor.Shape{1, c.tk, 512}, tensor.BF16, 1, false)
		if err != nil {
			t.Fatalf("Tq %d Tk %d: %v", c.tq, c.tk, err)
		}
		next := 0
		p.blocks(func(q0, n int) {
			if q0 != next || n < 1 || n > p.rows {
				t.Fatalf("Tq %d: block at %d of %d rows after row %d (block size %d)", c.tq, q0, n, next, p.rows)
			}
			next = q0 + n
		})
		if next != c.tq {
			t.Errorf("Tq %d: blocks end at %d", c.tq, next)
		}
		if p.rows*c.tk > max(wideScoreBudget, gemmTileM*c.tk) {
			t.Errorf("Tq %d Tk %d: %d-row blocks hold %d scores, over the %d budget", c.tq, c.tk, p.rows, p.rows*c.tk, wideScoreBudget)
		}
		if p.rows != c.tq && p.rows%gemmTileM != 0 {
			t.Errorf("Tq %d: blocks of %d rows are not whole GEMM tiles", c.tq, p.rows)
		}
	}
}

func TestWideAttentionPlanRefusesWhatItDoesNotTake(t *testing.T) {
	for _, c := range []struct {
		name   string
		q, k   tensor.Shape
		dt     tensor.DType
		heads  int
		causal bool
	}{
		{"float32", tensor.Shape{1, 64, 512}, tensor.Shape{1, 64, 512}, tensor.F32, 1, false},
		{"two heads", tensor.Shape{1, 64, 512}, tensor.Shape{1, 64, 512}, tensor.F16, 2, false},
		{"causal", tensor.Shape{1, 64, 512}, tensor.Shape{1, 64, 512}, tensor.F16, 1, true},
		{"flash head size", tensor.Shape{1, 64, 64}, tensor.Shape{1, 64, 64}, tensor.F16, 1, false},
		{"odd keys", tensor.Shape{1, 64, 512}, tensor.Shape{1, 77, 512}, tensor.F16, 1, false},
		{"odd width", tensor.Shape{1, 64, 100}, tensor.Shape{1, 64, 100}, tensor.F16, 1, false},
	} {
		if _, err := planWideAttention(c.q, c.k, c.dt, c.heads, c.causal); err == nil {
			t.Errorf("%s: planned, want a refusal", c.name)
		}
	}
}
