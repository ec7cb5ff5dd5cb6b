//go:build cuda

package sdxl

import (
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// TestGPUTinyTextEncodersHalf encodes the enc/<i> cases with both encoders
// in F16 (the GPU's default) and in BF16 (--text-precision bf16), weights
// converted at load, against diffusers' float32 goldens. Bounds:
// gpu_tolerance_cuda_test.go.
func TestGPUTinyTextEncodersHalf(t *testing.T) {
	b := newGPU(t)
	for _, c := range []struct {
		dt             tensor.DType
		embeds, pooled float64
	}{{tensor.F16, gpuTextF16EmbedsTol, gpuTextF16PooledTol}, {tensor.BF16, gpuTextBF16EmbedsTol, gpuTextBF16PooledTol}} {
		enc := tinyTextEncoders(t, b, c.dt)
		// The bounds are for arithmetic in c.dt: make sure that is what runs.
		out := enc.CLIPL.Forward(b, c.dt, [][]int32{{49406, 49407}}, false)
		if dt, w := out.Penultimate.DType(), enc.BigG.Layers[0].FC.Weight.DType(); dt != c.dt || w != c.dt {
			t.Fatalf("%v run: hidden states %v, weights %v", c.dt, dt, w)
		}
		b.Free(out.Penultimate)
		embeds, pooled, maxAbs := textEncodeSpread(t, b, enc, c.dt)
		syncOrFatal(t, b)
		checkRel(t, c.dt.String()+" text encoders: prompt_embeds (worst case)", embeds, c.embeds)
		checkRel(t, c.dt.String()+" text encoders: pooled_prompt_embeds (worst case)", pooled, c.pooled)
		t.Logf("%v: largest |hidden state| %.3g", c.dt, maxAbs)
	}
}
