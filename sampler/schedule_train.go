package sampler

import "math"

// SDXL's training noise schedule: 1000 steps of "scaled linear" betas from
// 0.00085 to 0.012 (linear in sqrt(β)). Everything is computed the way
// diffusers does it in float32, so that σ tables match bit for bit.
const (
	TrainSteps = 1000
	betaStart  = 0.00085
	betaEnd    = 0.012
)

// torchLinspace32 is torch.linspace(start, end, n, dtype=float32) on an
// x86-64 CPU with AVX2, bit for bit: the step is computed in float32; the
// kernel fills pairs of 8-wide vectors as base + k·step, where base counts
// up from start in the first half and down from end in the second half,
// and every a·b + c is one fused multiply-add (the AVX2 kernels are built
// with FMA contraction). The elements after the last pair of vectors are
// computed one at a time without fusion.
func torchLinspace32(start, end float32, n int) []float32 {
	out := make([]float32, n)
	if n == 1 {
		out[0] = start
		return out
	}
	step := (end - start) / float32(n-1)
	half := n / 2
	vector := func(i int) {
		var base float32
		if i < half {
			base = fma32(step, float32(i), start)
		} else {
			base = fma32(-step, float32(n-i-1), end)
		}
		for k := 0; k < 8; k++ {
			out[i+k] = fma32(float32(k), step, base)
		}
	}
	i := 0
	for ; i+16 <= n; i += 16 {
		vector(i)
		vector(i + 8)
	}
	for ; i < n; i++ {
		if i < half {
			out[i] = start + float32(step*float32(i))
		} else {
			out[i] = end - float32(step*float32(n-i-1))
		}
	}
	return out
}

// AlphasCumprod returns ᾱ_t for t = 0…999 in float32 as diffusers computes
// it: β = linspace(√0.00085, √0.012, 1000)², ᾱ = cumprod(1 − β) (torch
// accumulates a float32 cumprod in double on the CPU).
func AlphasCumprod() []float32 {
	sqrtBetas := torchLinspace32(float32(math.Sqrt(betaStart)), float32(math.Sqrt(betaEnd)), TrainSteps)
	out := make([]float32, TrainSteps)
	acc := 1.0
	for i, sb := range sqrtBetas {
		alpha := 1 - sb*sb
		acc *= float64(alpha)
		out[i] = float32(acc)
	}
	return out
}

// trainSigmas returns σ_t = sqrt((1 − ᾱ_t)/ᾱ_t) for t = 0…999, each step
// in float32 as torch does, widened to float64 for the table arithmetic
// that follows (numpy promotes to float64 there).
func trainSigmas() []float64 {
	ac := AlphasCumprod()
	out := make([]float64, len(ac))
	for i, a := range ac {
		out[i] = float64(float32(math.Sqrt(float64((1 - a) / a))))
	}
	return out
}
