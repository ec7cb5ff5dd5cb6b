package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

type block64W struct {
	n1, n2, n3   norm64W
	attn1, attn2 attention64W
	ff           ff64W
}

func addTransformerBlock(s *fakeSource, p string, dim, ctx int) block64W {
	return block64W{
		n1: addNorm(s, p+".norm1", dim), attn1: addAttention(s, p+".attn1", dim, dim),
		n2: addNorm(s, p+".norm2", dim), attn2: addAttention(s, p+".attn2", dim, ctx),
		n3: addNorm(s, p+".norm3", dim), ff: addFeedForward(s, p+".ff", dim),
	}
}

func (w block64W) apply(x, ctx []float64, n, dim, ctxDim, heads int) []float64 {
	x = add64(x, w.attn1.apply(layerNorm64(x, dim, w.n1.g, w.n1.b, 1e-5), nil, n, dim, 0, heads))
	x = add64(x, w.attn2.apply(layerNorm64(x, dim, w.n2.g, w.n2.b, 1e-5), ctx, n, dim, ctxDim, heads))
	return add64(x, w.ff.apply(layerNorm64(x, dim, w.n3.g, w.n3.b, 1e-5), dim))
}

func TestSpatialTransformer(t *testing.T) {
	const dim, ctxDim, heads, depth = 128, 12, 2, 2
	b := newCPU()
	rng := rand.New(rand.NewPCG(22, 23))
	for _, hw := range [][2]int{{1, 1}, {3, 5}} {
		src := newFakeSource(24)
		norm := addNorm(src, "norm", dim)
		in := addLinear(src, "proj_in", dim, dim, true)
		blocks := make([]block64W, depth)
		for i := range blocks {
			blocks[i] = addTransformerBlock(src, fmt.Sprintf("transformer_blocks.%d", i), dim, ctxDim)
		}
		out := addLinear(src, "proj_out", dim, dim, true)
		st := NewSpatialTransformer(dim, ctxDim, heads, depth, 32)
		bind(t, b, src, "", &st)

		x, xd := input(b, rng, 2, hw[0], hw[1], dim)
		ctx, cd := input(b, rng, 2, 77, ctxDim)
		h := lin(groupNorm64(xd, 2, dim, 32, norm.g, norm.b, 1e-6, false), dim, in)
		for _, bw := range blocks {
			h = bw.apply(h, cd, 2, dim, ctxDim, heads)
		}
		want := add64(xd, lin(h, dim, out))
		checkClose(t, "spatial transformer", b, st.Forward(b, x, ctx), want, 2, hw[0], hw[1], dim)
	}
}

func TestResBlock(t *testing.T) {
	const embDim, groups = 40, 32
	b := newCPU()
	rng := rand.New(rand.NewPCG(25, 26))
	for _, c := range []struct{ in, out, h, w int }{{64, 96, 5, 3}, {64, 64, 1, 1}} {
		src := newFakeSource(27)
		inNorm := addNorm(src, "in_layers.0", c.in)
		inConv := addConv(src, "in_layers.2", c.in, c.out, 3)
		emb := addLinear(src, "emb_layers.1", embDim, c.out, true)
		outNorm := addNorm(src, "out_layers.0", c.out)
		outConv := addConv(src, "out_layers.3", c.out, c.out, 3)
		var skip linear64W
		if c.in != c.out {
			skip = addConv(src, "skip_connection", c.in, c.out, 1)
		}
		r := NewResBlock(c.in, c.out, embDim, groups)
		bind(t, b, src, "", &r)

		x, xd := input(b, rng, 2, c.h, c.w, c.in)
		e, ed := input(b, rng, 2, embDim)
		h := groupNorm64(xd, 2, c.in, groups, inNorm.g, inNorm.b, 1e-5, true)
		h, _, _ = conv64(h, 2, c.h, c.w, c.in, inConv.w, inConv.b, c.out, 3, 1, 1)
		act := make([]float64, len(ed))
		for i := range ed {
			act[i] = silu64(ed[i])
		}
		proj := lin(act, embDim, emb)
		for i := range h {
			h[i] += proj[(i/(c.h*c.w*c.out))*c.out+i%c.out]
		}
		h = groupNorm64(h, 2, c.out, groups, outNorm.g, outNorm.b, 1e-5, true)
		h, _, _ = conv64(h, 2, c.h, c.w, c.out, outConv.w, outConv.b, c.out, 3, 1, 1)
		res := xd
		if skip.w != nil {
			res, _, _ = conv64(xd, 2, c.h, c.w, c.in, skip.w, skip.b, c.out, 1, 1, 0)
		}
		b.Unary(e, e, tensor.SiLU) // Forward takes the embedding after its SiLU
		checkClose(t, "resblock", b, r.Forward(b, x, e), add64(h, res), 2, c.h, c.w, c.out)

		// The projection read as columns [5, 5+out) of a wider matrix, as a
		// UNet's blocks read theirs from all their projections side by side.
		p := r.Emb.Forward(b, e)
		before, _ := input(b, rng, 2, 5)
		after, _ := input(b, rng, 2, 3)
		head := b.Alloc(tensor.F32, 2, 5+c.out)
		b.Concat(head, before, p)
		wide := b.Alloc(tensor.F32, 2, 5+c.out+3)
		b.Concat(wide, head, after)
		checkClose(t, "resblock, projection columns", b, r.ForwardProjected(b, x, tensor.Columns{Of: wide, From: 5}),
			add64(h, res), 2, c.h, c.w, c.out)
		if skip.w != nil {
			// An up block's input given as its two parts, cat(h, skip) with a
			// cut that splits a GroupNorm group (2 channels each).
			xa, xb := splitChannels(b, xd, c.in, 41, 2, c.h, c.w)
			checkClose(t, "resblock of cat", b, r.ForwardCat(b, xa, xb, e), add64(h, res), 2, c.h, c.w, c.out)
		}
	}
}

// splitChannels makes [B,H,W,c1] and [B,H,W,c−c1] F32 tensors of the
// channels of x [B,H,W,c] before and from c1.
func splitChannels(b tensor.Backend, x []float64, c, c1, n, h, w int) (*tensor.Tensor, *tensor.Tensor) {
	var lo, hi []float32
	for p := 0; p < len(x)/c; p++ {
		for i, v := range x[p*c : (p+1)*c] {
			if i < c1 {
				lo = append(lo, float32(v))
			} else {
				hi = append(hi, float32(v))
			}
		}
	}
	return b.FromFloat32(tensor.F32, tensor.Shape{n, h, w, c1}, lo), b.FromFloat32(tensor.F32, tensor.Shape{n, h, w, c - c1}, hi)
}

func TestDownsample(t *testing.T) {
	b := newCPU()
	src := newFakeSource(28)
	w := addConv(src, "op", 7, 7, 3)
	d := NewDownsample(7)
	bind(t, b, src, "", &d)
	x, xd := input(b, rand.New(rand.NewPCG(29, 30)), 1, 7, 5, 7)
	want, ho, wo := conv64(xd, 1, 7, 5, 7, w.w, w.b, 7, 3, 2, 1)
	if ho != 4 || wo != 3 {
		t.Fatalf("odd sizes must round up: got %dx%d", ho, wo)
	}
	checkClose(t, "downsample", b, d.Forward(b, x), want, 1, 4, 3, 7)
}

// nearest64 follows torch's upsample_nearest2d index rule literally.
func nearest64(x []float64, n, h, w, c, oh, ow int) []float64 {
	idx := func(i, in, out int) int {
		if out == 2*in {
			return i / 2
		}
		s := float32(in) / float32(out)
		return min(int(float32(i)*s), in-1)
	}
	y := make([]float64, n*oh*ow*c)
	for b := 0; b < n; b++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				copy(y[((b*oh+i)*ow+j)*c:][:c], x[((b*h+idx(i, h, oh))*w+idx(j, w, ow))*c:][:c])
			}
		}
	}
	return y
}

func TestUpsample(t *testing.T) {
	b := newCPU()
	rng := rand.New(rand.NewPCG(31, 32))
	for _, c := range []struct{ h, w, oh, ow int }{{3, 5, 6, 10}, {4, 7, 7, 13}, {1, 1, 2, 2}, {2, 3, 3, 6}} {
		src := newFakeSource(33)
		w := addConv(src, "conv", 5, 5, 3)
		u := NewUpsample(5)
		bind(t, b, src, "", &u)
		x, xd := input(b, rng, 2, c.h, c.w, 5)
		big := nearest64(xd, 2, c.h, c.w, 5, c.oh, c.ow)
		checkClose(t, fmt.Sprintf("resize %dx%d->%dx%d", c.h, c.w, c.oh, c.ow), b,
			ResizeNearest(b, x, c.oh, c.ow), big, 2, c.oh, c.ow, 5)
		want, _, _ := conv64(big, 2, c.oh, c.ow, 5, w.w, w.b, 5, 3, 1, 1)
		checkClose(t, "upsample", b, u.Forward(b, x, c.oh, c.ow), want, 2, c.oh, c.ow, 5)
	}
}
