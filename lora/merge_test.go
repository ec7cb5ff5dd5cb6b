package lora

import (
	"math"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/gosdxl/gosdxl/internal/loratest"
	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
	"github.com/gosdxl/gosdxl/weights"
)

// repackedSource presents one conv weight already channels-last, as a
// loader that repacks at load would.
type repackedSource struct {
	weights.Source
	name string
}

func (s repackedSource) Lookup(name string) (weights.Entry, bool) {
	e, ok := s.Source.Lookup(name)
	if !ok || name != s.name {
		return e, ok
	}
	raw, _ := e.Bytes()
	_, packed, _ := weights.ConvToChannelsLast(e.Shape, raw, e.DType.Size())
	return weights.Entry{DType: e.DType, Shape: channelsLastShape(e.Shape),
		Bytes: func() ([]byte, error) { return packed, nil }}, true
}

// A LoCon merged into a 3×3 conv bound channels-last lands on the right
// elements whichever layout the source gives, and unmerging restores the
// bound bytes exactly.
func TestMergeConvLayouts(t *testing.T) {
	c, err := weights.OpenCheckpoint(refdata.TinyCheckpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tensors := listTensors(c)
	ck, _, err := loratest.Read(refdata.TinyCheckpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	const name = weights.UNetPrefix + "input_blocks.4.0.in_layers.2.weight" // [128, 64, 3, 3]
	bld := &loratest.Builder{Ckpt: ck, R: rand.New(rand.NewSource(1)), DT: "F32"}
	mod := bld.LoRA(loratest.Target{Canonical: name, Key: "lora_unet_input_blocks_4_0_in_layers_2"}, 4, 2, false)
	path := filepath.Join(t.TempDir(), "conv.safetensors")
	if err := loratest.Write(path, (&loratest.Adapter{Modules: []*loratest.Module{mod}}).File(), nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	delta, _, cols := mod.Delta()
	w := ck.Tensors[name]
	o, in, kh, kw := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]

	for _, src := range []weights.Source{c, repackedSource{c, name}} {
		b := cpu.New()
		e, _ := c.Lookup(name)
		raw, _ := e.Bytes()
		shape, packed, _ := weights.ConvToChannelsLast(e.Shape, raw, e.DType.Size())
		bound := b.FromRaw(e.DType, shape, packed)
		before := bits(b.ToFloat32(bound))
		slot := &bound
		mg := NewMerger(Weights{Backend: b, Source: src, Tensors: tensors, Slots: map[string]**tensor.Tensor{name: slot}})
		const strength = -0.7
		if err := mg.Apply([]Use{{File: f, Name: "conv", UNet: strength, Text: 1}}); err != nil {
			t.Fatal(err)
		}
		got := b.ToFloat32(*slot)
		for oc := 0; oc < o; oc++ {
			for ic := 0; ic < in; ic++ {
				for y := 0; y < kh; y++ {
					for x := 0; x < kw; x++ {
						torch := ((oc*in+ic)*kh+y)*kw + x
						want := loratest.Round("F16", w.V[torch]+strength*delta[oc*cols+(ic*kh+y)*kw+x])
						if g := got[((oc*kh+y)*kw+x)*in+ic]; math.Abs(float64(g)-want) > math.Abs(want)*1e-3+1e-6 {
							t.Fatalf("element (%d,%d,%d,%d): %v, want %v", oc, ic, y, x, g, want)
						}
					}
				}
			}
		}
		if err := mg.Unmerge(); err != nil {
			t.Fatal(err)
		}
		after := bits(b.ToFloat32(*slot))
		for i := range before {
			if after[i] != before[i] {
				t.Fatalf("element %d: %08x after unmerging, %08x before", i, after[i], before[i])
			}
		}
	}
}

func bits(v []float32) []uint32 {
	out := make([]uint32, len(v))
	for i, x := range v {
		out[i] = math.Float32bits(x)
	}
	return out
}
