package sdxl

import (
	"fmt"
	"math"
)

// This file is the denoising loop of both pipelines, written against small
// function types so that it is independent of how the model and the
// sampler are built (model.go and pipeline_sampler.go connect them).

// conditioning is the text side of one run, batch-expanded: prompt
// embeddings [B, T, C] and pooled [B, P] for the negative and positive
// halves, and the size/crop ids shared by both.
type conditioning struct {
	batch, tokens, width, pooledWidth int
	neg, pos                          []float32
	negPooled, posPooled              []float32
	timeIDs                           [6]float32
}

// unetFunc predicts ε for x [2B, 4, h, w] (NCHW, already divided by
// sqrt(σ²+1)) at timestep t, with batch [negative…, positive…].
type unetFunc func(x []float32, shape latentShape, t float64, c *conditioning) ([]float32, error)

// plan is a sampler prepared for one run.
type plan struct {
	timesteps []float64 // one per step run
	sigmas    []float64 // len(timesteps)+1, ending in 0
	// initNoiseSigma scales txt2img's initial noise (sqrt(σmax²+1) for
	// Euler-type samplers, 1 for DDIM/DPM-Solver).
	initNoiseSigma float64
	// run integrates from x at sigmas[0] to sigmas[end], drawing noise from
	// randn and calling after(i, x) after each step.
	run func(den func(x []float32, sigma float64) ([]float32, error), x []float32,
		randn func(n int) []float32, after func(i int, x []float32)) ([]float32, error)
}

// cfgDenoiser builds the k-diffusion denoiser x0(x, σ) around one batched
// UNet call per evaluation: the batch is [negative, positive] and
// ε = ε_neg + cfg·(ε_pos − ε_neg), x0 = x − σ·ε.
func cfgDenoiser(unet unetFunc, c *conditioning, shape latentShape, p *plan, cfg float64,
	firstCall func(in, out []float32, t float64)) func(x []float32, sigma float64) ([]float32, error) {
	calls := 0
	return func(x []float32, sigma float64) ([]float32, error) {
		t, err := p.timestepOf(sigma)
		if err != nil {
			return nil, err
		}
		n := shape.size()
		// diffusers computes sample / ((σ² + 1) ** 0.5) in float32.
		s32 := float32(sigma)
		scale := float32(math.Sqrt(float64(s32*s32 + 1)))
		in := make([]float32, 2*n)
		for i, v := range x {
			in[i] = v / scale
			in[n+i] = v / scale
		}
		double := shape
		double.b *= 2
		eps, err := unet(in, double, t, c)
		if err != nil {
			return nil, err
		}
		if calls == 0 && firstCall != nil {
			firstCall(in, eps, t)
		}
		calls++
		g := float32(cfg)
		x0 := make([]float32, n)
		for i := range x0 {
			e := eps[i] + g*(eps[n+i]-eps[i])
			x0[i] = x[i] - s32*e
		}
		return x0, nil
	}
}

// timestepOf finds the UNet timestep of a sigma of the plan's schedule.
func (p *plan) timestepOf(sigma float64) (float64, error) {
	for i, s := range p.sigmas[:len(p.timesteps)] {
		if s == sigma {
			return p.timesteps[i], nil
		}
	}
	return 0, fmt.Errorf("sdxl: sampler asked for σ = %v, not in its schedule", sigma)
}
