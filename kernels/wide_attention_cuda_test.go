//go:build cuda

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// TestWideAttentionMatchesFloat64 runs one head of 512 (the VAE's) through
// the tensor-core path in several blocks of queries, two images, and
// compares with float64 on the same 16-bit inputs. The launch count shows
// the path taken: per image one transpose and three launches per block
// (the simple kernel would be one launch in all).
func TestWideAttentionMatchesFloat64(t *testing.T) {
	const B, Tq, Tk, D = 2, 300, 264, 512
	defer func(old int) { wideScoreBudget = old }(wideScoreBudget)
	wideScoreBudget = gemmTileM * Tk // blocks of 128, 128 and 44 queries
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
		t.Run(dt.String(), func(t *testing.T) {
			b := newTestBackend(t, "fast")
			rng := rand.New(rand.NewPCG(7, 8))
			random := func(n int, std float64) []float32 {
				v := make([]float32, n)
				for i := range v {
					// Round to dt so that the reference sees the kernel's inputs.
					v[i] = tensor.DecodeFloat32(dt, tensor.EncodeFloat32(dt, []float32{float32(rng.NormFloat64() * std)}))[0]
				}
				return v
			}
			qv, kv, vv := random(B*Tq*D, 1), random(B*Tk*D, 1), random(B*Tk*D, 1)
			q := b.FromFloat32(dt, tensor.Shape{B, Tq, D}, qv)
			k := b.FromFloat32(dt, tensor.Shape{B, Tk, D}, kv)
			v := b.FromFloat32(dt, tensor.Shape{B, Tk, D}, vv)
			o := b.Alloc(dt, B, Tq, D)
			defer func() {
				for _, x := range []*tensor.Tensor{q, k, v, o} {
					b.Free(x)
				}
			}()
			b.fill(o, 0xff)
			before := b.Counters()
			b.Attention(o, q, k, v, 1, false)
			// A GEMM the planner splits is one launch too: its last
			// splits finish the tiles.
			if got, want := b.Counters().Sub(before).Launches, int64(B*(1+3*3)); got != want {
				t.Fatalf("%d launches, want %d (the wide path: per image a transpose and 3 blocks of 3)", got, want)
			}
			got := b.ToFloat32(o)
			if err := b.Sync(); err != nil {
				t.Fatal(err)
			}
			want := refAttentionHeads(qv, kv, vv, B, Tq, Tk, 1, D, false)
			var num, den float64
			for i := range want {
				d := float64(got[i]) - want[i]
				num += d * d
				den += want[i] * want[i]
			}
			rel := math.Sqrt(num / den)
			t.Logf("%v: relative L2 %.3g against float64", dt, rel)
			// Scores, probabilities and the output are each rounded to dt.
			// Measured on the emulated driver: F16 5.3e-4, BF16 4.2e-3;
			// the bounds are 2.5× those (the flash kernel keeps its scores
			// in float32, this path does not).
			if bound := map[tensor.DType]float64{tensor.F16: 1.4e-3, tensor.BF16: 1.1e-2}[dt]; !(rel <= bound) {
				t.Errorf("%v: relative L2 %.3g, bound %g", dt, rel, bound)
			}
		})
	}
}
