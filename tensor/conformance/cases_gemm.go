package conformance

import (
	"fmt"
	"math"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// maxCheckedRows bounds how many output rows (tokens, pixels) the float64
// reference computes for one case; larger outputs are checked on an even
// sample of rows that includes the first and the last.
const maxCheckedRows = 512

func (s *suite) linear(t *testing.T) {
	type linCase struct {
		lead   []int
		k, n   int
		bias   bool
		weight tensor.DType
	}
	cases := []linCase{
		{[]int{2, 64}, 320, 320, true, tensor.F16},   // proj_in at a small latent
		{[]int{2, 77}, 640, 1280, false, tensor.F16}, // to_k of cross attention, no bias
		{[]int{2, 16}, 640, 5120, true, tensor.F16},  // GEGLU projection
		{[]int{2, 77}, 192, 64, false, tensor.BF16},  // bf16 weights
		{[]int{1, 77}, 63, 37, true, tensor.F32},     // f32 weights, nothing a multiple of 8
		{[]int{2}, 2816, 1280, true, tensor.F16},     // label_emb: two rows
		{[]int{1}, 1, 1, true, tensor.F16},           // degenerate
		{[]int{3, 5, 7}, 17, 33, false, tensor.F16},  // rank 4 input
		{[]int{1, 257}, 300, 130, true, tensor.F16},  // M/N/K past block edges
		{[]int{1, 5}, 700, 37, true, tensor.F16},     // few rows, wider N, K past block edges
	}
	if s.full {
		cases = append(cases,
			linCase{[]int{2, 4096}, 320, 320, true, tensor.F16},
			linCase{[]int{2, 1024}, 640, 5120, true, tensor.F16},
			linCase{[]int{2, 1024}, 2560, 640, true, tensor.F16},
			linCase{[]int{2, 154}, 2048, 1280, false, tensor.F16},
			linCase{[]int{2, 256}, 1280, 10240, true, tensor.F16},
		)
	}
	for _, c := range cases {
		name := fmt.Sprintf("%v_K%d_N%d_%v", c.lead, c.k, c.n, c.weight)
		if !c.bias {
			name += "_nobias"
		}
		t.Run(name, func(t *testing.T) {
			r := rng(t)
			x := s.activation(r, 1, append(append([]int(nil), c.lead...), c.k)...)
			w := s.make(r, c.weight, 1/math.Sqrt(float64(c.k)), c.n, c.k)
			var bias input
			if c.bias {
				bias = s.weight(r, 0.5, c.n)
			}
			m := len(x.vals) / c.k
			rows := sampleRows(m, maxCheckedRows)
			want := refLinear(x.vals, m, c.k, w.vals, c.n, bias.vals, rows)
			if rows == nil && m*c.n*c.k <= 1<<26 {
				crossCheck(t, want, x.vals, m, c.k, w.vals, c.n, bias.vals)
			}
			dst := s.poisoned(s.act, append(append([]int(nil), c.lead...), c.n)...)
			s.b.Linear(dst, x.t, w.t, bias.t)
			s.check(t, dst, want)
		})
	}
}

// crossCheck verifies the naive reference product against gorgonia's
// float64 product before it is used to judge a backend.
func crossCheck(t *testing.T, want, x []float64, m, k int, w []float64, n int, bias []float64) {
	t.Helper()
	other := matMulIndependent(x, m, k, w, n)
	for i, v := range other {
		if bias != nil {
			v += bias[i%n]
		}
		if math.Abs(v-want[i]) > 1e-9*(1+math.Abs(v)) {
			t.Fatalf("reference GEMM disagrees with gorgonia.org/tensor at %d: %g vs %g", i, want[i], v)
		}
	}
}

func (s *suite) conv2D(t *testing.T) {
	type convCase struct {
		convShape
		bias bool
	}
	c3 := func(b, h, w, cin, cout, stride int) convCase {
		return convCase{convShape{B: b, H: h, W: w, Cin: cin, Cout: cout, KH: 3, KW: 3, Stride: stride, Pad: 1}, true}
	}
	c1 := func(b, h, w, cin, cout int, bias bool) convCase {
		return convCase{convShape{B: b, H: h, W: w, Cin: cin, Cout: cout, KH: 1, KW: 1, Stride: 1, Pad: 0}, bias}
	}
	cases := []convCase{
		c3(1, 8, 8, 320, 320, 1),  // resnet conv at a small latent
		c3(2, 16, 24, 4, 32, 1),   // conv_in of the tiny model (Cin 4)
		c3(1, 6, 5, 32, 4, 1),     // conv_out: Cout 4
		c3(2, 7, 5, 13, 17, 1),    // odd everything
		c3(1, 9, 7, 16, 24, 2),    // downsample, odd spatial
		c3(2, 8, 8, 64, 64, 2),    // downsample, even spatial
		c3(1, 1, 1, 32, 40, 1),    // 1×1 image, 3×3 kernel: only the centre tap
		c3(1, 1, 1, 8, 8, 2),      // 1×1 image, stride 2
		c1(2, 6, 6, 64, 32, true), // resnet skip connection
		c1(1, 5, 3, 7, 9, false),
		{convShape{B: 1, H: 4, W: 4, Cin: 8, Cout: 8, KH: 3, KW: 3, Stride: 1, Pad: 1}, false},
	}
	if s.full {
		cases = append(cases,
			c3(2, 32, 32, 640, 640, 1),
			c3(2, 64, 64, 320, 320, 2),
			c3(1, 16, 16, 1280, 1280, 1),
			c3(1, 128, 128, 128, 128, 1),
			c1(2, 32, 32, 640, 1280, true),
		)
	}
	for _, c := range cases {
		name := fmt.Sprintf("%dx%d_s%d_p%d_%dx%dx%dx%d_to%d", c.KH, c.KW, c.Stride, c.Pad, c.B, c.H, c.W, c.Cin, c.Cout)
		if !c.bias {
			name += "_nobias"
		}
		t.Run(name, func(t *testing.T) {
			r := rng(t)
			x := s.activation(r, 1, c.B, c.H, c.W, c.Cin)
			w := s.weight(r, 1/math.Sqrt(float64(c.KH*c.KW*c.Cin)), c.Cout, c.KH, c.KW, c.Cin)
			var bias input
			if c.bias {
				bias = s.weight(r, 0.5, c.Cout)
			}
			ho, wo := c.out()
			rows := sampleRows(c.B*ho*wo, maxCheckedRows)
			want := refConv2D(c.convShape, x.vals, w.vals, bias.vals, rows)
			dst := s.poisoned(s.act, c.B, ho, wo, c.Cout)
			s.b.Conv2D(dst, x.t, w.t, bias.t, c.Stride, c.Pad)
			s.check(t, dst, want)
		})
	}
}

func (s *suite) attention(t *testing.T) {
	type attCase struct {
		b, tq, tk, width, heads int
		causal                  bool
		qStd                    float64 // larger = sharper softmax
	}
	cases := []attCase{
		{2, 64, 64, 320, 5, false, 1},    // self attention, 5 heads of 64
		{2, 64, 77, 640, 10, false, 1},   // cross attention on 77 context tokens
		{1, 16, 154, 1280, 20, false, 1}, // 20 heads, 154 context tokens
		{2, 77, 77, 128, 2, true, 1},     // text encoder, causal, 2 heads
		{1, 77, 77, 64, 1, true, 3},      // causal, one head, sharp
		{1, 33, 33, 48, 3, false, 3},     // head size 16, odd length, sharp
		{2, 1, 5, 64, 1, false, 1},       // a single query
		{1, 130, 7, 40, 5, false, 1},     // more queries than one block, head size 8
		{1, 64, 64, 512, 1, false, 1},    // VAE mid-block: one head of 512
	}
	if s.full {
		cases = append(cases,
			attCase{2, 4096, 4096, 320, 5, false, 1},
			attCase{2, 1024, 1024, 640, 10, false, 1},
			attCase{2, 1024, 77, 640, 10, false, 1},
			attCase{2, 256, 154, 1280, 20, false, 1},
			attCase{1, 4096, 4096, 512, 1, false, 1},
			attCase{1, 77, 77, 1280, 20, true, 1},
		)
	}
	for _, c := range cases {
		name := fmt.Sprintf("B%d_Tq%d_Tk%d_C%d_heads%d", c.b, c.tq, c.tk, c.width, c.heads)
		if c.causal {
			name += "_causal"
		}
		if c.qStd != 1 {
			name += "_sharp"
		}
		t.Run(name, func(t *testing.T) {
			r := rng(t)
			q := s.activation(r, c.qStd, c.b, c.tq, c.width)
			k := s.activation(r, 1, c.b, c.tk, c.width)
			v := s.activation(r, 1, c.b, c.tk, c.width)
			rows := sampleRows(c.b*c.tq, maxCheckedRows)
			want := refAttention(q.vals, k.vals, v.vals, c.b, c.tq, c.tk, c.width, c.heads, c.causal, rows)
			dst := s.poisoned(s.act, c.b, c.tq, c.width)
			s.b.Attention(dst, q.t, k.t, v.t, c.heads, c.causal)
			s.check(t, dst, want)
		})
	}
}
