package sampler

import (
	"fmt"
	"math"
)

// Builders of the schedule tables, one per diffusers scheduler family
// (plus ComfyUI's table schedules). Each mirrors the library's arithmetic,
// including where it rounds to float32, so that timesteps match exactly
// and σ to float32 rounding.

// sigmaTransform names how the spaced σ are re-spaced: not at all, Karras
// (ρ = 7) or exponential (even in log σ).
type sigmaTransform int

const (
	plainSigmas sigmaTransform = iota
	karrasTransform
	exponentialTransform
)

// float32LogSigmas is log σ_t of the training table in float32, as numpy
// computes it from the float32 table.
func float32LogSigmas(table []float64) []float64 {
	out := make([]float64, len(table))
	for i, s := range table {
		out[i] = f32(math.Log(s))
	}
	return out
}

// eulerFamilySchedule is EulerDiscreteScheduler's set_timesteps (shared by
// Euler ancestral, LMS and Heun): spaced timesteps, σ interpolated at
// them, optionally re-spaced between σ(t_first) and σ(t_last) with
// fractional timesteps recovered from log σ; init_noise_sigma √(σmax²+1)
// for leading spacing.
func eulerFamilySchedule(spacing string, transform sigmaTransform, n int) (*Schedule, error) {
	ts, err := spacedTimesteps(spacing, n)
	if err != nil {
		return nil, err
	}
	table := trainSigmas()
	sigmas := make([]float64, len(ts))
	for i := range ts {
		ts[i] = f32(ts[i])
		sigmas[i] = interpSigma(table, ts[i])
	}
	if transform != plainSigmas {
		if transform == karrasTransform {
			sigmas = karrasSigmas(sigmas[len(sigmas)-1], sigmas[0], len(sigmas))
		} else {
			sigmas = exponentialSigmas(sigmas[len(sigmas)-1], sigmas[0], len(sigmas))
		}
		logSigmas := float32LogSigmas(table)
		for i, s := range sigmas {
			ts[i] = f32(sigmaToT(s, logSigmas))
		}
	}
	s := &Schedule{Timesteps: ts, Sigmas: appendFinalZero(sigmas)}
	s.InitNoiseSigma = initNoiseSigmaEuler(s.Sigmas, spacing)
	return s, nil
}

// dpmSolverSchedule is DPMSolverMultistepScheduler's set_timesteps: its own
// spacings, Karras/exponential over the full training range with timesteps
// rounded to integers, latents variance preserving (init_noise_sigma 1).
func dpmSolverSchedule(spacing string, transform sigmaTransform, n int) (*Schedule, error) {
	ts, err := dpmTimesteps(spacing, n)
	if err != nil {
		return nil, err
	}
	table := trainSigmas()
	sigmas := make([]float64, len(ts))
	switch transform {
	case plainSigmas:
		for i, t := range ts {
			sigmas[i] = interpSigma(table, t)
		}
	case karrasTransform, exponentialTransform:
		sigmaMin, sigmaMax := table[0], table[len(table)-1]
		if transform == karrasTransform {
			sigmas = karrasSigmas(sigmaMin, sigmaMax, n)
		} else {
			sigmas = exponentialSigmas(sigmaMin, sigmaMax, n)
		}
		logSigmas := float32LogSigmas(table)
		ts = make([]float64, n)
		for i, s := range sigmas {
			ts[i] = roundHalfEven(sigmaToT(s, logSigmas))
		}
	}
	return &Schedule{Timesteps: ts, Sigmas: appendFinalZero(sigmas), InitNoiseSigma: 1, VP: true}, nil
}

// ddimSchedule is DDIMScheduler's: integer spaced timesteps; each step
// lands on ᾱ of t − 1000/N, or ᾱ_0 past the start (set_alpha_to_one false).
func ddimSchedule(spacing string, n int) (*Schedule, error) {
	ts, err := spacedTimesteps(spacing, n)
	if err != nil {
		return nil, err
	}
	table := trainSigmas()
	s := &Schedule{Timesteps: ts, InitNoiseSigma: 1, VP: true}
	ratio := TrainSteps / n
	for _, t := range ts {
		s.Sigmas = append(s.Sigmas, table[int(t)])
		prev := int(t) - ratio
		s.ddimTargets = append(s.ddimTargets, table[max(prev, 0)])
	}
	s.Sigmas = append(s.Sigmas, s.ddimTargets[n-1])
	return s, nil
}

// comfySigmaTable is ComfyUI's σ table for SDXL: betas and ᾱ in float64,
// σ stored as float32.
func comfySigmaTable() []float64 {
	start, end := math.Sqrt(betaStart), math.Sqrt(betaEnd)
	out := make([]float64, TrainSteps)
	acc := 1.0
	for i := range out {
		b := start + (end-start)*float64(i)/float64(TrainSteps-1)
		acc *= 1 - b*b
		out[i] = f32(math.Sqrt((1 - acc) / acc))
	}
	return out
}

// comfySchedule builds ComfyUI's "normal", "sgm_uniform" and "simple"
// schedules. ComfyUI gives the UNet the integer timestep whose log σ is
// nearest, and starts from unit noise · √(σ₀²+1) at full denoise.
func comfySchedule(name string, n int) (*Schedule, error) {
	table := comfySigmaTable()
	logSigmas := make([]float64, len(table))
	for i, s := range table {
		logSigmas[i] = math.Log(s)
	}
	// sigmaAt interpolates log σ linearly between integer timesteps.
	sigmaAt := func(t float64) float64 {
		lo := math.Floor(t)
		hi := math.Ceil(t)
		w := t - lo
		return f32(math.Exp((1-w)*logSigmas[int(lo)] + w*logSigmas[int(hi)]))
	}
	last := float64(TrainSteps - 1)
	var sigmas []float64
	switch name {
	case "normal":
		for _, t := range torchLinspace32(float32(last), 0, n) {
			sigmas = append(sigmas, sigmaAt(float64(t)))
		}
	case "sgm_uniform":
		ts := torchLinspace32(float32(last), 0, n+1)
		for _, t := range ts[:n] {
			sigmas = append(sigmas, sigmaAt(float64(t)))
		}
	case "simple":
		step := float64(TrainSteps) / float64(n)
		for x := 0; x < n; x++ {
			sigmas = append(sigmas, table[TrainSteps-1-int(float64(x)*step)])
		}
	default:
		return nil, fmt.Errorf("sampler: unknown ComfyUI schedule %q", name)
	}
	ts := make([]float64, n)
	for i, s := range sigmas {
		ts[i] = float64(nearestTimestep(s, logSigmas))
	}
	s := &Schedule{Timesteps: ts, Sigmas: appendFinalZero(sigmas)}
	s.InitNoiseSigma = math.Sqrt(s.Sigmas[0]*s.Sigmas[0] + 1)
	return s, nil
}

// nearestTimestep is the integer timestep whose log σ is closest.
func nearestTimestep(sigma float64, logSigmas []float64) int {
	ls := math.Log(sigma)
	best := 0
	for i, v := range logSigmas {
		if math.Abs(ls-v) < math.Abs(ls-logSigmas[best]) {
			best = i
		}
	}
	return best
}

// appendFinalZero rounds σ to float32 and appends the final σ = 0.
func appendFinalZero(sigmas []float64) []float64 {
	out := make([]float64, 0, len(sigmas)+1)
	for _, s := range sigmas {
		out = append(out, f32(s))
	}
	return append(out, 0)
}
