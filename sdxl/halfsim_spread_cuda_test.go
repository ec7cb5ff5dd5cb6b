//go:build cuda

package sdxl

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// These tests measure, on the CPU, the spread that 16-bit activations cause
// against the goldens (halfSimBackend), and fail when it outgrows the share
// of the GPU tolerance it was derived for: the GPU tolerances stay honest
// if the model code changes. They need no GPU.

// simTinyUNet returns the relative L2 of every unet/<i>/out golden with the
// tiny UNet's activations rounded to dt.
func simTinyUNet(t testing.TB, dt tensor.DType) []float64 {
	sim := newHalfSim(dt)
	u := bindTinyUNet(t, sim)
	sim.markWeights(u)
	var rels []float64
	for i := 0; i < 3; i++ {
		prefix := fmt.Sprintf("unet/%d/", i)
		in := unetGoldenInput(t, sim, prefix)
		in.Sample, in.Context, in.TextEmbeds = sim.roundedInput(in.Sample), sim.roundedInput(in.Context), sim.roundedInput(in.TextEmbeds)
		out := u.Forward(sim, in)
		want := golden(t, prefix+"out")
		rels = append(rels, relL2NCHW(t, sim, out, want))
	}
	return rels
}

// simTinyVAE returns the relative L2 of vae/decode/out, vae/encode/mean and
// vae/encode/logvar with the VAE's activations rounded to dt.
func simTinyVAE(t testing.TB, dt tensor.DType) (decode, mean, logvar float64) {
	sim := newHalfSim(dt)
	v := bindTinyVAE(t, sim)
	sim.markWeights(v)
	z := golden(t, "vae/decode/z")
	decode = relL2NCHW(t, sim, v.Decode(sim, sim.roundedInput(nchwTensor(sim, z))), golden(t, "vae/decode/out"))
	m, lv := v.Encode(sim, sim.roundedInput(nchwTensor(sim, golden(t, "vae/encode/image"))))
	mean = relL2NCHW(t, sim, m, golden(t, "vae/encode/mean"))
	logvar = relL2NCHW(t, sim, lv, golden(t, "vae/encode/logvar"))
	return decode, mean, logvar
}

// simPipeline runs the t2i_euler_a_6 case with the UNet's activations
// rounded to F16 and returns the final latents' relative L2 and the PNG's PSNR.
func simPipeline(t *testing.T) (latents, psnr float64) {
	sim := newHalfSim(tensor.F16)
	m, err := LoadModel(refdata.TinyCheckpoint(t), sim)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.Precision = Precision{Text: tensor.F32, UNet: tensor.F32, VAE: tensor.F32}
	sim.markWeights(m.unet)
	return runPipelineCase(t, m, "t2i_euler_a_6")
}

// runPipelineCase generates case name with m and compares its final
// latents and image with the goldens.
func runPipelineCase(t *testing.T, m *Model, name string) (latents, psnr float64) {
	t.Helper()
	_, cases, g := pipeFixture(t)
	var c *pipeCase
	for i := range cases {
		if cases[i].Name == name {
			c = &cases[i]
		}
	}
	if c == nil {
		t.Fatalf("no pipeline case %s", name)
	}
	r := c.request(t)
	dir := t.TempDir()
	res, err := generateDumped(m, r, dir)
	if err != nil {
		t.Fatal(err)
	}
	sampling := readGoldens(t, filepath.Join(dir, "sampling.safetensors"))
	got := goldenIn(t, sampling, "latents_final")
	want := goldenIn(t, g, "pipe/"+name+"/latents_final")
	latents = relL2(got.data, want.data)
	psnr, err = psnr8(rgbBytes(res.Images[0]), rgbBytes(loadRefPNG(t, c.PNG)))
	if err != nil {
		t.Fatal(err)
	}
	return latents, psnr
}

// TestHalfSimSpread keeps the GPU tolerances derived: each must stay at
// least twice the spread the simulation predicts.
func TestHalfSimSpread(t *testing.T) {
	within := func(what string, got, tol float64) { t.Helper(); checkSpreadWithin(t, what, got, tol) }
	for i, rel := range simTinyUNet(t, tensor.F16) {
		within(fmt.Sprintf("UNet F16 unet/%d/out", i), rel, gpuUNetF16Tol)
	}
	decode, mean, logvar := simTinyVAE(t, tensor.BF16)
	within("VAE BF16 decode", decode, gpuVAEBF16DecodeTol)
	within("VAE BF16 encode mean", mean, gpuVAEBF16EncodeTol)
	within("VAE BF16 encode logvar", logvar, gpuVAEBF16EncodeTol)

	latents, db := simPipeline(t)
	within("t2i_euler_a_6 F16 UNet latents", latents, gpuPipeF16LatentsTol)
	// PSNR: twice the error is 6 dB less.
	if db-6 < gpuPipeF16MinPSNR {
		t.Errorf("t2i_euler_a_6 F16 UNet: simulated PSNR %.1f dB leaves less than 6 dB over the GPU bound %.0f dB", db, gpuPipeF16MinPSNR)
	} else {
		t.Logf("t2i_euler_a_6 F16 UNet: simulated PSNR %.1f dB (GPU bound %.0f dB)", db, gpuPipeF16MinPSNR)
	}
}

// TestHalfSimFullSizeSpread measures what gpuFullSizeF16Tol was derived
// from. It needs no GPU but two full-size CPU forwards (70 s on 2 cores,
// about 10 GB of memory): opt-in with GOSDXL_FULLSIZE=1.
func TestHalfSimFullSizeSpread(t *testing.T) {
	if os.Getenv("GOSDXL_FULLSIZE") != "1" {
		t.Skip("set GOSDXL_FULLSIZE=1 to simulate the full-size UNet in F16 on the CPU")
	}
	cpu := newTestCPU(t)
	ref := NewUNet(sdxlBaseUNetConfig)
	bindFullSize(t, cpu, weights.UNetPrefix, ref)
	want := cpu.ToFloat32(ref.Forward(cpu, unetRandomInput(cpu, fullSizeShape)))

	sim := newHalfSim(tensor.F16)
	u := NewUNet(sdxlBaseUNetConfig)
	bindFullSize(t, sim, weights.UNetPrefix, u)
	sim.markWeights(u)
	in := unetRandomInput(sim, fullSizeShape)
	in.Sample, in.Context, in.TextEmbeds = sim.roundedInput(in.Sample), sim.roundedInput(in.Context), sim.roundedInput(in.TextEmbeds)
	rel := relL2(sim.ToFloat32(u.Forward(sim, in)), want)
	if !(rel <= gpuFullSizeF16Tol/2) {
		t.Errorf("simulated F16 spread %.3g is more than half of gpuFullSizeF16Tol %g: re-derive it", rel, gpuFullSizeF16Tol)
	} else {
		t.Logf("simulated F16 spread %.3g (GPU tolerance %g)", rel, gpuFullSizeF16Tol)
	}
}

// checkSpreadWithin keeps a GPU tolerance derived: the simulated spread
// got must show rounding happened and stay at most half of tol.
func checkSpreadWithin(t *testing.T, what string, got, tol float64) {
	t.Helper()
	if got < 1e-4 { // float32 noise is ~1e-6: nothing was rounded
		t.Errorf("%s: simulated spread %.3g: the simulation did not round", what, got)
	} else if !(got <= tol/2) {
		t.Errorf("%s: simulated spread %.3g is more than half its GPU tolerance %g: re-derive it", what, got, tol)
	} else {
		t.Logf("%s: simulated spread %.3g (GPU tolerance %g)", what, got, tol)
	}
}
