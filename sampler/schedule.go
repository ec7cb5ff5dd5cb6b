package sampler

import (
	"fmt"
	"math"
)

// Schedule is the noise schedule of one sampling run: the σ each step
// starts from, the timestep the UNet is given there, and how the starting
// latent is scaled. All σ are k-diffusion (variance exploding) noise
// levels: x = x0 + σ·ε.
type Schedule struct {
	// Timesteps[i] is the UNet timestep of step i (fractional for some
	// schedules, e.g. Euler with Karras sigmas).
	Timesteps []float64
	// Sigmas has len(Timesteps)+1 entries: step i goes from Sigmas[i] to
	// Sigmas[i+1]; the last entry is usually 0. Values are float32-rounded,
	// as diffusers stores them.
	Sigmas []float64
	// InitNoiseSigma is diffusers' scheduler.init_noise_sigma: what the
	// pipeline multiplies unit noise by to get its starting latents, in the
	// scheduler's own parameterisation (1.0 for DPM-Solver and DDIM, whose
	// latents are variance preserving).
	InitNoiseSigma float64
	// VP is true when the diffusers scheduler keeps its latents variance
	// preserving (x_vp = x/√(σ²+1)): DPM-Solver and DDIM. It decides how
	// StartLatents scales noise and what DiffusersLatents reports.
	VP bool
	// ddimTargets, for DDIM only, is the σ each step lands on: the σ of
	// timestep t − 1000/N, which is not the next step's σ unless the
	// spacing is "leading".
	ddimTargets []float64
}

// Steps is the number of denoising steps.
func (s *Schedule) Steps() int { return len(s.Timesteps) }

// StartScale is the factor that turns unit noise into the starting latent
// x in k-diffusion form: InitNoiseSigma for schedulers that already work in
// that form, √(σ₀²+1)·InitNoiseSigma for variance-preserving ones.
func (s *Schedule) StartScale() float64 {
	if s.VP {
		return s.InitNoiseSigma * math.Sqrt(s.Sigmas[0]*s.Sigmas[0]+1)
	}
	return s.InitNoiseSigma
}

// StartLatents returns noise·StartScale (txt2img), computed in float32 as
// the pipeline does (latents · init_noise_sigma).
func (s *Schedule) StartLatents(noise []float32) []float32 {
	scale := float32(s.StartScale())
	out := make([]float32, len(noise))
	for i, v := range noise {
		out[i] = v * scale
	}
	return out
}

// DiffusersLatents converts x (k-diffusion form, at noise level sigma) to
// the latents diffusers holds for this scheduler: x itself for the Euler
// family, x/√(σ²+1) for variance-preserving schedulers. It is the form
// diffusers' step callbacks and the VAE see.
func (s *Schedule) DiffusersLatents(x []float32, sigma float64) []float32 {
	out := make([]float32, len(x))
	if !s.VP {
		copy(out, x)
		return out
	}
	scale := 1 / math.Sqrt(sigma*sigma+1)
	for i, v := range x {
		out[i] = float32(float64(v) * scale)
	}
	return out
}

// validate checks the invariants every sampler relies on.
func (s *Schedule) validate() error {
	if len(s.Timesteps) == 0 {
		return fmt.Errorf("sampler: empty schedule")
	}
	if len(s.Sigmas) != len(s.Timesteps)+1 {
		return fmt.Errorf("sampler: schedule has %d timesteps but %d sigmas (want %d)",
			len(s.Timesteps), len(s.Sigmas), len(s.Timesteps)+1)
	}
	return nil
}

// f32 rounds to float32 and widens back: diffusers' tables are float32.
func f32(x float64) float64 { return float64(float32(x)) }

// initNoiseSigmaEuler is init_noise_sigma of diffusers' Euler-type
// schedulers, in float32 like the torch scalar arithmetic it mirrors:
// σmax for linspace/trailing spacing, √(σmax²+1) otherwise.
func initNoiseSigmaEuler(sigmas []float64, spacing string) float64 {
	m := float32(0)
	for _, s := range sigmas {
		m = max(m, float32(s))
	}
	if spacing == "linspace" || spacing == "trailing" {
		return float64(m)
	}
	return float64(float32(math.Sqrt(float64(m*m + 1))))
}
