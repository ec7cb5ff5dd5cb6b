package sdxl

import (
	"context"
	"fmt"

	"github.com/gosdxl/gosdxl/sampler"
)

// newSchedule looks up the request's sampler and builds its schedule;
// img2img keeps only the last int(steps·strength) steps, as diffusers'
// img2img pipeline does.
func newSchedule(r *Request) (*sampler.Info, *sampler.Schedule, error) {
	info, err := sampler.Lookup(r.Sampler)
	if err != nil {
		return nil, nil, err
	}
	sched, err := info.Schedule(r.Schedule, r.Steps)
	if err != nil {
		return nil, nil, err
	}
	if r.InitImage != nil {
		if sched, err = sched.Img2Img(r.Strength); err != nil {
			return nil, nil, err
		}
	}
	return info, sched, nil
}

// cfgDenoiser builds the sampler's denoiser around one batched UNet call
// per evaluation: the batch is [negative, positive], the UNet sees
// x/√(σ²+1) and the step's timestep, and
//
//	ε = ε_neg + cfg·(ε_pos − ε_neg),  x0 = x − σ·ε.
//
// firstCall, if set, receives the inputs and output of the first UNet call
// (for dumps).
func cfgDenoiser(unet unetFunc, c *Conditioning, shape latentShape, cfg float64,
	firstCall func(in, out []float32, t float64)) sampler.Denoiser {
	calls := 0
	return func(x []float32, sigma, timestep float64) ([]float32, error) {
		n := shape.size()
		if len(x) != n {
			return nil, fmt.Errorf("sdxl: denoiser got %d latent values, want %d", len(x), n)
		}
		// diffusers' scale_model_input computes sample / ((σ² + 1) ** 0.5)
		// with σ a float32 tensor: every operation rounds to float32.
		s32 := float32(sigma)
		scale := sqrt32(s32*s32 + 1)
		in := make([]float32, 2*n)
		for i, v := range x {
			in[i] = v / scale
			in[n+i] = v / scale
		}
		double := shape
		double.b *= 2
		eps, err := unet(in, double, timestep, c)
		if err != nil {
			return nil, err
		}
		if calls == 0 && firstCall != nil {
			firstCall(in, eps, timestep)
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

// stopBefore makes den refuse to run once ctx is done, with its cause: a
// run stops at its next model evaluation, as A1111's denoiser does, rather
// than after computing one more step.
func stopBefore(ctx context.Context, den sampler.Denoiser) sampler.Denoiser {
	if ctx == nil {
		return den
	}
	return func(x []float32, sigma, t float64) ([]float32, error) {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return den(x, sigma, t)
	}
}

// unetFunc predicts ε for x [2B, 4, h, w] (NCHW, already divided by
// √(σ²+1)) at timestep t, with batch [negative…, positive…].
type unetFunc func(x []float32, shape latentShape, t float64, c *Conditioning) ([]float32, error)

// sampleLatents is one sampling pass, the same for the main pass, the
// hires pass and inpainting: the sampler with classifier-free guidance from
// x (k-diffusion form), returning the final latents. Between steps it
// stops once r.Context is done (returning its cause); after, if set, runs
// after every step on the sampler's own latents (inpainting's blend);
// firstCall, if set, sees the first UNet call (dumps). With
// r.KeepPartial a stop returns the last prediction and a stoppedEarly
// error (pipeline_partial.go). The latents after
// each step are observed in stage as latents_step_NN. The UNet's inputs
// (conditioning, cross-attention K/V) are planned once for the pass and
// freed on return, before the VAE needs the memory.
func (m *Model) sampleLatents(r *Request, info *sampler.Info, sched *sampler.Schedule, x []float32,
	cond *Conditioning, shape latentShape, randn func(int) []float32, after func(int, []float32, float64),
	firstCall func(in, out []float32, t float64), stage string) ([]float32, error) {
	double := shape
	double.b *= 2
	plan, err := m.newUNetPlan(double, cond)
	if err != nil {
		return nil, err
	}
	defer plan.free()
	preview := &previewer{r: r, shape: shape}
	last := &lastPrediction{r: r}
	den := preview.wrap(last.wrap(stopBefore(r.Context, cfgDenoiser(plan.run, cond, shape, r.CFGScale, firstCall))))
	total := sched.Steps()
	return last.finish(info.Sample(sched, x, den, sampler.Options{
		Noise:     randn,
		AfterStep: after,
		OnStep: func(i int, latents []float32) error {
			if r.Context != nil && r.Context.Err() != nil {
				return context.Cause(r.Context)
			}
			r.observe(stage, fmt.Sprintf("latents_step_%02d", i), shape.dims(), latents)
			preview.stepDone(i+1, total)
			if r.OnStep != nil {
				r.OnStep(i+1, total)
			}
			return nil
		},
	}))
}
