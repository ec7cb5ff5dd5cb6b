//go:build cuda

package sdxl

import (
	"fmt"
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// The tiny model end to end on the GPU against the diffusers goldens:
// every network at the precision the pipeline uses there (text encoders
// and VAE F32, UNet F16), plus the VAE in BF16 and the UNet in F32 (which
// separates kernel bugs from fp16 rounding). Bounds: gpu_tolerance_cuda_test.go.

func TestGPUTinyTextEncoders(t *testing.T) {
	b := newGPU(t)
	checkTextEncoderGoldens(t, b, tinyTextEncoders(t, b, 0))
}

func TestGPUTinyUNet(t *testing.T) {
	b := newGPU(t)
	u := bindTinyUNet(t, b)
	for _, c := range []struct {
		dt  tensor.DType
		tol float64
	}{{tensor.F16, gpuUNetF16Tol}, {tensor.F32, componentTol}} {
		for i := 0; i < 3; i++ {
			prefix := fmt.Sprintf("unet/%d/", i)
			in := unetInputAs(b, unetGoldenInput(t, b, prefix), c.dt)
			out := u.Forward(b, in)
			if out.DType() != c.dt { // else the F16 bound would be checking F32 arithmetic
				t.Fatalf("UNet output is %v for %v input", out.DType(), c.dt)
			}
			rel := relL2NCHW(t, b, out, golden(t, prefix+"out"))
			syncOrFatal(t, b)
			checkRel(t, fmt.Sprintf("%v %sout", c.dt, prefix), rel, c.tol)
		}
	}
}

func TestGPUTinyVAE(t *testing.T) {
	b := newGPU(t)
	stored := bindTinyVAE(t, b)
	// The VAE as the GPU loads it by default: weights converted to BF16.
	converted := NewVAE(tinyVAEConfig)
	bd := weights.NewBinder(b, openTinyCheckpoint(t))
	bd.BindAs(weights.VAEPrefix, converted, tensor.BF16)
	freeAtEnd(t, b, bd.Tensors()...)
	requireAllBound(t, bd, weights.VAEPrefix)
	for _, c := range []struct {
		name              string
		v                 *VAE
		dt                tensor.DType
		decodeTol, encTol float64
	}{
		{"F32", stored, tensor.F32, componentTol, componentTol},
		{"BF16", stored, tensor.BF16, gpuVAEBF16DecodeTol, gpuVAEBF16EncodeTol},
		{"BF16 weights+activations", converted, tensor.BF16, gpuVAEBF16DecodeTol, gpuVAEBF16EncodeTol},
	} {
		v := c.v
		z := toDType(b, nchwTensor(b, golden(t, "vae/decode/z")), c.dt)
		rel := relL2NCHW(t, b, v.Decode(b, z), golden(t, "vae/decode/out"))
		syncOrFatal(t, b)
		checkRel(t, fmt.Sprintf("%s vae/decode/out", c.name), rel, c.decodeTol)

		img := toDType(b, nchwTensor(b, golden(t, "vae/encode/image")), c.dt)
		mean, logvar := v.Encode(b, img)
		relMean := relL2NCHW(t, b, mean, golden(t, "vae/encode/mean"))
		relLogvar := relL2NCHW(t, b, logvar, golden(t, "vae/encode/logvar"))
		syncOrFatal(t, b)
		checkRel(t, fmt.Sprintf("%s vae/encode/mean", c.name), relMean, c.encTol)
		checkRel(t, fmt.Sprintf("%s vae/encode/logvar", c.name), relLogvar, c.encTol)
	}
}

// TestGPUTinyPipeline is the whole t2i_euler_a_6 case with the UNet in F16
// and everything else in float32 (gen --vae-precision fp32): text
// encoders, six CFG UNet calls, VAE decode, PNG.
func TestGPUTinyPipeline(t *testing.T) {
	b := newGPU(t)
	p := Precision{Text: tensor.F32, UNet: tensor.F16, VAE: tensor.F32}
	m, err := LoadModelWith(refdata.TinyCheckpoint(t), b, LoadOptions{Precision: p})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	latents, db := runPipelineCase(t, m, "t2i_euler_a_6")
	checkRel(t, "t2i_euler_a_6 final latents", latents, gpuPipeF16LatentsTol)
	checkPSNR(t, "t2i_euler_a_6", db, gpuPipeF16MinPSNR)
	if s := b.Stats(); s.PeakInUseBytes > 0 {
		t.Logf("tiny pipeline: %v", s)
	}
}

// TestGPUTinyPipelineDefaultPrecision is the same case at the GPU's default
// precision: the text encoders in F16 and the VAE in BF16, their weights
// converted at load, on the tensor-core kernels. The latents keep the
// UNet's bound (the F16 text encoders' share is a tenth of the UNet's:
// TestHalfSimTextSpread); the image carries the VAE's BF16 rounding.
func TestGPUTinyPipelineDefaultPrecision(t *testing.T) {
	b := newGPU(t)
	m, err := LoadModel(refdata.TinyCheckpoint(t), b)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want := Precision{Text: tensor.F16, UNet: tensor.F16, VAE: tensor.BF16}
	if m.Precision != want {
		t.Fatalf("GPU precision %+v, this test's bounds are for %+v", m.Precision, want)
	}
	if dt := m.vae.PostQuantConv.Weight.DType(); dt != tensor.BF16 {
		t.Fatalf("VAE weights bound as %v, want BF16 (converted at load)", dt)
	}
	if dt := m.text.BigG.Layers[0].FC.Weight.DType(); dt != tensor.F16 {
		t.Fatalf("text encoder weights bound as %v, want F16 (converted at load)", dt)
	}
	latents, db := runPipelineCase(t, m, "t2i_euler_a_6")
	checkRel(t, "t2i_euler_a_6 final latents", latents, gpuPipeF16LatentsTol)
	checkPSNR(t, "t2i_euler_a_6 (BF16 VAE)", db, gpuPipeBF16VAEMinPSNR)
}

func checkPSNR(t *testing.T, what string, db, bound float64) {
	t.Helper()
	if !(db >= bound) {
		t.Errorf("%s: PSNR %.1f dB against the reference PNG, want ≥ %.0f dB", what, db, bound)
	} else {
		t.Logf("%s: PSNR %.1f dB against the reference PNG (bound %.0f dB)", what, db, bound)
	}
}
