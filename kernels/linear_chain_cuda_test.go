//go:build cuda

package kernels

import (
	"fmt"
	"math"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// refChainLayer is act(x·wᵀ + bias + res) in float64 (bias, res may be nil).
func refChainLayer(x, w, bias, res []float32, M, N, K int, act Activation) []float64 {
	y := refGemm(x, w, bias, nil, M, N, K, ActNone)
	for i := range y {
		if res != nil {
			y[i] += float64(res[i])
		}
		if act == ActSiLU {
			y[i] = y[i] / (1 + math.Exp(-y[i]))
		}
	}
	return y
}

// TestLinearChainAgainstFloat64 runs linear_chain on the time embedding's
// pattern (SiLU; the residual, then SiLU; a wide plain layer) at 1, 4 and 8
// rows, and on a one-layer chain with widths that are not multiples of a
// work item: every layer against float64 from the input it read (the
// previous layer's stored output). Each chain runs twice: the second
// launch finds its counters re-armed by the first, or computes nothing.
func TestLinearChainAgainstFloat64(t *testing.T) {
	type layer struct {
		n        int
		act      tensor.UnaryOp
		bias     bool
		residual bool
	}
	cases := []struct {
		rows, k0 int
		layers   []layer
	}{
		{4, 320, []layer{{640, tensor.SiLU, true, false}, {640, tensor.SiLU, true, true}, {1000, tensor.NoActivation, true, false}}},
		{1, 264, []layer{{33, tensor.NoActivation, false, false}}},
		{8, 64, []layer{{72, tensor.SiLU, false, true}, {8, tensor.NoActivation, true, true}}},
	}
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
		r := newFastRig(t, dt)
		for _, c := range cases {
			t.Run(fmt.Sprintf("%v/rows%d_k%d_layers%d", dt, c.rows, c.k0, len(c.layers)), func(t *testing.T) {
				x, xv := r.input(t, 1, c.rows, c.k0)
				var layers []tensor.ChainLayer
				var vals [][3][]float32 // w, bias, residual values
				k := c.k0
				for _, l := range c.layers {
					cl := tensor.ChainLayer{Act: l.act, Out: r.output(c.rows, l.n)}
					var v [3][]float32
					cl.W, v[0] = r.input(t, 1/math.Sqrt(float64(k)), l.n, k)
					if l.bias {
						cl.Bias, v[1] = r.input(t, 0.5, l.n)
					}
					if l.residual {
						cl.Residual, v[2] = r.input(t, 1, c.rows, l.n)
					}
					layers, vals = append(layers, cl), append(vals, v)
					k = l.n
				}
				for run := range 2 {
					for _, l := range layers {
						r.b.fill(l.Out, 0xff) // NaN: a layer left unwritten shows
					}
					if !r.b.LinearChain(x, layers) {
						t.Fatal("linear_chain declined the case")
					}
					in, k := xv, c.k0
					for i, l := range layers {
						act, _ := epilogueActivation(l.Act)
						got := r.read(t, l.Out)
						want := refChainLayer(in, vals[i][0], vals[i][1], vals[i][2], c.rows, c.layers[i].n, k, act)
						expectClose(t, fmt.Sprintf("launch %d, layer %d", run+1, i), l.Out.Shape(), got, want, dt)
						in, k = got, c.layers[i].n
					}
				}
			})
		}
	}
}

// TestLinearChainDeclinesToTheComposite: tensor.LinearChain on a case the
// kernel does not take (nine rows) composes the layers, and on one it takes
// gives what the composite gives, within the rounding of the composite's
// extra steps (a Linear, an Add and a SiLU each rounded to F16 against one
// rounding).
func TestLinearChainDeclinesToTheComposite(t *testing.T) {
	r := newFastRig(t, tensor.F16)
	for _, rows := range []int{4, 9} {
		x, _ := r.input(t, 1, rows, 64)
		w1, _ := r.input(t, 0.125, 96, 64)
		w2, _ := r.input(t, 0.1, 40, 96)
		res, _ := r.input(t, 1, rows, 96)
		chain := func(b tensor.Backend) []float32 {
			layers := []tensor.ChainLayer{
				{W: w1, Residual: res, Act: tensor.SiLU, Out: r.output(rows, 96)},
				{W: w2, Out: r.output(rows, 40)},
			}
			tensor.LinearChain(b, x, layers)
			return r.read(t, layers[1].Out)
		}
		if took := r.b.LinearChain(x, []tensor.ChainLayer{{W: w1, Out: r.output(rows, 96)}}); took != (rows <= chainMaxRows) {
			t.Errorf("%d rows: the kernel took the case: %v", rows, took)
		}
		fused, composite := chain(r.b), chain(plainBackend{r.b})
		for i := range fused {
			if d := math.Abs(float64(fused[i] - composite[i])); d > 4e-3+4e-3*math.Abs(float64(composite[i])) {
				t.Fatalf("%d rows: [%d] fused %g, composite %g", rows, i, fused[i], composite[i])
			}
		}
	}
}
