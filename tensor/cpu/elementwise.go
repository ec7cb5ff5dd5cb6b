package cpu

import (
	"fmt"
	"math"

	"github.com/gosdxl/gosdxl/tensor"
)

// Unary applies op element-wise; dst may alias x.
func (b *Backend) Unary(dst, x *tensor.Tensor, op tensor.UnaryOp) {
	if !x.Shape().Equal(dst.Shape()) {
		panic(fmt.Sprintf("cpu: Unary %v: x %v and dst %v differ", op, x.Shape(), dst.Shape()))
	}
	var f func(y, x []float32)
	switch op {
	case tensor.SiLU:
		f = siluRow
	case tensor.GELU:
		f = geluRow
	case tensor.QuickGELU:
		f = quickGELURow
	default:
		panic(fmt.Sprintf("cpu: Unary: unknown op %d", op))
	}
	in := f32(x, "Unary", "x")
	out := f32(dst, "Unary", "dst")
	parallelFor(len(in), 1<<14, func(lo, hi int) { f(out[lo:hi], in[lo:hi]) })
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func siluRow(y, x []float32) {
	for i, v := range x {
		y[i] = float32(float64(v) * sigmoid(float64(v)))
	}
}

// gelu is the exact GELU, x·Φ(x) = x/2·(1 + erf(x/√2)).
func gelu(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }

func geluRow(y, x []float32) {
	for i, v := range x {
		y[i] = float32(gelu(float64(v)))
	}
}

func quickGELURow(y, x []float32) {
	for i, v := range x {
		y[i] = float32(float64(v) * sigmoid(1.702*float64(v)))
	}
}

// GEGLU splits x [..., 2N] into value and gate halves: dst = value·gelu(gate).
func (b *Backend) GEGLU(dst, x *tensor.Tensor) {
	xs, ds := x.Shape(), dst.Shape()
	if len(xs) < 1 || !sameLeading(xs, ds) || xs.Last() != 2*ds.Last() {
		panic(fmt.Sprintf("cpu: GEGLU: x %v and dst %v do not fit (x [..., 2N], dst [..., N])", xs, ds))
	}
	n := ds.Last()
	in := f32(x, "GEGLU", "x")
	out := f32(dst, "GEGLU", "dst")
	parallelFor(ds.Rows(), 16, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			val := in[2*r*n : 2*r*n+n]
			gate := in[2*r*n+n : 2*r*n+2*n]
			y := out[r*n : r*n+n]
			for i := range y {
				y[i] = float32(float64(val[i]) * gelu(float64(gate[i])))
			}
		}
	})
}

// Binary computes dst = a op b, broadcasting b over the dimensions where it
// has size 1. dst may alias a.
func (b *Backend) Binary(dst, a, bb *tensor.Tensor, op tensor.BinaryOp) {
	as, bs, ds := a.Shape(), bb.Shape(), dst.Shape()
	ok := as.Equal(ds) && len(bs) == len(as) && len(as) > 0
	for i := 0; ok && i < len(as); i++ {
		ok = bs[i] == as[i] || bs[i] == 1
	}
	if !ok {
		panic(fmt.Sprintf("cpu: Binary %v: a %v, b %v, dst %v do not fit (b broadcasts onto a, dst like a)", op, as, bs, ds))
	}
	if op != tensor.Add && op != tensor.Mul {
		panic(fmt.Sprintf("cpu: Binary: unknown op %d", op))
	}
	ad := f32(a, "Binary", "a")
	bd := f32(bb, "Binary", "b")
	out := f32(dst, "Binary", "dst")
	c := as.Last()
	bLast := bs.Last() // c or 1
	// bRow maps a row of a (all dimensions but the last) to b's row.
	outer := as[:len(as)-1]
	bStride := make([]int, len(outer)) // b's row stride per outer dimension, 0 when broadcast
	st := 1
	for i := len(outer) - 1; i >= 0; i-- {
		if bs[i] != 1 {
			bStride[i] = st
		}
		st *= bs[i]
	}
	bRow := func(r int) int {
		off := 0
		for i := len(outer) - 1; i >= 0; i-- {
			off += (r % outer[i]) * bStride[i]
			r /= outer[i]
		}
		return off
	}
	parallelFor(as.Rows(), 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			x := ad[r*c : (r+1)*c]
			y := out[r*c : (r+1)*c]
			br := bd[bRow(r)*bLast:][:bLast]
			switch {
			case op == tensor.Add && bLast == c:
				for i, v := range x {
					y[i] = v + br[i]
				}
			case op == tensor.Add:
				for i, v := range x {
					y[i] = v + br[0]
				}
			case bLast == c:
				for i, v := range x {
					y[i] = v * br[i]
				}
			default:
				for i, v := range x {
					y[i] = v * br[0]
				}
			}
		}
	})
}
