package sampler

import (
	"fmt"
	"math"
)

// Denoiser is the model seen by a sampler: given the latent x in
// k-diffusion form (x = x0 + σ·ε), its noise level σ and the UNet timestep
// of this step, it returns the model's estimate of x0. The pipeline
// computes ε = UNet(x/√(σ²+1), timestep) with classifier-free guidance and
// returns x − σ·ε.
type Denoiser func(x []float32, sigma float64, timestep float64) (denoised []float32, err error)

// Noise returns n standard normal values; the pipeline controls the RNG
// and therefore the order of draws (e.g. TorchCPU.Randn).
type Noise func(n int) []float32

// Options configure a sampling run. The zero value means defaults.
type Options struct {
	// Noise feeds the stochastic samplers (euler_a, dpmpp_2m_sde); it is
	// called once per step, after the denoiser, as diffusers draws.
	Noise Noise
	// Eta scales the ancestral noise of euler_a (k-diffusion's eta) and
	// SNoise multiplies the noise itself; both 0 means 1 and 1, diffusers'
	// only behaviour.
	Eta, SNoise float64
	// OnStep, if set, receives the latents after each step in diffusers'
	// form for this scheduler (see Schedule.DiffusersLatents): what
	// diffusers' callback_on_step_end sees.
	OnStep func(step int, latents []float32) error
	// AfterStep, if set, may change the sampler's own latents x (k-diffusion
	// form, now at σ sigmaNext) after step i, before OnStep sees them: the
	// hook for inpainting's per-step blending with the re-noised original.
	AfterStep func(step int, x []float32, sigmaNext float64)
}

// run is the state shared by every sampler loop.
type run struct {
	sched   *Schedule
	denoise Denoiser
	opts    Options
}

type runFunc func(r *run, x []float32) ([]float32, error)

// Sample runs the sampler over the schedule from the starting latent x (in
// k-diffusion form, e.g. Schedule.StartLatents or Img2ImgStart) and returns
// the final latents in diffusers' form, ready for the VAE. x is not
// modified.
func (s *Info) Sample(sched *Schedule, x []float32, denoise Denoiser, opts Options) ([]float32, error) {
	if err := sched.validate(); err != nil {
		return nil, err
	}
	if denoise == nil {
		return nil, fmt.Errorf("sampler %s: no denoiser", s.Name)
	}
	if opts.Eta == 0 && opts.SNoise == 0 {
		opts.Eta, opts.SNoise = 1, 1
	}
	if (s.Name == "euler_a" || s.Name == "dpmpp_2m_sde") && opts.Noise == nil {
		return nil, fmt.Errorf("sampler %s draws noise at every step but has no noise source", s.Name)
	}
	r := &run{sched: sched, denoise: denoise, opts: opts}
	out, err := s.run(r, append([]float32(nil), x...))
	if err != nil {
		return nil, err
	}
	return sched.DiffusersLatents(out, sched.Sigmas[len(sched.Sigmas)-1]), nil
}

// model calls the denoiser for step i at σ_i and checks its output size.
func (r *run) model(x []float32, i int) ([]float32, error) {
	return r.modelAt(x, r.sched.Sigmas[i], r.sched.Timesteps[i], i)
}

func (r *run) modelAt(x []float32, sigma, timestep float64, step int) ([]float32, error) {
	d, err := r.denoise(x, sigma, timestep)
	if err != nil {
		return nil, fmt.Errorf("step %d (σ %.4g, t %.4g): %w", step, sigma, timestep, err)
	}
	if len(d) != len(x) {
		return nil, fmt.Errorf("step %d: denoiser returned %d values for a latent of %d", step, len(d), len(x))
	}
	return d, nil
}

// noise draws n values and checks the count.
func (r *run) noise(n, step int) ([]float32, error) {
	z := r.opts.Noise(n)
	if len(z) != n {
		return nil, fmt.Errorf("step %d: noise source returned %d values, want %d", step, len(z), n)
	}
	return z, nil
}

// stepDone reports the latents after step i (now at σ_{i+1}).
func (r *run) stepDone(i int, x []float32) error {
	if r.opts.AfterStep != nil {
		r.opts.AfterStep(i, x, r.sched.Sigmas[i+1])
	}
	if r.opts.OnStep == nil {
		return nil
	}
	return r.opts.OnStep(i, r.sched.DiffusersLatents(x, r.sched.Sigmas[i+1]))
}

// runEuler: x ← x + (x − x0)/σ · (σ_next − σ).
func runEuler(r *run, x []float32) ([]float32, error) {
	s := r.sched.Sigmas
	for i := range r.sched.Timesteps {
		x0, err := r.model(x, i)
		if err != nil {
			return nil, err
		}
		eulerStep(x, x0, s[i], s[i+1])
		if err := r.stepDone(i, x); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// eulerStep moves x from σ to σNext along the derivative (x − x0)/σ.
func eulerStep(x, x0 []float32, sigma, sigmaNext float64) {
	dt := sigmaNext - sigma
	for j := range x {
		d := (float64(x[j]) - float64(x0[j])) / sigma
		x[j] = float32(float64(x[j]) + d*dt)
	}
}

// ancestralSigmas splits the move to σNext into a deterministic part down
// to σDown and fresh noise of size σUp (σDown² + σUp² = σNext²).
func ancestralSigmas(sigma, sigmaNext, eta float64) (down, up float64) {
	up = math.Min(sigmaNext, eta*math.Sqrt(sigmaNext*sigmaNext*(sigma*sigma-sigmaNext*sigmaNext)/(sigma*sigma)))
	down = math.Sqrt(sigmaNext*sigmaNext - up*up)
	return down, up
}

// runEulerAncestral is diffusers' EulerAncestralDiscreteScheduler (and
// k-diffusion's sample_euler_ancestral with eta, s_noise): an Euler step
// to σDown, then noise·σUp. Noise is drawn at every step, the last one
// included (where σUp = 0), as diffusers does.
func runEulerAncestral(r *run, x []float32) ([]float32, error) {
	s := r.sched.Sigmas
	for i := range r.sched.Timesteps {
		x0, err := r.model(x, i)
		if err != nil {
			return nil, err
		}
		down, up := ancestralSigmas(s[i], s[i+1], r.opts.Eta)
		eulerStep(x, x0, s[i], down)
		z, err := r.noise(len(x), i)
		if err != nil {
			return nil, err
		}
		scale := up * r.opts.SNoise
		for j := range x {
			x[j] = float32(float64(x[j]) + float64(z[j])*scale)
		}
		if err := r.stepDone(i, x); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// runDDIM is DDIMScheduler with eta 0. In k-diffusion form its step is
// x ← x0 + σ_target·ε; when the step lands on a σ other than the next
// step's (non-leading spacing), the variance-preserving latent is carried
// over unchanged, as diffusers does.
func runDDIM(r *run, x []float32) ([]float32, error) {
	s := r.sched.Sigmas
	for i := range r.sched.Timesteps {
		x0, err := r.model(x, i)
		if err != nil {
			return nil, err
		}
		target := s[i+1]
		if r.sched.ddimTargets != nil {
			target = r.sched.ddimTargets[i]
		}
		carry := math.Sqrt(s[i+1]*s[i+1]+1) / math.Sqrt(target*target+1)
		for j := range x {
			eps := (float64(x[j]) - float64(x0[j])) / s[i]
			x[j] = float32((float64(x0[j]) + target*eps) * carry)
		}
		if err := r.stepDone(i, x); err != nil {
			return nil, err
		}
	}
	return x, nil
}
