package cpu

import (
	"fmt"
	"math"

	"github.com/gosdxl/gosdxl/tensor"
)

// Unary applies op element-wise; dst may alias x.
func (b *Backend) Unary(dst, x *tensor.Tensor, op tensor.UnaryOp) {
	b.launch("Unary", dst, x)
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

// The activations run in float32 on exp32: math.Exp and math.Erf in float64
// made GEGLU and SiLU a noticeable share of a UNet step. Their errors
// (below 3e-7 relative for the sigmoid, 1.5e-7·|x| absolute for GELU) are
// checked against float64 references by the conformance suite.

// sigmoid is 1/(1+e^-x), written with e^-|x| so that exp32 never sees a
// positive argument.
func sigmoid(x float32) float32 {
	e := exp32(-abs32(x))
	if x >= 0 {
		return 1 / (1 + e)
	}
	return e / (1 + e)
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

func siluRow(y, x []float32) {
	for i, v := range x {
		y[i] = v * sigmoid(v)
	}
}

// gelu is the exact (erf) GELU, x·Φ(x). Φ comes from erfc(|x|/√2) by
// Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), which keeps
// full relative accuracy of the small Φ of large negative x instead of
// cancelling 1 + erf(x).
func gelu(x float32) float32 {
	const (
		p  = 0.3275911
		a1 = 0.254829592
		a2 = -0.284496736
		a3 = 1.421413741
		a4 = -1.453152027
		a5 = 1.061405429
	)
	z := abs32(x) * (1 / math.Sqrt2)
	t := 1 / (1 + p*z)
	erfc := t * (a1 + t*(a2+t*(a3+t*(a4+t*a5)))) * exp32(-z*z)
	if x >= 0 {
		return x * (1 - 0.5*erfc)
	}
	return x * 0.5 * erfc
}

func geluRow(y, x []float32) {
	for i, v := range x {
		y[i] = gelu(v)
	}
}

func quickGELURow(y, x []float32) {
	for i, v := range x {
		y[i] = v * sigmoid(1.702*v)
	}
}

// GEGLU splits x [..., 2N] into value and gate halves: dst = value·gelu(gate).
func (b *Backend) GEGLU(dst, x *tensor.Tensor) {
	b.launch("GEGLU", dst, x)
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
				y[i] = val[i] * gelu(gate[i])
			}
		}
	})
}

// Binary computes dst = a op b, broadcasting b over the dimensions where it
// has size 1. dst may alias a.
func (b *Backend) Binary(dst, a, bb *tensor.Tensor, op tensor.BinaryOp) {
	b.launch("Binary", dst, a, bb)
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
