package sdxl

import (
	"math"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// bindTinyVAE binds the tiny checkpoint's VAE and fails unless every
// first_stage_model.* tensor was used.
func bindTinyVAE(t testing.TB, b tensor.Backend) *VAE {
	t.Helper()
	v := NewVAE(tinyVAEConfig)
	bindPart(t, b, openTinyCheckpoint(t), weights.VAEPrefix, v)
	return v
}

func TestVAEDecodeMatchesDiffusers(t *testing.T) {
	b := newTestCPU(t)
	v := bindTinyVAE(t, b)
	latents := golden(t, "vae/decode/latents")
	z := golden(t, "vae/decode/z")
	// The pipeline divides by VAEScale; check the constant against the golden.
	for i := range z.data {
		if want := latents.data[i] / VAEScale; z.data[i] != want {
			t.Fatalf("z[%d] = %v, latents/VAEScale = %v", i, z.data[i], want)
		}
	}
	zt := nchwTensor(b, z)
	out := v.Decode(b, zt)
	compareNCHW(t, "vae/decode/out", b, out, golden(t, "vae/decode/out"))
	b.Free(zt)
	b.Free(out)
}

func TestVAEEncodeMatchesDiffusers(t *testing.T) {
	b := newTestCPU(t)
	v := bindTinyVAE(t, b)
	img := nchwTensor(b, golden(t, "vae/encode/image"))
	mean, logvar := v.Encode(b, img)
	compareNCHW(t, "vae/encode/mean", b, mean, golden(t, "vae/encode/mean"))
	compareNCHW(t, "vae/encode/logvar", b, logvar, golden(t, "vae/encode/logvar"))

	lv := b.ToFloat32(logvar)
	std := make([]float32, len(lv))
	for i, x := range lv {
		std[i] = float32(math.Exp(float64(x) / 2))
	}
	s := logvar.Shape()
	st := b.FromFloat32(tensor.F32, s, std)
	compareNCHW(t, "vae/encode/std", b, st, golden(t, "vae/encode/std"))
	for _, x := range []*tensor.Tensor{img, mean, logvar, st} {
		b.Free(x)
	}
}

func TestVAEEncodeRejectsBadImage(t *testing.T) {
	b := newTestCPU(t)
	v := NewVAE(tinyVAEConfig)
	for _, shape := range []tensor.Shape{{1, 12, 16, 3}, {1, 16, 16, 4}, {16, 16, 3}} {
		img := b.Alloc(tensor.F32, shape...)
		if err := v.CheckEncodeInput(img); err == nil {
			t.Errorf("image %v accepted", shape)
		}
		b.Free(img)
	}
}
