package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// Weight generators: checkpoint-like F16 weights, norm scales near 1 and
// biases that are never zero, so that no parameter is a silent no-op.

type linear64W struct{ w, b []float64 }

func addLinear(s *fakeSource, prefix string, in, out int, bias bool) linear64W {
	l := linear64W{w: s.add(prefix+".weight", tensor.F16, 1/math.Sqrt(float64(in)), 0, out, in)}
	if bias {
		l.b = s.add(prefix+".bias", tensor.F16, 0.1, 0.02, out)
	}
	return l
}

type norm64W struct{ g, b []float64 }

func addNorm(s *fakeSource, prefix string, c int) norm64W {
	return norm64W{g: s.add(prefix+".weight", tensor.F16, 0.1, 1, c), b: s.add(prefix+".bias", tensor.F16, 0.1, 0, c)}
}

func addConv(s *fakeSource, prefix string, in, out, k int) linear64W {
	return linear64W{
		w: s.add(prefix+".weight", tensor.F16, 1/math.Sqrt(float64(in*k*k)), 0, out, in, k, k),
		b: s.add(prefix+".bias", tensor.F16, 0.1, 0.02, out),
	}
}

func lin(x []float64, in int, l linear64W) []float64 { return linear64(x, in, l.w, l.b) }

func TestLinear(t *testing.T) {
	b := newCPU()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, bias := range []bool{true, false} {
		src := newFakeSource(3)
		w := addLinear(src, "p", 13, 6, bias)
		l := NewLinear(13, 6)
		bind(t, b, src, "p.", &l)
		x, xd := input(b, rng, 3, 5, 13)
		checkClose(t, "linear", b, l.Forward(b, x), lin(xd, 13, w), 3, 5, 6)
	}
}

func TestLinearFrom1x1Conv(t *testing.T) {
	b := newCPU()
	src := newFakeSource(4)
	w := addConv(src, "q", 9, 7, 1)
	l := NewLinearFrom1x1Conv(9, 7)
	bind(t, b, src, "q.", &l)
	x, xd := input(b, rand.New(rand.NewPCG(5, 6)), 1, 11, 9)
	checkClose(t, "1x1 conv as linear", b, l.Forward(b, x), lin(xd, 9, w), 1, 11, 7)
}

func TestConv2D(t *testing.T) {
	b := newCPU()
	rng := rand.New(rand.NewPCG(7, 8))
	cases := []struct{ h, w, k, stride, pad int }{
		{7, 5, 3, 1, 1}, {7, 5, 3, 2, 1}, {1, 1, 3, 1, 1}, {6, 4, 1, 1, 0}, {8, 6, 3, 2, 0},
	}
	for _, c := range cases {
		src := newFakeSource(9)
		w := addConv(src, "c", 5, 3, c.k)
		conv := NewConv2D(5, 3, c.k, c.stride, c.pad)
		bind(t, b, src, "c.", &conv)
		if conv.Weight.DType() != tensor.F16 {
			t.Fatalf("repacked weight is %v, want F16 kept", conv.Weight.DType())
		}
		x, xd := input(b, rng, 2, c.h, c.w, 5)
		want, ho, wo := conv64(xd, 2, c.h, c.w, 5, w.w, w.b, 3, c.k, c.stride, c.pad)
		checkClose(t, "conv", b, conv.Forward(b, x), want, 2, ho, wo, 3)
	}
}

func TestGroupNorm(t *testing.T) {
	b := newCPU()
	rng := rand.New(rand.NewPCG(10, 11))
	for _, c := range []struct {
		channels, groups int
		silu             bool
	}{{96, 32, false}, {96, 32, true}, {9, 3, true}, {32, 32, false}} {
		src := newFakeSource(12)
		nw := addNorm(src, "n", c.channels)
		g := NewGroupNorm(c.channels, c.groups, 1e-6, c.silu)
		bind(t, b, src, "n.", &g)
		x, xd := input(b, rng, 2, 3, 1, c.channels)
		want := groupNorm64(xd, 2, c.channels, c.groups, nw.g, nw.b, 1e-6, c.silu)
		checkClose(t, "groupnorm", b, g.Forward(b, x), want, 2, 3, 1, c.channels)
	}
}

func TestLayerNorm(t *testing.T) {
	b := newCPU()
	src := newFakeSource(13)
	nw := addNorm(src, "n", 19)
	l := NewLayerNorm(19, 1e-5)
	bind(t, b, src, "n.", &l)
	x, xd := input(b, rand.New(rand.NewPCG(14, 15)), 2, 77, 19)
	checkClose(t, "layernorm", b, l.Forward(b, x), layerNorm64(xd, 19, nw.g, nw.b, 1e-5), 2, 77, 19)
}

type attention64W struct{ q, k, v, out linear64W }

func addAttention(s *fakeSource, prefix string, dim, ctx int) attention64W {
	return attention64W{
		q:   addLinear(s, prefix+".to_q", dim, dim, false),
		k:   addLinear(s, prefix+".to_k", ctx, dim, false),
		v:   addLinear(s, prefix+".to_v", ctx, dim, false),
		out: addLinear(s, prefix+".to_out.0", dim, dim, true),
	}
}

func (a attention64W) apply(x, ctx []float64, n, dim, ctxDim, heads int) []float64 {
	if ctx == nil {
		ctx, ctxDim = x, dim
	}
	o := attention64(lin(x, dim, a.q), lin(ctx, ctxDim, a.k), lin(ctx, ctxDim, a.v), n, heads, dim)
	return lin(o, dim, a.out)
}

func TestAttention(t *testing.T) {
	b := newCPU()
	rng := rand.New(rand.NewPCG(16, 17))
	src := newFakeSource(18)
	self := addAttention(src, "attn1", 128, 128)
	cross := addAttention(src, "attn2", 128, 24)
	layers := struct {
		Self  Attention `weight:"attn1"`
		Cross Attention `weight:"attn2"`
	}{NewAttention(128, 128, 2), NewAttention(128, 24, 2)}
	bind(t, b, src, "", &layers)
	x, xd := input(b, rng, 2, 5, 128)
	ctx, cd := input(b, rng, 2, 77, 24)
	checkClose(t, "self-attention", b, layers.Self.Forward(b, x, nil), self.apply(xd, nil, 2, 128, 0, 2), 2, 5, 128)
	checkClose(t, "cross-attention", b, layers.Cross.Forward(b, x, ctx), cross.apply(xd, cd, 2, 128, 24, 2), 2, 5, 128)
}

type ff64W struct{ proj, out linear64W }

func addFeedForward(s *fakeSource, prefix string, dim int) ff64W {
	return ff64W{proj: addLinear(s, prefix+".net.0.proj", dim, 8*dim, true), out: addLinear(s, prefix+".net.2", 4*dim, dim, true)}
}

func (f ff64W) apply(x []float64, dim int) []float64 {
	h := lin(x, dim, f.proj)
	inner := 4 * dim
	g := make([]float64, len(h)/2)
	for r := 0; r < len(g)/inner; r++ {
		for i := 0; i < inner; i++ {
			g[r*inner+i] = h[r*2*inner+i] * gelu64(h[r*2*inner+inner+i])
		}
	}
	return lin(g, inner, f.out)
}

func TestFeedForward(t *testing.T) {
	b := newCPU()
	src := newFakeSource(19)
	w := addFeedForward(src, "ff", 24)
	f := NewFeedForward(24, 96)
	bind(t, b, src, "ff.", &f)
	x, xd := input(b, rand.New(rand.NewPCG(20, 21)), 2, 7, 24)
	checkClose(t, "geglu feed-forward", b, f.Forward(b, x), w.apply(xd, 24), 2, 7, 24)
}
