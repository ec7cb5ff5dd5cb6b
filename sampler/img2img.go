package sampler

import "fmt"

// Img2Img cuts a schedule for image-to-image as diffusers' img2img
// pipeline does: only the last int(steps·strength) steps run (10 steps at
// strength 0.6: t = 501 … 1). It returns the shortened schedule.
func (s *Schedule) Img2Img(strength float64) (*Schedule, error) {
	if !(strength > 0 && strength <= 1) {
		return nil, fmt.Errorf("sampler: img2img strength %v, want 0 < strength ≤ 1", strength)
	}
	n := len(s.Timesteps)
	keep := min(int(float64(n)*strength), n)
	if keep < 1 {
		return nil, fmt.Errorf("sampler: strength %v of %d steps leaves no step to run", strength, n)
	}
	return s.Tail(keep)
}

// Tail keeps the last keep steps of the schedule (A1111's img2img runs the
// last steps of a longer schedule this way).
func (s *Schedule) Tail(keep int) (*Schedule, error) {
	n := len(s.Timesteps)
	if keep < 1 || keep > n {
		return nil, fmt.Errorf("sampler: cannot keep %d of %d steps", keep, n)
	}
	begin := n - keep
	out := *s
	out.Timesteps = s.Timesteps[begin:]
	out.Sigmas = s.Sigmas[begin:]
	if s.ddimTargets != nil {
		out.ddimTargets = s.ddimTargets[begin:]
	}
	return &out, nil
}

// Img2ImgStart adds noise to the encoded image latents at the first σ of
// the (cut) schedule, x = latents + noise·σ₀ in k-diffusion form: diffusers'
// add_noise, without any init_noise_sigma factor. (For variance-preserving
// schedulers diffusers computes α·latents + σ_vp·noise, which is the same
// point in k-diffusion form.)
func (s *Schedule) Img2ImgStart(latents, noise []float32) ([]float32, error) {
	if len(latents) != len(noise) {
		return nil, fmt.Errorf("sampler: img2img latents have %d values but noise %d", len(latents), len(noise))
	}
	sigma := s.Sigmas[0]
	out := make([]float32, len(latents))
	for i := range latents {
		out[i] = latents[i] + noise[i]*float32(sigma)
	}
	return out, nil
}
