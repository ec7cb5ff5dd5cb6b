package sdxl

import (
	"os"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
	"github.com/gosdxl/gosdxl/weights"
)

// bindRandomFullSizeUNet binds the full-size UNet from a randomSource,
// making each tensor's values as the binder uploads it.
func bindRandomFullSizeUNet(t testing.TB, b tensor.Backend) *UNet {
	t.Helper()
	u := NewUNet(sdxlBaseUNetConfig)
	bindPart(t, b, newRandomSource(t, weights.UNetPrefix), weights.UNetPrefix, u)
	return u
}

var fullSizeShape = unetInputShape{batch: 2, h: 32, w: 32, in: 4, tokens: 77, ctx: 2048, pooled: 1280}

// TestUNetFullSizeFinite binds every UNet tensor of the real SDXL manifest
// (random F16 values, ~5 GB) and checks one 32×32 forward for NaN/Inf.
// Opt-in: GOSDXL_FULLSIZE=1.
func TestUNetFullSizeFinite(t *testing.T) {
	if os.Getenv("GOSDXL_FULLSIZE") != "1" {
		t.Skip("set GOSDXL_FULLSIZE=1 to run the full-size UNet (~5 GB of random weights)")
	}
	b := newTestCPU(t)
	u := bindRandomFullSizeUNet(t, b)
	in := unetRandomInput(b, fullSizeShape)
	out := u.Forward(b, in)
	if want := (tensor.Shape{2, 32, 32, 4}); !out.Shape().Equal(want) {
		t.Fatalf("output %v, want %v", out.Shape(), want)
	}
	checkFinite(t, "full-size UNet output", b.ToFloat32(out))
	b.Free(out)
	freeInputs(b, in)
}

func BenchmarkUNetTiny(bm *testing.B) {
	b := cpu.New()
	u := bindTinyUNet(bm, b)
	in := unetRandomInput(b, unetInputShape{batch: 2, h: 16, w: 24, in: 4, tokens: 77, ctx: 192, pooled: 96})
	bm.ResetTimer()
	for bm.Loop() {
		b.Free(u.Forward(b, in))
	}
}

// BenchmarkUNetFullSize32 is one full-size SDXL UNet forward (random F16
// weights), batch 2, 32×32 latent, 77 context tokens.
func BenchmarkUNetFullSize32(bm *testing.B) {
	b := cpu.New()
	u := bindRandomFullSizeUNet(bm, b)
	in := unetRandomInput(b, fullSizeShape)
	bm.ResetTimer()
	for bm.Loop() {
		b.Free(u.Forward(b, in))
	}
}
