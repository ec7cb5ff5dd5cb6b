//go:build cuda

package sdxl

import (
	"os"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// The full-size VAE as the GPU runs it by default (BF16 weights and
// activations, the tensor-core convolutions, the wide attention of its
// one 512-wide head) against the CPU in float32, on random weights with
// the real shapes.

// vaeFullSizeLatent is the latent the CPU can decode in seconds: 32×32,
// a 256×256 image.
var vaeFullSizeLatent = tensor.Shape{1, 32, 32, 4}

// bindVAEAs binds a random full-size VAE on b with its weights converted
// to dt (0: as stored, F16).
func bindVAEAs(t testing.TB, b tensor.Backend, dt tensor.DType) *VAE {
	t.Helper()
	v := NewVAE(sdxlBaseVAEConfig)
	bd := weights.NewBinder(b, randomFullSize(t, weights.VAEPrefix))
	bd.BindAs(weights.VAEPrefix, v, dt)
	freeAtEnd(t, b, bd.Tensors()...)
	requireAllBound(t, bd, weights.VAEPrefix)
	return v
}

// decodeFullSizeLatent decodes the fixed random latent of shape s with v
// on b, activations in dt.
func decodeFullSizeLatent(b tensor.Backend, v *VAE, s tensor.Shape, dt tensor.DType) []float32 {
	z := b.FromFloat32(dt, s, randomLatentZ(s.NumElements()))
	out := v.Decode(b, z)
	got := b.ToFloat32(out)
	b.Free(out)
	b.Free(z)
	return got
}

func TestGPUFullSizeVAE(t *testing.T) {
	cpu := newTestCPU(t)
	want := decodeFullSizeLatent(cpu, bindVAEAs(t, cpu, 0), vaeFullSizeLatent, tensor.F32)

	b := newGPU(t)
	v := bindVAEAs(t, b, tensor.BF16)
	got := decodeFullSizeLatent(b, v, vaeFullSizeLatent, tensor.BF16)
	syncOrFatal(t, b)
	checkRel(t, "full-size VAE decode 256², GPU BF16 vs CPU F32", relL2(got, want), gpuFullSizeVAEBF16Tol)

	// A 1024² image: finite, and not one flat value (BF16 has float32's
	// range; F16 would overflow here).
	img := decodeFullSizeLatent(b, v, tensor.Shape{1, 128, 128, 4}, tensor.BF16)
	syncOrFatal(t, b)
	checkFinite(t, "full-size VAE decode 1024², BF16", img)
	if std := stdDev(img); !(std > 1e-3) {
		t.Fatalf("1024² decode: standard deviation %g", std)
	}
}

// TestHalfSimFullSizeVAESpread measures what gpuFullSizeVAEBF16Tol was
// derived from: the same decode with every op's output and every weight
// rounded to BF16, on the CPU. Opt-in (GOSDXL_FULLSIZE=1): two full-size
// CPU decodes.
func TestHalfSimFullSizeVAESpread(t *testing.T) {
	if os.Getenv("GOSDXL_FULLSIZE") != "1" {
		t.Skip("set GOSDXL_FULLSIZE=1 to simulate the full-size VAE in BF16 on the CPU")
	}
	cpu := newTestCPU(t)
	want := decodeFullSizeLatent(cpu, bindVAEAs(t, cpu, 0), vaeFullSizeLatent, tensor.F32)

	sim := newHalfSim(tensor.BF16)
	v := bindVAEAs(t, sim, tensor.BF16)
	sim.markWeights(v)
	z := sim.roundedInput(sim.FromFloat32(tensor.F32, vaeFullSizeLatent, randomLatentZ(vaeFullSizeLatent.NumElements())))
	out := v.Decode(sim, z)
	rel := relL2(sim.ToFloat32(out), want)
	sim.Free(out)
	sim.Free(z)
	if !(rel <= gpuFullSizeVAEBF16Tol/2) {
		t.Errorf("simulated BF16 spread %.3g is more than half of gpuFullSizeVAEBF16Tol %g: re-derive it", rel, gpuFullSizeVAEBF16Tol)
	} else {
		t.Logf("simulated BF16 spread %.3g (GPU tolerance %g)", rel, gpuFullSizeVAEBF16Tol)
	}
}
