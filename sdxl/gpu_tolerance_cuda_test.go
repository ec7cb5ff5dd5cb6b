//go:build cuda

package sdxl

// Tolerances of the GPU checks against the tiny model's goldens (relative
// L2 unless noted).
//
// float32 parts (text encoders, the VAE in F32) compute what the CPU does
// in another summation order: they get the CPU's bound, componentTol
// (1e-5, from the reference README: float32-vs-float64 spread ≤ 4e-6,
// smallest plausible mistake 1.7e-4).
//
// 16-bit parts were simulated on the CPU with halfSimBackend (every op's
// output rounded to the 16-bit type; TestHalfSimSpread re-measures it and
// fails if it outgrows half of these bounds). Measured spread:
//
//	UNet F16, unet/{0,1,2}/out           6.2e-4, 7.0e-4, 1.18e-3
//	VAE BF16, vae/decode/out             1.69e-2
//	VAE BF16, vae/encode/{mean,logvar}   4.67e-2, 4.23e-2
//	t2i_euler_a_6, F16 UNet              final latents 1.47e-3, PNG 60.7 dB
//
// Each bound is about 2.5× the simulated worst case: room for what the
// simulation leaves out (roundings inside fused kernels, such as the
// softmax weights of flash attention, and the summation order), while the
// UNet bound stays under the plausible mistakes the README lists (timestep
// off by one 8.0e-3, steps_offset 0 in a pipeline 9.4e-3) except UNet
// weights in bfloat16 (4.4e-3), which an F16 run cannot tell apart from its
// own rounding. The UNet simulated with BF16 activations lands at 4.7e-3 to
// 9.8e-3, over the F16 bound: a run that silently used BF16 would fail.
// The first GPU run prints the real values (go test -v).
const (
	gpuUNetF16Tol        = 3e-3
	gpuVAEBF16DecodeTol  = 4e-2
	gpuVAEBF16EncodeTol  = 1.2e-1
	gpuPipeF16LatentsTol = 4e-3
	// gpuPipeF16MinPSNR: 2.5× the simulated error costs 8 dB of the 61 dB;
	// the README's bound for an image "identical up to ±1 level", 50 dB,
	// sits under that.
	gpuPipeF16MinPSNR = 50.0
	// gpuPipeBF16VAEMinPSNR: the same image decoded by the VAE in BF16
	// (weights converted at load, activations, the tensor-core kernels):
	// 52.3 dB measured on the emulated driver, whose tensor-core
	// instructions round as the PTX ISA specifies; 2.5× that error is
	// 8 dB less. A VAE left in F16 (overflow) or reading F16 weights as
	// BF16 would be far below.
	gpuPipeBF16VAEMinPSNR = 44.0
	// gpuImg2ImgBF16VAEMinPSNR: i2i_euler_a_10_s0.6 at the default
	// precision, the VAE's rounding in both the encode and the decode:
	// 50.8 dB measured on an H200, less 8 dB.
	gpuImg2ImgBF16VAEMinPSNR = 42.0
)

// gpuFullSizeF16Tol bounds the relative L2 between the GPU (F16
// activations) and the CPU (F32) on the full-size UNet at 32×32. The
// simulation (TestHalfSimFullSizeSpread: every op output rounded to F16 on
// the CPU) measured 2.6e-3 for these random weights and inputs; 2.7× that,
// as for the tiny model's bounds (gpu_tolerance_cuda_test.go). A wrong
// kernel lands at O(1) here, far above.
const gpuFullSizeF16Tol = 7e-3

// gpuFullSizeVAEBF16Tol bounds the relative L2 between the full-size VAE
// decode on the GPU (BF16 weights and activations) and the CPU (F32) at
// 32×32 latents. The simulation (TestHalfSimFullSizeVAESpread: weights and
// every op's output rounded to BF16 on the CPU) measured 9.96e-3 for these
// random weights and latent; 2.5× that, as for the other bounds.
const gpuFullSizeVAEBF16Tol = 2.5e-2

// Both text encoders in F16 (weights converted at load; the GPU's default
// Text precision), against diffusers' float32 encode_prompt goldens. The
// simulation (TestHalfSimTextSpread: weights and every op's output rounded
// to F16 on the CPU) measured, worst over the enc/<i> cases, 6.9e-4 for the
// embeddings and 8.9e-4 for the pooled embeddings; about 2.5× that, as for
// the other bounds. The float32 path keeps componentTol
// (TestGPUTinyTextEncoders), which is what catches a wrong kernel. In
// BF16 (--text-precision bf16) the simulation measured 7.8e-3 and 8.6e-3,
// over 4× the F16 bounds (an F16 run that silently used BF16 fails); its
// own bounds are again about 2.5× that.
const (
	gpuTextF16EmbedsTol  = 1.8e-3
	gpuTextF16PooledTol  = 2.2e-3
	gpuTextBF16EmbedsTol = 2e-2
	gpuTextBF16PooledTol = 2.2e-2
)
