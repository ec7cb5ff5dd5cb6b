//go:build cuda

package sdxl

import (
	"math"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// The full-size SDXL UNet (random F16 weights from the real manifest,
// 5.1 GB on the GPU) at the shapes of a 1024² image with CFG, and against
// the CPU backend on a latent small enough for the CPU.

// unet1024 is one denoising call of a 1024×1024 image with CFG: latent
// 128×128, batch 2 (negative and positive), 77 context tokens.
var unet1024 = unetInputShape{batch: 2, h: 128, w: 128, in: 4, tokens: 77, ctx: 2048, pooled: 1280}

func TestGPUFullSizeUNet(t *testing.T) {
	b := newGPU(t)
	u := NewUNet(sdxlBaseUNetConfig)
	bindFullSize(t, b, weights.UNetPrefix, u)
	t.Logf("full-size UNet bound: %v", b.Stats())

	// Several calls in a row, as a denoising loop makes them: each output
	// finite and bit-identical to the first (the kernels are deterministic),
	// so that a race or a use of freed memory shows as a moving result.
	t.Run("1024px_batch2_finite_repeatable", func(t *testing.T) {
		in := unetInputAs(b, unetRandomInput(b, unet1024), tensor.F16)
		defer freeInputs(b, in)
		var first []float32
		for call := range 4 {
			var out *tensor.Tensor
			ms, err := b.Time(func() { out = u.Forward(b, in) })
			if err != nil {
				t.Fatalf("call %d: %v", call+1, err)
			}
			syncOrFatal(t, b)
			if want := (tensor.Shape{2, 128, 128, 4}); !out.Shape().Equal(want) {
				t.Fatalf("output %v, want %v", out.Shape(), want)
			}
			v := b.ToFloat32(out)
			b.Free(out)
			checkFinite(t, "full-size UNet output", v)
			if call == 0 {
				if std := stdDev(v); !(std > 1e-3) {
					t.Fatalf("output standard deviation %g: a constant output is no prediction", std)
				}
				first = v
				t.Logf("one step (first call, kernels loading): %.1f ms GPU time; %v", ms, b.Stats())
				continue
			}
			if d := maxAbsDiff(v, first); d != 0 {
				t.Errorf("call %d differs from call 1 by up to %g: the same input must give the same output", call+1, d)
			}
		}
	})

	t.Run("32x32_matches_cpu", func(t *testing.T) {
		cpu := newTestCPU(t)
		ref := NewUNet(sdxlBaseUNetConfig)
		bindFullSize(t, cpu, weights.UNetPrefix, ref)
		cpuIn := unetRandomInput(cpu, fullSizeShape)
		cpuOut := ref.Forward(cpu, cpuIn)
		want := cpu.ToFloat32(cpuOut)
		cpu.Free(cpuOut)
		freeInputs(cpu, cpuIn)

		in := unetInputAs(b, unetRandomInput(b, fullSizeShape), tensor.F16)
		out := u.Forward(b, in)
		got := b.ToFloat32(out)
		b.Free(out)
		freeInputs(b, in)
		syncOrFatal(t, b)
		checkRel(t, "full-size UNet 32×32, GPU F16 vs CPU F32", relL2(got, want), gpuFullSizeF16Tol)
	})
}

func stdDev(v []float32) float64 {
	var sum, sq float64
	for _, x := range v {
		sum += float64(x)
		sq += float64(x) * float64(x)
	}
	n := float64(len(v))
	mean := sum / n
	return math.Sqrt(max(0, sq/n-mean*mean))
}

func maxAbsDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}
