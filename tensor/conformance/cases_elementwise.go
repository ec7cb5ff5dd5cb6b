package conformance

import (
	"fmt"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

func (s *suite) binary(t *testing.T) {
	cases := []struct{ a, b []int }{
		{[]int{2, 8, 8, 320}, []int{2, 1, 1, 320}}, // time embedding onto a feature map
		{[]int{2, 77, 640}, []int{1, 1, 640}},      // one vector onto every token
		{[]int{2, 5, 3, 7}, []int{2, 5, 3, 7}},     // residual, same shape
		{[]int{2, 3, 5, 7}, []int{2, 3, 5, 1}},     // a per-position scalar
		{[]int{1, 1, 1, 1}, []int{1, 1, 1, 1}},
		{[]int{3, 5}, []int{1, 5}},
	}
	if s.full {
		cases = append(cases, struct{ a, b []int }{[]int{2, 64, 64, 640}, []int{2, 1, 1, 640}})
	}
	for _, op := range []tensor.BinaryOp{tensor.Add, tensor.Mul} {
		for _, c := range cases {
			for _, alias := range []bool{false, true} {
				name := fmt.Sprintf("%v/%v_by_%v", op, c.a, c.b)
				if alias {
					name += "_in_place"
				}
				t.Run(name, func(t *testing.T) {
					r := rng(t)
					a := s.activation(r, 1, c.a...)
					b := s.activation(r, 1, c.b...)
					want := refBinary(a.vals, tensor.Shape(c.a), b.vals, tensor.Shape(c.b), op)
					dst := a.t
					if !alias {
						dst = s.poisoned(s.act, c.a...)
					}
					s.b.Binary(dst, a.t, b.t, op)
					s.check(t, dst, want)
				})
			}
		}
	}
}

// refBinary computes a op b with b broadcast along its size-1 dimensions,
// by converting each output index to b's index.
func refBinary(a []float64, as tensor.Shape, b []float64, bs tensor.Shape, op tensor.BinaryOp) []float64 {
	out := make([]float64, len(a))
	idx := make([]int, len(as))
	for i := range a {
		rem := i
		for d := len(as) - 1; d >= 0; d-- {
			idx[d] = rem % as[d]
			rem /= as[d]
		}
		bi := 0
		for d := range bs {
			coord := idx[d]
			if bs[d] == 1 {
				coord = 0
			}
			bi = bi*bs[d] + coord
		}
		if op == tensor.Add {
			out[i] = a[i] + b[bi]
		} else {
			out[i] = a[i] * b[bi]
		}
	}
	return out
}

func (s *suite) unary(t *testing.T) {
	fns := map[tensor.UnaryOp]func(float64) float64{tensor.SiLU: refSiLU, tensor.GELU: refGELU, tensor.QuickGELU: refQuickGELU}
	shapes := [][]int{{2, 8, 8, 320}, {3, 7}, {1, 1, 1, 1}}
	if s.full {
		shapes = append(shapes, []int{2, 64, 64, 320})
	}
	for _, op := range []tensor.UnaryOp{tensor.SiLU, tensor.GELU, tensor.QuickGELU} {
		for _, sh := range shapes {
			for _, alias := range []bool{false, true} {
				name := fmt.Sprintf("%v/%v", op, sh)
				if alias {
					name += "_in_place"
				}
				t.Run(name, func(t *testing.T) {
					// std 3 reaches the saturated tails of the activations.
					x := s.activation(rng(t), 3, sh...)
					want := make([]float64, len(x.vals))
					for i, v := range x.vals {
						want[i] = fns[op](v)
					}
					dst := x.t
					if !alias {
						dst = s.poisoned(s.act, sh...)
					}
					s.b.Unary(dst, x.t, op)
					s.check(t, dst, want)
				})
			}
		}
	}
}

func (s *suite) geglu(t *testing.T) {
	cases := []struct {
		lead []int
		n    int
	}{{[]int{2, 16}, 640}, {[]int{1, 3}, 7}, {[]int{2, 77}, 1}}
	if s.full {
		cases = append(cases, struct {
			lead []int
			n    int
		}{[]int{2, 1024}, 2560})
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v_%d", c.lead, c.n), func(t *testing.T) {
			x := s.activation(rng(t), 2, append(append([]int(nil), c.lead...), 2*c.n)...)
			rows := len(x.vals) / (2 * c.n)
			want := make([]float64, rows*c.n)
			for r := range rows {
				for i := range c.n {
					want[r*c.n+i] = x.vals[2*r*c.n+i] * refGELU(x.vals[2*r*c.n+c.n+i])
				}
			}
			dst := s.poisoned(s.act, append(append([]int(nil), c.lead...), c.n)...)
			s.b.GEGLU(dst, x.t)
			s.check(t, dst, want)
		})
	}
}
