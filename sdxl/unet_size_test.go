package sdxl

import (
	"math"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// unetRandomInput is a finite, SDXL-like call on random data.
func unetRandomInput(b tensor.Backend, cfg unetInputShape) UNetInput {
	n := func(count int, scale float32) []float32 {
		v := make([]float32, count)
		x := uint32(12345)
		for i := range v {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			v[i] = (float32(x)/math.MaxUint32*2 - 1) * scale
		}
		return v
	}
	ids := make([][6]float32, cfg.batch)
	steps := make([]float32, cfg.batch)
	for i := range ids {
		ids[i] = [6]float32{1024, 1024, 0, 0, 1024, 1024}
		steps[i] = 500
	}
	return UNetInput{
		Sample:     b.FromFloat32(tensor.F32, tensor.Shape{cfg.batch, cfg.h, cfg.w, cfg.in}, n(cfg.batch*cfg.h*cfg.w*cfg.in, 1)),
		Timesteps:  steps,
		Context:    b.FromFloat32(tensor.F32, tensor.Shape{cfg.batch, cfg.tokens, cfg.ctx}, n(cfg.batch*cfg.tokens*cfg.ctx, 1)),
		TextEmbeds: b.FromFloat32(tensor.F32, tensor.Shape{cfg.batch, cfg.pooled}, n(cfg.batch*cfg.pooled, 1)),
		TimeIDs:    ids,
	}
}

type unetInputShape struct{ batch, h, w, in, tokens, ctx, pooled int }

// Latent sizes that are not multiples of 4 (the tiny UNet downsamples
// twice) take diffusers' forward_upsample_size path: downsampling rounds
// up and each upsample targets its skip connection's size.
func TestUNetOddLatentSizes(t *testing.T) {
	b := newTestCPU(t)
	u := bindTinyUNet(t, b)
	for _, hw := range [][2]int{{13, 10}, {9, 7}, {1, 1}} {
		in := unetRandomInput(b, unetInputShape{batch: 1, h: hw[0], w: hw[1], in: 4, tokens: 154, ctx: 192, pooled: 96})
		out := u.Forward(b, in)
		if want := (tensor.Shape{1, hw[0], hw[1], 4}); !out.Shape().Equal(want) {
			t.Fatalf("output %v, want %v", out.Shape(), want)
		}
		checkFinite(t, "odd-size UNet output", b.ToFloat32(out))
		b.Free(out)
		freeInputs(b, in)
	}
}

func TestUNetValidateRejectsBadInput(t *testing.T) {
	b := newTestCPU(t)
	u := NewUNet(tinyUNetConfig)
	good := unetInputShape{batch: 2, h: 8, w: 8, in: 4, tokens: 77, ctx: 192, pooled: 96}
	valid := unetRandomInput(b, good)
	if err := u.Validate(valid); err != nil {
		t.Fatalf("valid input rejected: %v", err)
	}
	freeInputs(b, valid)
	bad := []struct {
		name string
		edit func(*UNetInput)
	}{
		{"context of 76 tokens", func(in *UNetInput) {
			in.Context = b.Alloc(tensor.F32, 2, 76, 192)
		}},
		{"context width", func(in *UNetInput) { in.Context = b.Alloc(tensor.F32, 2, 77, 128) }},
		{"one timestep for batch 2", func(in *UNetInput) { in.Timesteps = in.Timesteps[:1] }},
		{"missing time ids", func(in *UNetInput) { in.TimeIDs = nil }},
		{"pooled width", func(in *UNetInput) { in.TextEmbeds = b.Alloc(tensor.F32, 2, 95) }},
		{"sample channels", func(in *UNetInput) { in.Sample = b.Alloc(tensor.F32, 2, 8, 8, 3) }},
		{"no sample", func(in *UNetInput) { in.Sample = nil }},
	}
	for _, c := range bad {
		in := unetRandomInput(b, good)
		orig := in
		c.edit(&in)
		if err := u.Validate(in); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
		freeInputs(b, orig, in)
	}
}

// A UNet width that is not a whole number of 64-wide heads is a
// configuration the loader can infer from a file's shapes; it must come
// back as an error naming the width, not a panic while the layers are
// declared.
func TestUnsupportedUNetWidthIsAnError(t *testing.T) {
	cfg := weights.Config{UNet: tinyUNetConfig}
	cfg.UNet.Channels = append([]int{96}, tinyUNetConfig.Channels[1:]...)
	_, err := ExpectedTensors(cfg)
	if err == nil || !strings.Contains(err.Error(), "width 96") {
		t.Fatalf("ExpectedTensors: err %v, want one naming width 96", err)
	}
}
