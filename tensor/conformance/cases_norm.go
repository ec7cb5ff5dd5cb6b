package conformance

import (
	"fmt"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// affine returns random F16 gamma ≈ 1 and beta ≈ 0, as trained norms have,
// never exactly one or zero.
func (s *suite) affine(t *testing.T, c int) (gamma, beta input) {
	r := rng(t)
	g := normals(r, c, 0.2)
	for i := range g {
		g[i] += 1
	}
	gt := s.b.FromFloat32(tensor.F16, tensor.Shape{c}, g)
	return input{gt, widen64(s.b.ToFloat32(gt))}, s.weight(r, 0.2, c)
}

func (s *suite) groupNorm(t *testing.T) {
	type gnCase struct {
		shape  []int
		groups int
		eps    float32
		silu   bool
		std    float64 // 1.5 unless set; a tiny std makes eps matter
	}
	cases := []gnCase{
		{[]int{2, 8, 8, 320}, 32, 1e-5, true, 0},    // resnet norm1
		{[]int{2, 8, 8, 320}, 32, 1e-6, false, 0},   // transformer input norm
		{[]int{1, 5, 3, 64}, 32, 1e-6, true, 0},     // odd spatial, 2 channels per group
		{[]int{1, 1, 1, 64}, 32, 1e-5, false, 0},    // 1×1: each group holds 2 values
		{[]int{2, 7, 9, 96}, 32, 1e-5, true, 0},     // 3 channels per group
		{[]int{2, 77, 128}, 32, 1e-5, false, 0},     // a [B,T,C] sequence
		{[]int{1, 4, 4, 1280}, 32, 1e-5, true, 0},   // 40 channels per group
		{[]int{1, 4, 4, 64}, 32, 1e-6, false, 3e-3}, // variance ~1e-5: eps 1e-6 vs 1e-5 shows
		{[]int{1, 4, 4, 64}, 32, 1e-5, true, 3e-3},
	}
	if s.full {
		cases = append(cases, gnCase{[]int{2, 32, 32, 640}, 32, 1e-5, true, 0}, gnCase{[]int{1, 128, 128, 128}, 32, 1e-6, true, 0},
			gnCase{[]int{2, 64, 64, 320}, 32, 1e-6, false, 0})
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v_g%d_eps%g_silu%v", c.shape, c.groups, c.eps, c.silu), func(t *testing.T) {
			ch := c.shape[len(c.shape)-1]
			// A mean offset (twice the std) makes a naive one-pass variance
			// lose precision.
			std := c.std
			if std == 0 {
				std = 1.5
			}
			x := s.activationAround(rng(t), 3*std, std, c.shape...)
			gamma, beta := s.affine(t, ch)
			positions := len(x.vals) / (c.shape[0] * ch)
			want := refGroupNorm(x.vals, c.shape[0], positions, ch, c.groups, gamma.vals, beta.vals, float64(c.eps), c.silu)
			dst := s.poisoned(s.act, c.shape...)
			s.b.GroupNorm(dst, x.t, gamma.t, beta.t, c.groups, c.eps, c.silu)
			s.check(t, dst, want)
		})
	}
}

func (s *suite) layerNorm(t *testing.T) {
	shapes := [][]int{{2, 77, 640}, {1, 5, 33}, {2, 64, 320}, {1, 1, 1}, {2, 77, 1280}}
	if s.full {
		shapes = append(shapes, []int{2, 4096, 320}, []int{2, 1024, 1280})
	}
	for _, sh := range shapes {
		t.Run(fmt.Sprint(sh), func(t *testing.T) {
			c := sh[len(sh)-1]
			x := s.activation(rng(t), 2, sh...)
			gamma, beta := s.affine(t, c)
			want := refLayerNorm(x.vals, c, gamma.vals, beta.vals, 1e-5)
			dst := s.poisoned(s.act, sh...)
			s.b.LayerNorm(dst, x.t, gamma.t, beta.t, 1e-5)
			s.check(t, dst, want)
		})
	}
}
