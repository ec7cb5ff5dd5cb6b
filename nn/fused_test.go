package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// fusingBackend is the CPU backend plus the optional fused interfaces, as a
// GPU backend offers them. Each fused method computes its documented
// meaning from the CPU's own operations (into a temporary, so a residual
// that is dst itself is read before it is overwritten) and is counted, so
// tests can see which path nn took and compare it with the plain CPU run.
type fusingBackend struct {
	tensor.Backend
	decline      bool // answer false to every call, as a backend lacking the case
	asked        int  // fused calls received, run or declined
	linear, conv int  // fused calls that ran
	geglu        int
	norm         int // tensor.FusedRowNorm calls that ran
}

var (
	_ tensor.FusedLinear       = (*fusingBackend)(nil)
	_ tensor.FusedLinearAddAct = (*fusingBackend)(nil)
	_ tensor.FusedConv2D       = (*fusingBackend)(nil)
	_ tensor.FusedGEGLU        = (*fusingBackend)(nil)
)

func (f *fusingBackend) LinearGEGLU(dst, x, w, bias *tensor.Tensor) bool {
	f.asked++
	if f.decline {
		return false
	}
	f.geglu++
	shape := dst.Shape().Clone()
	shape[len(shape)-1] *= 2
	h := f.Alloc(dst.DType(), shape...)
	f.Linear(h, x, w, bias)
	f.GEGLU(dst, h)
	f.Free(h)
	return true
}

func (f *fusingBackend) LinearFused(dst, x, w, bias, residual *tensor.Tensor, act tensor.UnaryOp) bool {
	f.asked++
	if f.decline {
		return false
	}
	f.linear++
	out := f.Alloc(dst.DType(), dst.Shape()...)
	f.Linear(out, x, w, bias)
	if act != tensor.NoActivation {
		f.Unary(out, out, act)
	}
	f.finish(dst, out, residual)
	return true
}

func (f *fusingBackend) LinearAddAct(dst, x, w, bias, residual *tensor.Tensor, act tensor.UnaryOp) bool {
	f.asked++
	if f.decline {
		return false
	}
	f.linear++
	out := f.Alloc(dst.DType(), dst.Shape()...)
	f.Linear(out, x, w, bias)
	f.Binary(out, out, residual, tensor.Add)
	f.Unary(out, out, act)
	f.Cast(dst, out)
	f.Free(out)
	return true
}

func (f *fusingBackend) Conv2DResidual(dst, x, w, bias, residual *tensor.Tensor, stride, pad int) bool {
	f.asked++
	if f.decline {
		return false
	}
	f.conv++
	out := f.Alloc(dst.DType(), dst.Shape()...)
	f.Conv2D(out, x, w, bias, stride, pad)
	f.finish(dst, out, residual)
	return true
}

// finish adds the residual to out and copies the sum into dst.
func (f *fusingBackend) finish(dst, out, residual *tensor.Tensor) {
	if residual != nil {
		f.Binary(out, out, residual, tensor.Add)
	}
	f.Cast(dst, out)
	f.Free(out)
}

// layerRun runs one layer's Forward on the given backend.
type layerRun func(b tensor.Backend) *tensor.Tensor

// fusedCase builds a layer with random weights bound on the CPU backend,
// and says how many fused calls of each kind one Forward makes.
type fusedCase struct {
	name                      string
	linear, conv, geglu, norm int
	build                     func(t *testing.T) layerRun
}

func fusedCases() []fusedCase {
	resBlock := func(in, out int) func(t *testing.T) layerRun {
		return func(t *testing.T) layerRun {
			b := newCPU()
			src := newFakeSource(41)
			addNorm(src, "in_layers.0", in)
			addConv(src, "in_layers.2", in, out, 3)
			addLinear(src, "emb_layers.1", 24, out, true)
			addNorm(src, "out_layers.0", out)
			addConv(src, "out_layers.3", out, out, 3)
			if in != out {
				addConv(src, "skip_connection", in, out, 1)
			}
			r := NewResBlock(in, out, 24, 32)
			bind(t, b, src, "", &r)
			rng := rand.New(rand.NewPCG(42, 43))
			x, _ := input(b, rng, 2, 3, 5, in)
			e, _ := input(b, rng, 2, 24)
			return func(b tensor.Backend) *tensor.Tensor { return r.Forward(b, x, e) }
		}
	}
	return []fusedCase{
		{"resblock", 0, 1, 0, 0, resBlock(64, 64)},
		{"resblock with skip conv", 0, 1, 0, 0, resBlock(32, 64)},
		// Per block: three output linears with their residual, and the three
		// LayerNorms into the q/k/v, the query and the GEGLU projection.
		{"spatial transformer", 2*3 + 1, 0, 0, 2 * 3, func(t *testing.T) layerRun {
			const dim, ctxDim, heads, depth = 64, 12, 2, 2
			b := newCPU()
			src := newFakeSource(44)
			addNorm(src, "norm", dim)
			addLinear(src, "proj_in", dim, dim, true)
			for i := 0; i < depth; i++ {
				addTransformerBlock(src, fmt.Sprintf("transformer_blocks.%d", i), dim, ctxDim)
			}
			addLinear(src, "proj_out", dim, dim, true)
			st := NewSpatialTransformer(dim, ctxDim, heads, depth, 32)
			bind(t, b, src, "", &st)
			rng := rand.New(rand.NewPCG(45, 46))
			x, _ := input(b, rng, 2, 3, 4, dim)
			ctx, _ := input(b, rng, 2, 7, ctxDim)
			return func(b tensor.Backend) *tensor.Tensor { return st.Forward(b, x, ctx) }
		}},
	}
}

// TestFusedPathMatchesComposite runs each layer on the plain CPU backend
// (composite path), on a backend whose fused ops run, and on one whose
// fused ops decline: the three outputs must be bit-identical, and the
// fused ops must have been used exactly where nn means to use them.
func TestFusedPathMatchesComposite(t *testing.T) {
	for _, c := range fusedCases() {
		t.Run(c.name, func(t *testing.T) {
			forward := c.build(t)
			plain := newCPU()
			want := plain.ToFloat32(forward(plain))

			fused := &fusingBackend{Backend: plain}
			sameBits(t, "fused", fused.ToFloat32(forward(fused)), want)
			if fused.linear != c.linear || fused.conv != c.conv || fused.geglu != c.geglu || fused.norm != c.norm {
				t.Errorf("fused calls: %d linear, %d conv, %d GEGLU, %d normed; want %d, %d, %d, %d",
					fused.linear, fused.conv, fused.geglu, fused.norm, c.linear, c.conv, c.geglu, c.norm)
			}

			declining := &fusingBackend{Backend: plain, decline: true}
			sameBits(t, "declined", declining.ToFloat32(forward(declining)), want)
			// A declined normed call falls back to the plain operation's
			// path, which asks again for the feed-forward's GEGLU and, for
			// the cross-attention, the normed query projection (two of each
			// block's three).
			if want := c.linear + c.conv + c.geglu + c.norm + 2*c.norm/3; declining.asked != want {
				t.Errorf("declining backend asked %d times, want %d", declining.asked, want)
			}
		})
	}
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: value %d is %v, composite gives %v", what, i, got[i], want[i])
		}
	}
}

func quickGelu64(v float64) float64 { return v / (1 + math.Exp(-1.702*v)) }

// TestLinearIntoAgainstFloat64 checks both paths of linearInto against a
// float64 act(x·wᵀ + bias) + residual, including a residual that is dst
// itself, which the composite must not overwrite before adding.
func TestLinearIntoAgainstFloat64(t *testing.T) {
	acts := []struct {
		op tensor.UnaryOp
		f  func(float64) float64
	}{
		{tensor.NoActivation, func(v float64) float64 { return v }},
		{tensor.SiLU, silu64}, {tensor.GELU, gelu64}, {tensor.QuickGELU, quickGelu64},
	}
	const in, out = 19, 11
	src := newFakeSource(47)
	w := addLinear(src, "l", in, out, true)
	l := NewLinear(in, out)
	bind(t, newCPU(), src, "l.", &l)
	rng := rand.New(rand.NewPCG(48, 49))
	for _, b := range []tensor.Backend{newCPU(), &fusingBackend{Backend: newCPU()}} {
		for _, a := range acts {
			for _, res := range []string{"none", "separate", "dst"} {
				x, xd := input(b, rng, 2, 3, in)
				r, rd := input(b, rng, 2, 3, out)
				want := lin(xd, in, w)
				for i := range want {
					want[i] = a.f(want[i])
				}
				var dst, residual *tensor.Tensor
				switch res {
				case "none":
					dst = b.Alloc(tensor.F32, 2, 3, out)
				case "separate":
					dst, residual, want = b.Alloc(tensor.F32, 2, 3, out), r, add64(want, rd)
				case "dst":
					dst, residual, want = r, r, add64(want, rd)
				}
				linearInto(b, dst, x, l.Weight, l.Bias, residual, a.op)
				checkClose(t, fmt.Sprintf("%T %v residual %s", b, a.op, res), b, dst, want, 2, 3, out)
			}
		}
	}
}

// TestLinearAddActAgainstFloat64 checks linearAddActInto, composed and
// fused, against a float64 act(x·wᵀ + bias + residual): the residual is
// added before the activation, also when it is dst itself.
func TestLinearAddActAgainstFloat64(t *testing.T) {
	const in, out = 19, 11
	src := newFakeSource(53)
	w := addLinear(src, "l", in, out, true)
	l := NewLinear(in, out)
	bind(t, newCPU(), src, "l.", &l)
	rng := rand.New(rand.NewPCG(54, 55))
	for _, b := range []tensor.Backend{newCPU(), &fusingBackend{Backend: newCPU()}, &fusingBackend{Backend: newCPU(), decline: true}} {
		for _, inPlace := range []bool{false, true} {
			x, xd := input(b, rng, 2, 3, in)
			r, rd := input(b, rng, 2, 3, out)
			want := add64(lin(xd, in, w), rd)
			for i := range want {
				want[i] = silu64(want[i])
			}
			dst := r
			if !inPlace {
				dst = b.Alloc(tensor.F32, 2, 3, out)
			}
			linearAddActInto(b, dst, x, l.Weight, l.Bias, r, tensor.SiLU)
			checkClose(t, fmt.Sprintf("%T in place %v", b, inPlace), b, dst, want, 2, 3, out)
		}
	}
}

// TestConv2DIntoAgainstFloat64 is the same check for conv2DInto, with a
// strided, padded convolution.
func TestConv2DIntoAgainstFloat64(t *testing.T) {
	const in, out, k, stride, pad = 6, 5, 3, 2, 1
	src := newFakeSource(50)
	w := addConv(src, "c", in, out, k)
	c := NewConv2D(in, out, k, stride, pad)
	bind(t, newCPU(), src, "c.", &c)
	rng := rand.New(rand.NewPCG(51, 52))
	for _, b := range []tensor.Backend{newCPU(), &fusingBackend{Backend: newCPU()}} {
		for _, res := range []string{"none", "separate", "dst"} {
			x, xd := input(b, rng, 2, 7, 4, in)
			want, ho, wo := conv64(xd, 2, 7, 4, in, w.w, w.b, out, k, stride, pad)
			r, rd := input(b, rng, 2, ho, wo, out)
			var dst, residual *tensor.Tensor
			switch res {
			case "none":
				dst = b.Alloc(tensor.F32, 2, ho, wo, out)
			case "separate":
				dst, residual, want = b.Alloc(tensor.F32, 2, ho, wo, out), r, add64(want, rd)
			case "dst":
				dst, residual, want = r, r, add64(want, rd)
			}
			conv2DInto(b, dst, x, &c, residual)
			checkClose(t, fmt.Sprintf("%T residual %s", b, res), b, dst, want, 2, ho, wo, out)
		}
	}
}
