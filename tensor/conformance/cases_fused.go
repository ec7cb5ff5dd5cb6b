package conformance

import (
	"fmt"
	"math"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// The fused operations are optional (tensor/fused.go): a backend that
// offers one must give its composite meaning, and one that lacks it (or
// declines the case) is checked on the composite of its plain operations,
// the same sequence nn/ then runs. Either way the result is held to the
// float64 reference. Each case logs which path ran.

// linearAddAct checks act(x·wᵀ + bias + residual) (tensor.FusedLinearAddAct):
// the residual added before the activation, as SDXL's time embedding
// SiLU(time_embed(t) + label_emb(y)); the residual separate and in place.
func (s *suite) linearAddAct(t *testing.T) {
	type addActCase struct {
		lead    []int
		k, n    int
		act     tensor.UnaryOp
		inPlace bool
	}
	cases := []addActCase{
		{[]int{2}, 320, 1280, tensor.SiLU, false}, // time_embed.2 of a CFG batch (narrow K)
		{[]int{2}, 320, 1280, tensor.SiLU, true},
		{[]int{1, 5}, 70, 37, tensor.GELU, false}, // nothing a multiple of 8
		{[]int{3, 130}, 72, 136, tensor.SiLU, true},
	}
	acts := map[tensor.UnaryOp]func(float64) float64{tensor.SiLU: refSiLU, tensor.GELU: refGELU}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v_K%d_N%d_%v_inplace%v", c.lead, c.k, c.n, c.act, c.inPlace), func(t *testing.T) {
			r := rng(t)
			x := s.activation(r, 1, append(append([]int(nil), c.lead...), c.k)...)
			w := s.weight(r, 1/math.Sqrt(float64(c.k)), c.n, c.k)
			bias := s.weight(r, 0.5, c.n)
			outShape := append(append([]int(nil), c.lead...), c.n)
			res := s.activation(r, 1, outShape...)
			m := len(x.vals) / c.k
			want := refLinear(x.vals, m, c.k, w.vals, c.n, bias.vals, nil)
			for i := range want {
				want[i] = acts[c.act](want[i] + res.vals[i])
			}
			dst := res.t
			if !c.inPlace {
				dst = s.poisoned(s.act, outShape...)
			}
			if f, ok := s.b.(tensor.FusedLinearAddAct); ok && f.LinearAddAct(dst, x.t, w.t, bias.t, res.t, c.act) {
				t.Log("fused")
			} else {
				t.Log("composite: Linear, Binary Add, Unary")
				out := dst
				if c.inPlace {
					out = s.b.Alloc(s.act, outShape...)
				}
				s.b.Linear(out, x.t, w.t, bias.t)
				s.b.Binary(dst, out, res.t, tensor.Add)
				s.b.Unary(dst, dst, c.act)
				if c.inPlace {
					s.b.Free(out)
				}
			}
			s.check(t, dst, want)
		})
	}
}

// conv2DNormed checks conv(silu(gn(x))) + bias + imageBias[b]
// (tensor.FusedNormConv2D) with the per-image bias read as columns of a
// wider matrix, as a UNet's ResBlocks read theirs from all their time
// embedding projections side by side; and with the whole matrix.
func (s *suite) conv2DNormed(t *testing.T) {
	type normedCase struct {
		convShape
		groups, width, from int
	}
	cases := []normedCase{
		{convShape{B: 2, H: 6, W: 5, Cin: 32, Cout: 24, KH: 3, KW: 3, Stride: 1, Pad: 1}, 8, 64, 16},
		{convShape{B: 2, H: 6, W: 5, Cin: 32, Cout: 24, KH: 3, KW: 3, Stride: 1, Pad: 1}, 8, 24, 0},
		{convShape{B: 3, H: 4, W: 7, Cin: 12, Cout: 20, KH: 3, KW: 3, Stride: 1, Pad: 1}, 3, 37, 9}, // Cin % 8 != 0
	}
	for _, c := range cases {
		name := fmt.Sprintf("%dx%dx%dx%d_g%d_to%d_columns%d-%d_of%d", c.B, c.H, c.W, c.Cin, c.groups, c.Cout, c.from, c.from+c.Cout, c.width)
		t.Run(name, func(t *testing.T) {
			r := rng(t)
			x := s.activation(r, 1.5, c.B, c.H, c.W, c.Cin)
			gamma, beta := s.weight(r, 1, c.Cin), s.weight(r, 0.5, c.Cin)
			w := s.weight(r, 1/math.Sqrt(float64(c.KH*c.KW*c.Cin)), c.Cout, c.KH, c.KW, c.Cin)
			bias := s.weight(r, 0.5, c.Cout)
			emb := s.activation(r, 1, c.B, c.width)
			const eps = 1e-5
			h := refGroupNorm(x.vals, c.B, c.H*c.W, c.Cin, c.groups, gamma.vals, beta.vals, eps, true)
			want := refConv2D(c.convShape, h, w.vals, bias.vals, nil)
			ho, wo := c.out()
			for i := range want {
				b, co := i/(ho*wo*c.Cout), i%c.Cout
				want[i] += emb.vals[b*c.width+c.from+co]
			}
			dst := s.poisoned(s.act, c.B, ho, wo, c.Cout)
			n := tensor.ChannelNorm{Gamma: gamma.t, Beta: beta.t, Groups: c.groups, Eps: eps, SiLU: true}
			cols := tensor.Columns{Of: emb.t, From: c.from}
			if f, ok := s.b.(tensor.FusedNormConv2D); ok && f.Conv2DNormed(dst, x.t, n, w.t, bias.t, cols, nil, c.Stride, c.Pad) {
				t.Log("fused")
			} else {
				t.Log("composite: GroupNorm, Conv2D, Slice, Binary Add")
				hn := s.b.Alloc(s.act, c.B, c.H, c.W, c.Cin)
				s.b.GroupNorm(hn, x.t, gamma.t, beta.t, c.groups, eps, true)
				s.b.Conv2D(dst, hn, w.t, bias.t, c.Stride, c.Pad)
				part := s.b.Alloc(s.act, c.B, c.Cout)
				s.b.Slice(part, emb.t, c.from)
				s.b.Binary(dst, dst, part.Reshape(c.B, 1, 1, c.Cout), tensor.Add)
				s.b.Free(hn)
				s.b.Free(part)
			}
			s.check(t, dst, want)
		})
	}
}
