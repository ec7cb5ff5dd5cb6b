package cpu

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gosdxl/gosdxl/tensor"
)

// Benchmarks at SDXL shapes (a 32×32 latent, batch 2), reporting GFLOP/s.
// Weights are F16, as in the checkpoint.

func randTensor(b *Backend, dt tensor.DType, shape ...int) *tensor.Tensor {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]float32, tensor.Shape(shape).NumElements())
	for i := range data {
		data[i] = float32(r.NormFloat64() * 0.05)
	}
	return b.FromFloat32(dt, shape, data)
}

// reportFlops reports wall-clock GFLOP/s and GFLOP per CPU-second (see
// cpuTime); start is the CPU time when the timed loop began.
func reportFlops(bm *testing.B, flops float64, start time.Duration) {
	total := flops * float64(bm.N)
	bm.ReportMetric(total/bm.Elapsed().Seconds()/1e9, "GFLOP/s")
	if used := cpuTime() - start; used > 0 {
		bm.ReportMetric(total/used.Seconds()/1e9, "GFLOP/cpu-s")
	}
}

func benchLinear(bm *testing.B, m, k, n int) {
	b := New()
	x := randTensor(b, tensor.F32, m, k)
	w := randTensor(b, tensor.F16, n, k)
	bias := randTensor(b, tensor.F16, n)
	dst := b.Alloc(tensor.F32, m, n)
	start := cpuTime()
	for bm.Loop() {
		b.Linear(dst, x, w, bias)
	}
	reportFlops(bm, 2*float64(m)*float64(k)*float64(n), start)
}

func BenchmarkLinear_M2048_K640_N640(bm *testing.B)  { benchLinear(bm, 2048, 640, 640) }
func BenchmarkLinear_M2048_K640_N5120(bm *testing.B) { benchLinear(bm, 2048, 640, 5120) }
func BenchmarkLinear_M2048_K2560_N640(bm *testing.B) { benchLinear(bm, 2048, 2560, 640) }
func BenchmarkLinear_M154_K2048_N640(bm *testing.B)  { benchLinear(bm, 154, 2048, 640) }

func benchConv(bm *testing.B, batch, h, w, cin, cout, k, stride int) {
	b := New()
	pad := k / 2
	x := randTensor(b, tensor.F32, batch, h, w, cin)
	wt := randTensor(b, tensor.F16, cout, k, k, cin)
	bias := randTensor(b, tensor.F16, cout)
	ho, wo := (h+2*pad-k)/stride+1, (w+2*pad-k)/stride+1
	dst := b.Alloc(tensor.F32, batch, ho, wo, cout)
	start := cpuTime()
	for bm.Loop() {
		b.Conv2D(dst, x, wt, bias, stride, pad)
	}
	reportFlops(bm, 2*float64(batch*ho*wo)*float64(k*k*cin)*float64(cout), start)
}

func BenchmarkConv3x3_640_B2_32x32(bm *testing.B)    { benchConv(bm, 2, 32, 32, 640, 640, 3, 1) }
func BenchmarkConv3x3_320_B2_32x32(bm *testing.B)    { benchConv(bm, 2, 32, 32, 320, 320, 3, 1) }
func BenchmarkConv3x3_1280_B2_16x16(bm *testing.B)   { benchConv(bm, 2, 16, 16, 1280, 1280, 3, 1) }
func BenchmarkConv3x3s2_320_B2_32x32(bm *testing.B)  { benchConv(bm, 2, 32, 32, 320, 320, 3, 2) }
func BenchmarkConv3x3_4to320_B2_32x32(bm *testing.B) { benchConv(bm, 2, 32, 32, 4, 320, 3, 1) }

func benchAttention(bm *testing.B, batch, tq, tk, width, heads int) {
	b := New()
	q := randTensor(b, tensor.F32, batch, tq, width)
	k := randTensor(b, tensor.F32, batch, tk, width)
	v := randTensor(b, tensor.F32, batch, tk, width)
	dst := b.Alloc(tensor.F32, batch, tq, width)
	start := cpuTime()
	for bm.Loop() {
		b.Attention(dst, q, k, v, heads, false)
	}
	reportFlops(bm, 4*float64(batch)*float64(tq)*float64(tk)*float64(width), start)
}

func BenchmarkAttention_T1024_10heads_B2(bm *testing.B) { benchAttention(bm, 2, 1024, 1024, 640, 10) }
func BenchmarkAttention_T1024_ctx77_10heads_B2(bm *testing.B) {
	benchAttention(bm, 2, 1024, 77, 640, 10)
}
func BenchmarkAttention_T4096_5heads_B1(bm *testing.B) { benchAttention(bm, 1, 4096, 4096, 320, 5) }

// The 32×32-latent UNet runs its 1280-channel level at 8×8: 128 rows
// against large weights, where packing B costs as much as the product.
func BenchmarkLinear_M128_K1280_N1280(bm *testing.B)  { benchLinear(bm, 128, 1280, 1280) }
func BenchmarkLinear_M128_K1280_N10240(bm *testing.B) { benchLinear(bm, 128, 1280, 10240) }
func BenchmarkConv3x3_1280_B2_8x8(bm *testing.B)      { benchConv(bm, 2, 8, 8, 1280, 1280, 3, 1) }

// The VAE mid-block attention at a 512² image: one head of 512 over 4096 tokens.
func BenchmarkAttention_VAE_T4096_d512(bm *testing.B) { benchAttention(bm, 1, 4096, 4096, 512, 1) }
