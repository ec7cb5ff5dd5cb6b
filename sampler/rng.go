package sampler

import "math"

// Variant selects which of torch's CPU kernels the float32 normal_fill path
// (randn with 16 or more elements) reproduces. The two differ in the last
// bits of about a third of the values.
type Variant int

const (
	// AVX2 is torch's default dispatch on an x86-64 CPU with AVX2: the
	// Cephes-style vectorised log/sincos with fused multiply-adds. This is
	// what practically every x86 PyTorch user (and every reference latent of
	// this project) gets.
	AVX2 Variant = iota
	// Scalar is torch's non-vectorised kernel (ATEN_CPU_CAPABILITY=default,
	// or a CPU without AVX2): glibc's logf, cosf and sinf.
	Scalar
)

func (v Variant) String() string {
	switch v {
	case AVX2:
		return "avx2"
	case Scalar:
		return "scalar"
	}
	return "unknown"
}

// TorchCPU reproduces torch.Generator("cpu").manual_seed(seed) bit for bit
// for float32 torch.randn and torch.rand on contiguous tensors. Draws
// consume the generator in order, exactly as successive torch calls on one
// generator do. It is not safe for concurrent use.
type TorchCPU struct {
	mt      *mt19937
	variant Variant
	// cachedNormal is the second Box–Muller value of the double-precision
	// path, which torch keeps in the generator for the next small randn.
	cachedNormal    float64
	hasCachedNormal bool
}

// NewTorchCPU seeds a generator as torch's manual_seed does: only the low
// 32 bits of the seed matter (seed 2^32+5 draws the same as seed 5).
func NewTorchCPU(seed uint64, variant Variant) *TorchCPU {
	return &TorchCPU{mt: newMT19937(uint32(seed)), variant: variant}
}

// Variant reports which normal_fill kernel this generator reproduces.
func (g *TorchCPU) Variant() Variant { return g.variant }

// uniform32 is torch's float32 uniform in [0, 1): 24 random bits.
func (g *TorchCPU) uniform32() float32 {
	return float32(g.mt.uint32()&0xffffff) * (1.0 / (1 << 24))
}

// uniform64 is torch's double uniform in [0, 1): 53 random bits of a 64-bit draw.
func (g *TorchCPU) uniform64() float64 {
	return float64(g.mt.uint64()&(1<<53-1)) * (1.0 / (1 << 53))
}

// Rand returns torch.rand(n) (float32, uniform in [0, 1)).
func (g *TorchCPU) Rand(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = g.uniform32()
	}
	return out
}

// Randn returns torch.randn(n) (float32, standard normal). The shape does
// not matter, only the element count: torch picks its kernel by numel.
func (g *TorchCPU) Randn(n int) []float32 {
	out := make([]float32, n)
	if n < 16 {
		for i := range out {
			out[i] = float32(g.normalDouble())
		}
		return out
	}
	g.normalFill(out)
	return out
}

// normalDouble is torch's at::normal_distribution<double> for small
// tensors: Box–Muller in double precision, the sine half cached for the
// next call.
func (g *TorchCPU) normalDouble() float64 {
	if g.hasCachedNormal {
		g.hasCachedNormal = false
		return g.cachedNormal
	}
	u1 := g.uniform64()
	u2 := g.uniform64()
	r := math.Sqrt(-2 * math.Log(1-u2))
	theta := 2 * math.Pi * u1
	g.cachedNormal = r * math.Sin(theta)
	g.hasCachedNormal = true
	return r * math.Cos(theta)
}

// normalFill is torch's float32 normal_fill for 16 or more elements: all
// slots get uniforms first, then every block of 16 is turned into normals
// in place. A partial tail is handled by drawing 16 fresh uniforms into the
// last 16 slots and transforming them as one more block (overwriting the
// overlap with the last full block).
func (g *TorchCPU) normalFill(d []float32) {
	n := len(d)
	for i := range d {
		d[i] = g.uniform32()
	}
	for i := 0; i+16 <= n; i += 16 {
		g.boxMuller16(d[i : i+16])
	}
	if n%16 != 0 {
		tail := d[n-16:]
		for i := range tail {
			tail[i] = g.uniform32()
		}
		g.boxMuller16(tail)
	}
}

// boxMuller16 turns 16 uniforms into 16 normals: pairs (j, j+8).
func (g *TorchCPU) boxMuller16(d []float32) {
	if g.variant == AVX2 {
		boxMuller16AVX2(d)
		return
	}
	boxMuller16Scalar(d)
}

// twoPi32 is 2π rounded to float32, as torch's kernels use it.
const twoPi32 = float32(2 * math.Pi)

// boxMuller16Scalar follows torch's scalar kernel, which calls glibc's
// logf, cosf and sinf (see glibcf32.go).
func boxMuller16Scalar(d []float32) {
	for j := 0; j < 8; j++ {
		u1 := 1 - d[j]
		u2 := d[j+8]
		r := float32(math.Sqrt(float64(-2 * glibcLogf(u1))))
		// The scalar kernel multiplies by 2π in double and rounds once.
		theta := float32(2 * math.Pi * float64(u2))
		d[j] = r * glibcCosf(theta)
		d[j+8] = r * glibcSinf(theta)
	}
}
