package conformance

import (
	"math"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// fusedConv checks tensor.FusedConv, a convolution reading its input where
// it lies (two tensors' channels, nearest 2x) with an optional GroupNorm,
// per-image bias, 1×1 skip convolution and residual, against float64
// references of the spelled-out meaning: the concatenation, the enlarged
// map, GroupNorm over it, the convolution, then the additions. The
// backend's FusedConvReader runs it when it takes the case, else
// tensor.ComposeConv2D does (the log says which).
func (s *suite) fusedConv(t *testing.T) {
	type part struct{ c1, c2 int } // channels of X and of X2 (0: no X2)
	type fcCase struct {
		name           string
		b, h, w        int // the stored input's batch and size
		in             part
		up             bool
		groups         int // 0: no GroupNorm
		cout, k        int
		imageBias, res bool
		skip           part // c1 0: no skip
	}
	cases := []fcCase{
		// An up block's conv1 of cat(h, skip): 4 groups of 16 channels, the
		// third straddling the two tensors; the time embedding per image.
		{name: "cat_norm_embed", b: 2, h: 6, w: 5, in: part{40, 24}, groups: 4, cout: 32, k: 3, imageBias: true},
		// Neither part a multiple of the group size (6) nor of 8.
		{name: "cat_unaligned", b: 1, h: 5, w: 4, in: part{12, 18}, groups: 5, cout: 16, k: 3, res: true},
		// conv2 with the block's skip connection over cat(h, skip).
		{name: "skip_of_cat", b: 2, h: 6, w: 5, in: part{24, 0}, groups: 3, cout: 32, k: 3, skip: part{40, 24}},
		// A down block's: skip of one tensor, and a residual besides.
		{name: "skip_residual", b: 1, h: 5, w: 5, in: part{16, 0}, groups: 2, cout: 24, k: 3, skip: part{8, 0}, res: true},
		// The Upsample: nearest 2x, then a plain 3×3 convolution.
		{name: "up2", b: 2, h: 4, w: 5, in: part{32, 0}, up: true, cout: 24, k: 3},
		{name: "up2_unaligned", b: 1, h: 3, w: 4, in: part{5, 0}, up: true, cout: 12, k: 3, res: true},
		// Everything a loader can read at once.
		{name: "up2_cat_norm", b: 1, h: 3, w: 3, in: part{16, 8}, up: true, groups: 4, cout: 16, k: 3, imageBias: true},
	}
	if s.full {
		cases = append(cases,
			fcCase{name: "sdxl_up1_conv1", b: 2, h: 32, w: 32, in: part{1280, 640}, groups: 32, cout: 640, k: 3, imageBias: true},
			fcCase{name: "sdxl_up1_conv2", b: 2, h: 32, w: 32, in: part{640, 0}, groups: 32, cout: 640, k: 3, skip: part{1280, 640}},
			fcCase{name: "sdxl_upsample", b: 2, h: 32, w: 32, in: part{1280, 0}, up: true, cout: 1280, k: 3},
		)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := rng(t)
			x := s.activation(r, 1, c.b, c.h, c.w, c.in.c1)
			op := tensor.FusedConv{In: tensor.ConvInput{X: x.t, Up2: c.up}, Stride: 1, Pad: c.k / 2}
			vals := x.vals
			if c.in.c2 > 0 {
				x2 := s.activationAround(r, 0.5, 1, c.b, c.h, c.w, c.in.c2)
				op.In.X2 = x2.t
				vals = catChannels(x.vals, c.in.c1, x2.vals, c.in.c2)
			}
			cin := c.in.c1 + c.in.c2
			h, wd := c.h, c.w
			if c.up {
				vals, h, wd = up2(vals, c.b, h, wd, cin)
			}
			if c.groups > 0 {
				gamma, beta := s.affine(t, cin)
				op.Norm = &tensor.ChannelNorm{Gamma: gamma.t, Beta: beta.t, Groups: c.groups, Eps: 1e-5, SiLU: true}
				vals = refGroupNorm(vals, c.b, h*wd, cin, c.groups, gamma.vals, beta.vals, 1e-5, true)
			}
			w := s.weight(r, 1/math.Sqrt(float64(c.k*c.k*cin)), c.cout, c.k, c.k, cin)
			bias := s.weight(r, 0.5, c.cout)
			op.Weight, op.Bias = w.t, bias.t
			shape := convShape{B: c.b, H: h, W: wd, Cin: cin, Cout: c.cout, KH: c.k, KW: c.k, Stride: 1, Pad: c.k / 2}
			ho, wo := shape.out()
			rows := sampleRows(c.b*ho*wo, maxCheckedRows)
			want := refConv2D(shape, vals, w.vals, bias.vals, rows)
			per := ho * wo * c.cout
			if c.imageBias {
				e := s.activation(r, 1, c.b, c.cout)
				op.ImageBias = tensor.AllColumns(e.t)
				addEach(want, func(i int) float64 { return e.vals[i/per*c.cout+i%c.cout] })
			}
			if c.skip.c1 > 0 {
				sk := s.activation(r, 1, c.b, ho, wo, c.skip.c1)
				skip := &tensor.ConvSkip{In: tensor.ConvInput{X: sk.t}}
				skVals := sk.vals
				if c.skip.c2 > 0 {
					sk2 := s.activationAround(r, -0.5, 1, c.b, ho, wo, c.skip.c2)
					skip.In.X2 = sk2.t
					skVals = catChannels(sk.vals, c.skip.c1, sk2.vals, c.skip.c2)
				}
				cs := c.skip.c1 + c.skip.c2
				sw := s.weight(r, 1/math.Sqrt(float64(cs)), c.cout, 1, 1, cs)
				sb := s.weight(r, 0.5, c.cout)
				skip.Weight, skip.Bias = sw.t, sb.t
				op.Skip = skip
				one := convShape{B: c.b, H: ho, W: wo, Cin: cs, Cout: c.cout, KH: 1, KW: 1, Stride: 1}
				skWant := refConv2D(one, skVals, sw.vals, sb.vals, rows)
				addEach(want, func(i int) float64 { return skWant[i] })
			}
			dst := s.poisoned(s.act, c.b, ho, wo, c.cout)
			if c.res {
				res := s.activation(r, 1, c.b, ho, wo, c.cout)
				op.Residual = res.t
				addEach(want, func(i int) float64 { return res.vals[i] })
			}
			if f, ok := s.b.(tensor.FusedConvReader); ok && f.Conv2DFused(dst, op) {
				t.Logf("%s ran it as one fused operation", s.b.Name())
			} else {
				t.Logf("%s declined it: composed (tensor.ComposeConv2D)", s.b.Name())
				tensor.ComposeConv2D(s.b, dst, op)
			}
			s.check(t, dst, want)
		})
	}
}

// catChannels is torch.cat([a, b], dim=-1) of rows of ca and cb values.
func catChannels(a []float64, ca int, b []float64, cb int) []float64 {
	rows := len(a) / ca
	out := make([]float64, 0, rows*(ca+cb))
	for p := range rows {
		out = append(out, a[p*ca:(p+1)*ca]...)
		out = append(out, b[p*cb:(p+1)*cb]...)
	}
	return out
}

// up2 enlarges x [B,H,W,C] to [B,2H,2W,C] by nearest-neighbour sampling.
func up2(x []float64, b, h, w, c int) ([]float64, int, int) {
	out := make([]float64, 0, 4*len(x))
	for i := range b {
		for y := range 2 * h {
			for xx := range 2 * w {
				p := ((i*h+y/2)*w + xx/2) * c
				out = append(out, x[p:p+c]...)
			}
		}
	}
	return out, 2 * h, 2 * w
}

// addEach adds f(i) to every computed (non-NaN) element of want.
func addEach(want []float64, f func(i int) float64) {
	for i := range want {
		if !math.IsNaN(want[i]) {
			want[i] += f(i)
		}
	}
}
