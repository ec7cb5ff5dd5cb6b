package sampler

import (
	"fmt"
	"math"
)

// Timestep spacings of diffusers ("Common Diffusion Noise Schedules and
// Sample Steps are Flawed", table 2), for a training range of 1000 steps.

// numpyArangeDown mirrors np.arange(start, 0, -step) for a float step:
// ceil(start/step) elements start − i·step (numpy's length rule can give
// one element more than expected for some step counts).
func numpyArangeDown(start, step float64) []float64 {
	n := int(math.Ceil((0 - start) / -step))
	out := make([]float64, n)
	for i := range out {
		out[i] = start + float64(i)*-step
	}
	return out
}

// numpyLinspace mirrors np.linspace(start, stop, n) in float64.
func numpyLinspace(start, stop float64, n int) []float64 {
	out := make([]float64, n)
	if n == 1 {
		out[0] = start
		return out
	}
	step := (stop - start) / float64(n-1)
	for i := range out {
		out[i] = float64(i)*step + start
	}
	out[n-1] = stop
	return out
}

// roundHalfEven is numpy's round.
func roundHalfEven(x float64) float64 { return math.RoundToEven(x) }

// spacedTimesteps gives the descending timesteps of the Euler-family and
// DDIM schedulers (steps_offset 1, as in SDXL's config).
func spacedTimesteps(spacing string, n int) ([]float64, error) {
	out := make([]float64, 0, n)
	switch spacing {
	case "leading":
		ratio := TrainSteps / n
		for i := n - 1; i >= 0; i-- {
			out = append(out, float64(i*ratio)+1)
		}
	case "trailing":
		for _, t := range numpyArangeDown(TrainSteps, float64(TrainSteps)/float64(n)) {
			out = append(out, roundHalfEven(t)-1)
		}
	case "linspace":
		ts := numpyLinspace(0, TrainSteps-1, n)
		for i := n - 1; i >= 0; i-- {
			out = append(out, ts[i])
		}
	default:
		return nil, fmt.Errorf("sampler: unknown timestep spacing %q", spacing)
	}
	return out, nil
}

// dpmTimesteps gives DPMSolverMultistepScheduler's integer timesteps: its
// "leading" divides by N+1 and drops the last point (853 … 143 for N = 6).
func dpmTimesteps(spacing string, n int) ([]float64, error) {
	out := make([]float64, 0, n)
	switch spacing {
	case "leading":
		ratio := TrainSteps / (n + 1)
		for i := n; i >= 1; i-- {
			out = append(out, float64(i*ratio)+1)
		}
	case "trailing":
		for _, t := range numpyArangeDown(TrainSteps, float64(TrainSteps)/float64(n)) {
			out = append(out, roundHalfEven(t)-1)
		}
	case "linspace":
		ts := numpyLinspace(0, TrainSteps-1, n+1)
		for i := n; i >= 1; i-- {
			out = append(out, roundHalfEven(ts[i]))
		}
	default:
		return nil, fmt.Errorf("sampler: unknown timestep spacing %q", spacing)
	}
	return out, nil
}

// interpSigma is np.interp(t, arange(1000), table) for t in [0, 999].
func interpSigma(table []float64, t float64) float64 {
	if t <= 0 {
		return table[0]
	}
	last := len(table) - 1
	if t >= float64(last) {
		return table[last]
	}
	j := int(t)
	if float64(j) == t {
		return table[j]
	}
	slope := table[j+1] - table[j]
	return slope*(t-float64(j)) + table[j]
}

// sigmaToT inverts σ(t) by linear interpolation of log σ between the two
// neighbouring integer timesteps (diffusers' _sigma_to_t). logSigmas is
// ascending in t.
func sigmaToT(sigma float64, logSigmas []float64) float64 {
	logSigma := math.Log(math.Max(sigma, 1e-10))
	low := 0
	for i, ls := range logSigmas {
		if logSigma-ls >= 0 {
			low = i
		}
	}
	low = min(low, len(logSigmas)-2)
	high := low + 1
	lo, hi := logSigmas[low], logSigmas[high]
	w := (lo - logSigma) / (lo - hi)
	w = min(max(w, 0), 1)
	return (1-w)*float64(low) + w*float64(high)
}

// karrasSigmas is the schedule of Karras et al. (2022) with ρ = 7 between
// sigmaMax and sigmaMin, n points, in float64.
func karrasSigmas(sigmaMin, sigmaMax float64, n int) []float64 {
	const rho = 7.0
	minInv := math.Pow(sigmaMin, 1/rho)
	maxInv := math.Pow(sigmaMax, 1/rho)
	ramp := numpyLinspace(0, 1, n)
	out := make([]float64, n)
	for i, r := range ramp {
		out[i] = math.Pow(maxInv+r*(minInv-maxInv), rho)
	}
	return out
}

// exponentialSigmas is evenly spaced in log σ from sigmaMax down to
// sigmaMin, n points (diffusers computes it in float32).
func exponentialSigmas(sigmaMin, sigmaMax float64, n int) []float64 {
	logs := torchLinspace32(float32(math.Log(sigmaMax)), float32(math.Log(sigmaMin)), n)
	out := make([]float64, n)
	for i, l := range logs {
		out[i] = f32(math.Exp(float64(l)))
	}
	return out
}
