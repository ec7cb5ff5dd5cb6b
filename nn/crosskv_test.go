package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// TestSpatialTransformerPreparedContext projects a context once and runs
// two different feature maps against it: each gives, bit for bit, what
// Forward gives with the context itself, so the prepared keys and values
// are the ones Forward would compute and survive a call unchanged. The
// strict backend's allocation record shows that ForwardKV frees nothing it
// was given and that FreeKV frees all PrepareContext made.
func TestSpatialTransformerPreparedContext(t *testing.T) {
	const dim, ctxDim, heads, depth = 128, 12, 2, 2
	b := cpu.NewMode(cpu.Strict)
	rng := rand.New(rand.NewPCG(31, 32))
	src := newFakeSource(33)
	addNorm(src, "norm", dim)
	addLinear(src, "proj_in", dim, dim, true)
	for i := range depth {
		addTransformerBlock(src, fmt.Sprintf("transformer_blocks.%d", i), dim, ctxDim)
	}
	addLinear(src, "proj_out", dim, dim, true)
	st := NewSpatialTransformer(dim, ctxDim, heads, depth, 32)
	bind(t, b, src, "", &st)

	mark := b.Mark()
	ctx, _ := input(b, rng, 2, 77, ctxDim)
	kv := st.PrepareContext(b, ctx)
	if len(kv) != depth {
		t.Fatalf("%d prepared contexts for %d blocks", len(kv), depth)
	}
	for _, hw := range [][2]int{{3, 5}, {2, 2}} {
		x, _ := input(b, rng, 2, hw[0], hw[1], dim)
		before := b.Counters()
		prepared := st.ForwardKV(b, x, kv)
		withKV := b.Counters().Sub(before).Launches
		before = b.Counters()
		plain := st.Forward(b, x, ctx)
		withCtx := b.Counters().Sub(before).Launches
		sameBits(t, fmt.Sprintf("%dx%d prepared vs Forward", hw[0], hw[1]), b.ToFloat32(prepared), b.ToFloat32(plain))
		if withCtx-withKV != 2*depth {
			t.Errorf("%dx%d: Forward made %d ops, ForwardKV %d: want 2 per block (to_k, to_v) fewer", hw[0], hw[1], withCtx, withKV)
		}
		for _, x := range []*tensor.Tensor{x, prepared, plain} {
			b.Free(x)
		}
	}
	FreeKV(b, kv)
	b.Free(ctx)
	for _, a := range b.LiveSince(mark) {
		t.Errorf("leak: %v", a)
	}
}
