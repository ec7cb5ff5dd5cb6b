//go:build cuda

package sdxl

import (
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
)

// TestGPUTinyImg2Img is the i2i_euler_a_10_s0.6 case at the GPU's default
// precision: the VAE encode of the input image, six of its ten steps
// (strength 0.6) of CFG UNet calls in F16, the decode. It is held to the
// txt2img case's bounds (TestGPUTinyPipeline): the same F16 UNet over
// fewer steps, from a latent that starts closer to the result.
func TestGPUTinyImg2Img(t *testing.T) {
	b := newGPU(t)
	m, err := LoadModel(refdata.TinyCheckpoint(t), b)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	latents, db := runPipelineCase(t, m, "i2i_euler_a_10_s0.6")
	checkRel(t, "i2i_euler_a_10_s0.6 final latents", latents, gpuPipeF16LatentsTol)
	if !(db >= gpuPipeF16MinPSNR) {
		t.Errorf("i2i_euler_a_10_s0.6: PSNR %.1f dB against the reference PNG, want ≥ %.0f dB", db, gpuPipeF16MinPSNR)
	} else {
		t.Logf("i2i_euler_a_10_s0.6: PSNR %.1f dB against the reference PNG (bound %.0f dB)", db, gpuPipeF16MinPSNR)
	}
}
