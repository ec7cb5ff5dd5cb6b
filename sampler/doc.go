// Package sampler holds everything between the seed and the denoised
// latent that does not touch the model: torch's CPU random numbers, SDXL's
// noise schedules and the samplers. It is pure Go on []float32 and never
// sees a tensor backend; the model enters as a Denoiser callback.
//
// # Random numbers
//
// TorchCPU reproduces torch.Generator("cpu").manual_seed(seed) bit for bit
// for float32 randn/rand, in both of torch's kernels (AVX2, the x86
// default, and Scalar). Batches: one generator and one draw of B·n values
// is diffusers' convention (pass a single generator); PerImageTorchCPU
// gives each image its own generator seeded seed+i (A1111's convention,
// and diffusers' with a list of generators).
//
// # Latents
//
// Samplers work on k-diffusion latents x = x0 + σ·ε. Schedule.StartLatents
// turns unit noise into the starting x; Sample returns the final latents
// in diffusers' form (what the VAE decodes), and Options.OnStep reports
// each step's latents in that form: equal to x for the Euler family,
// x/√(σ²+1) for DPM-Solver and DDIM, whose diffusers latents are variance
// preserving.
//
// # Names
//
// Samplers (CLI name → A1111 name → diffusers scheduler class):
//
//	euler         Euler         EulerDiscreteScheduler
//	euler_a       Euler a       EulerAncestralDiscreteScheduler (noise every step, last included)
//	heun          Heun          HeunDiscreteScheduler
//	lms           LMS           LMSDiscreteScheduler (order 4)
//	dpmpp_2m      DPM++ 2M      DPMSolverMultistepScheduler dpmsolver++, order 2, final σ 0
//	dpmpp_2m_sde  DPM++ 2M SDE  DPMSolverMultistepScheduler sde-dpmsolver++, order 2, final σ 0
//	ddim          DDIM          DDIMScheduler, eta 0
//
// Schedules (CLI name → A1111 "Schedule type" → meaning). The empty name
// means the sampler's diffusers class with SDXL's scheduler config
// (timestep_spacing "leading", steps_offset 1):
//
//	"", leading   Automatic    diffusers leading spacing: Euler family and DDIM
//	                           t = i·(1000/N) + 1 (831 … 1 for N = 6); DPM-Solver
//	                           its own t = i·(1000/(N+1)) + 1 (853 … 143)
//	trailing      Uniform      diffusers trailing spacing (999 … 1000/N − 1)
//	linspace      Uniform      diffusers linspace spacing (999 … 0)
//	karras        Karras       the same class with use_karras_sigmas: ρ = 7 between
//	                           σ(t_first) and σ(t_last) of the leading spacing with
//	                           fractional timesteps (Euler family), or over the whole
//	                           training range with rounded timesteps (DPM-Solver)
//	exponential   Exponential  the same ranges, evenly spaced in log σ (for DPM-Solver
//	                           decreasing over the training range; not checked
//	                           against diffusers)
//	normal        Normal       ComfyUI: timesteps linspace(999, 0, N), σ by log-σ
//	                           interpolation, final 0
//	sgm_uniform   SGM Uniform  ComfyUI: linspace(999, 0, N+1) without the last, final 0
//	simple        Simple       ComfyUI: every (1000/N)-th σ of the training table
//
// ComfyUI's schedules give the UNet the integer timestep nearest in log σ
// and start from unit noise·√(σ₀²+1); they are transcriptions without
// golden data. DDIM rejects karras and exponential (DDIMScheduler has no
// such option).
//
// # Initial noise scale
//
// diffusers' init_noise_sigma (Schedule.InitNoiseSigma) is √(σmax²+1) for
// the Euler family with leading spacing (5.9905 for 6 steps), σmax with
// trailing/linspace, and 1.0 for DPM-Solver and DDIM (variance-preserving
// latents, i.e. √(σ₀²+1) in k-diffusion form: Schedule.StartScale).
// img2img: Schedule.Img2Img keeps the last int(steps·strength) steps and
// Img2ImgStart adds noise·σ(t_start) with no init_noise_sigma factor.
package sampler
