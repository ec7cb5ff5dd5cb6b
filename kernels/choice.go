//go:build cuda

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gosdxl/gosdxl/tensor"
)

// selfCheck runs op's fast kernel on small random F16 cases with awkward
// sizes and compares it with the simple kernel. It returns "" when they agree
// within fp16 tolerance, else a description of the first disagreement; err is
// a device failure.
func (b *Backend) selfCheck(op string) (problem string, err error) {
	rng := rand.New(rand.NewPCG(1, 2))
	var inputs []*tensor.Tensor
	defer func() {
		for _, t := range inputs {
			b.Free(t) // back to the pool for the model's own tensors
		}
	}()
	rnd := func(shape ...int) *tensor.Tensor {
		data := make([]float32, tensor.Shape(shape).NumElements())
		for i := range data {
			data[i] = float32(rng.NormFloat64())
		}
		t := b.FromFloat32(tensor.F16, shape, data)
		inputs = append(inputs, t)
		return t
	}
	type run func(dst *tensor.Tensor, fast bool) bool
	var cases []struct {
		name string
		dst  []int
		run  run
	}
	add := func(name string, dst []int, r run) {
		cases = append(cases, struct {
			name string
			dst  []int
			run  run
		}{name, dst, r})
	}
	switch op {
	case "linear":
		for _, c := range [][3]int{{77, 320, 640}, {130, 200, 72}, {2 * 64, 1280, 320}} {
			m, k, n := c[0], c[1], c[2]
			x, w, bias := rnd(m, k), rnd(n, k), rnd(n)
			add(fmt.Sprintf("x[%d %d]·w[%d %d]ᵀ", m, k, n, k), []int{m, n}, func(dst *tensor.Tensor, fast bool) bool {
				if fast {
					return fastLinear(b, dst, x, w, bias)
				}
				b.simpleLinear(dst, x, w, bias)
				return true
			})
		}
	case "conv2d":
		for _, c := range [][6]int{{9, 13, 64, 128, 1, 1}, {16, 16, 96, 64, 2, 1}, {8, 8, 320, 320, 1, 1}} {
			h, wd, cin, cout, stride, kpad := c[0], c[1], c[2], c[3], c[4], c[5]
			x, w, bias := rnd(2, h, wd, cin), rnd(cout, 3, 3, cin), rnd(cout)
			dst := []int{2, convOut(h, 3, stride, kpad), convOut(wd, 3, stride, kpad), cout}
			add(fmt.Sprintf("x[2 %d %d %d] 3x3 stride %d", h, wd, cin, stride), dst, func(d *tensor.Tensor, fast bool) bool {
				if fast {
					return fastConv2D(b, d, x, w, bias, stride, kpad)
				}
				b.simpleConv2D(d, x, w, bias, stride, kpad)
				return true
			})
		}
	case "attention":
		for _, c := range []struct {
			tq, tk, heads int
			causal        bool
		}{{77, 77, 2, true}, {150, 77, 5, false}, {256, 256, 2, false}} {
			q, k, v := rnd(2, c.tq, 64*c.heads), rnd(2, c.tk, 64*c.heads), rnd(2, c.tk, 64*c.heads)
			add(fmt.Sprintf("Tq %d Tk %d heads %d causal %v", c.tq, c.tk, c.heads, c.causal), []int{2, c.tq, 64 * c.heads},
				func(d *tensor.Tensor, fast bool) bool {
					if fast {
						return fastAttention(b, d, q, k, v, c.heads, c.causal)
					}
					b.simpleAttention(d, q, k, v, c.heads, c.causal)
					return true
				})
		}
	}
	for _, c := range cases {
		want, got := b.Alloc(tensor.F16, c.dst...), b.Alloc(tensor.F16, c.dst...)
		b.fill(got, 0xff) // NaN: a fast kernel that skips outputs cannot pass
		c.run(want, false)
		handled := c.run(got, true)
		w, g := b.ToFloat32(want), b.ToFloat32(got)
		b.Free(want)
		b.Free(got)
		if err := b.Sync(); err != nil {
			return "", fmt.Errorf("cuda: self-check of %s (%s): %w", op, c.name, err)
		}
		if !handled {
			b.logf("cuda: %s self-check: fast kernel declined %s", op, c.name)
			continue
		}
		if i, ok := withinTolerance(g, w, 2e-3, 1e-2); !ok {
			return fmt.Sprintf("%s: element %d is %g, simple gives %g", c.name, i, g[i], w[i]), nil
		}
	}
	return "", nil
}

// withinTolerance checks |got−want| ≤ atol + rtol·|want| everywhere (NaN
// fails) and returns the first failing index.
func withinTolerance(got, want []float32, atol, rtol float64) (int, bool) {
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if !(d <= atol+rtol*math.Abs(float64(want[i]))) {
			return i, false
		}
	}
	return 0, true
}
