//go:build cuda

package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// Per-op benchmarks at SDXL shapes (1024² image: 128² latent, batch 2 for
// CFG), for the simple and the fast kernels. They report TFLOP/s for the
// matrix ops and GB/s for the memory-bound ones, computed from GPU time.
// scripts/torch_bench.py times PyTorch at the same shapes.

func benchBackends(b *testing.B) map[string]*Backend {
	out := map[string]*Backend{}
	for _, k := range []string{"simple", "fast"} {
		out[k] = newTestBackend(b, k)
	}
	return out
}

func randomF16(be *Backend, std float64, shape ...int) *tensor.Tensor {
	rng := rand.New(rand.NewPCG(5, 6))
	data := make([]float32, tensor.Shape(shape).NumElements())
	for i := range data {
		data[i] = float32(std * rng.NormFloat64())
	}
	return be.FromFloat32(tensor.F16, shape, data)
}

// timeOp runs op b.N times (after one warm-up) and reports throughput:
// flops and bytes are per call; zero values are not reported.
func timeOp(b *testing.B, be *Backend, flops, bytes float64, op func()) {
	op()
	if err := be.Sync(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	ms, err := be.Time(func() {
		for range b.N {
			op()
		}
	})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	sec := float64(ms) / 1e3 / float64(b.N)
	b.ReportMetric(sec*1e6, "gpu-µs/op")
	if flops > 0 {
		b.ReportMetric(flops/sec/1e12, "TFLOP/s")
	}
	if bytes > 0 {
		b.ReportMetric(bytes/sec/1e9, "GB/s")
	}
}

func BenchmarkLinear(b *testing.B) {
	// to_q over 64² tokens (640 wide), the GEGLU projection, and 32² at 1280.
	shapes := []struct {
		name    string
		m, k, n int
	}{
		{"4096x640x640", 2 * 4096, 640, 640},
		{"4096x640x5120", 2 * 4096, 640, 5120},
		{"1024x1280x1280", 2 * 1024, 1280, 1280},
	}
	for kind, be := range benchBackends(b) {
		for _, s := range shapes {
			b.Run(kind+"/"+s.name, func(b *testing.B) {
				x, w, bias := randomF16(be, 1, s.m, s.k), randomF16(be, 0.03, s.n, s.k), randomF16(be, 0.1, s.n)
				dst := be.Alloc(tensor.F16, s.m, s.n)
				timeOp(b, be, 2*float64(s.m*s.n*s.k), 0, func() { be.Linear(dst, x, w, bias) })
			})
		}
	}
}

func BenchmarkConv2D(b *testing.B) {
	shapes := []struct {
		name          string
		hw, cin, cout int
	}{
		{"128x128x320", 128, 320, 320},
		{"64x64x640", 64, 640, 640},
		{"32x32x1280", 32, 1280, 1280},
	}
	for kind, be := range benchBackends(b) {
		for _, s := range shapes {
			b.Run(kind+"/"+s.name, func(b *testing.B) {
				x := randomF16(be, 1, 2, s.hw, s.hw, s.cin)
				w, bias := randomF16(be, 0.02, s.cout, 3, 3, s.cin), randomF16(be, 0.1, s.cout)
				dst := be.Alloc(tensor.F16, 2, s.hw, s.hw, s.cout)
				flops := 2 * float64(2*s.hw*s.hw) * float64(s.cout) * float64(9*s.cin)
				timeOp(b, be, flops, 0, func() { be.Conv2D(dst, x, w, bias, 1, 1) })
			})
		}
	}
}

func BenchmarkAttention(b *testing.B) {
	shapes := []struct {
		name          string
		tq, tk, heads int
	}{
		{"self_4096_10h", 4096, 4096, 10},
		{"cross_4096x77_10h", 4096, 77, 10},
		{"self_1024_20h", 1024, 1024, 20},
	}
	for kind, be := range benchBackends(b) {
		for _, s := range shapes {
			b.Run(kind+"/"+s.name, func(b *testing.B) {
				c := 64 * s.heads
				q, k, v := randomF16(be, 1, 2, s.tq, c), randomF16(be, 1, 2, s.tk, c), randomF16(be, 1, 2, s.tk, c)
				dst := be.Alloc(tensor.F16, 2, s.tq, c)
				flops := 4 * float64(2*s.heads) * float64(s.tq) * float64(s.tk) * 64
				timeOp(b, be, flops, 0, func() { be.Attention(dst, q, k, v, s.heads, false) })
			})
		}
	}
}

func BenchmarkGroupNormSiLU(b *testing.B) {
	be := newTestBackend(b, "simple")
	for _, s := range []struct {
		name  string
		hw, c int
	}{{"128x128x320", 128, 320}, {"64x64x640", 64, 640}, {"32x32x1280", 32, 1280}, {"vae_512x512x128", 512, 128}} {
		b.Run(s.name, func(b *testing.B) {
			x := randomF16(be, 1, 2, s.hw, s.hw, s.c)
			gamma, beta := randomF16(be, 1, s.c), randomF16(be, 0.1, s.c)
			dst := be.Alloc(tensor.F16, 2, s.hw, s.hw, s.c)
			bytes := 3 * float64(x.NumElements()*2) // two reads and one write
			timeOp(b, be, 0, bytes, func() { be.GroupNorm(dst, x, gamma, beta, 32, 1e-5, true) })
		})
	}
}

// BenchmarkLayerNorm: the UNet's transformer rows (640, 1280 channels)
// and CLIP-L's (768), for the warp-per-row and block-per-row kernels.
func BenchmarkLayerNorm(b *testing.B) {
	be := newTestBackend(b, "simple")
	for _, s := range []struct {
		name    string
		rows, c int
	}{{"4096x640", 4096, 640}, {"1024x1280", 1024, 1280}, {"77x768", 77, 768}} {
		b.Run(s.name, func(b *testing.B) {
			x := randomF16(be, 1, 2, s.rows, s.c)
			gamma, beta := randomF16(be, 1, s.c), randomF16(be, 0.1, s.c)
			dst := be.Alloc(tensor.F16, 2, s.rows, s.c)
			bytes := 2 * float64(x.NumElements()*2) // one read and one write
			timeOp(b, be, 0, bytes, func() { be.LayerNorm(dst, x, gamma, beta, 1e-5) })
		})
	}
}

func BenchmarkGEGLU(b *testing.B) {
	be := newTestBackend(b, "simple")
	x := randomF16(be, 1, 2, 4096, 5120)
	dst := be.Alloc(tensor.F16, 2, 4096, 2560)
	b.Run("4096x5120", func(b *testing.B) {
		timeOp(b, be, 0, 1.5*float64(x.NumElements()*2), func() { be.GEGLU(dst, x) })
	})
}

func BenchmarkBinaryAddBroadcast(b *testing.B) {
	be := newTestBackend(b, "simple")
	x := randomF16(be, 1, 2, 128, 128, 320)
	emb := randomF16(be, 1, 2, 1, 1, 320)
	b.Run("128x128x320", func(b *testing.B) {
		timeOp(b, be, 0, 2*float64(x.NumElements()*2), func() { be.Binary(x, x, emb, tensor.Add) })
	})
}
