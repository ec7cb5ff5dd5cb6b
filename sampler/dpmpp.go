package sampler

import "math"

// DPM-Solver++ (2M and 2M SDE) as diffusers' DPMSolverMultistepScheduler
// runs them (≥ 0.26): the first step and the last step (which goes to
// σ = 0) are first order, the others second order in the midpoint form.
// diffusers works on variance-preserving latents with λ = log(α/σ_vp);
// written for k-diffusion latents the same update is, with
// e^{−h} = σ_next/σ (λ = −log σ):
//
//	2M:     x ← (σ_next/σ)·x − (e^{−h} − 1)·(D0 + ½·D1)
//	2M SDE: x ← (σ_next/σ)·e^{−h}·x + (1 − e^{−2h})·(D0 + ½·D1) + σ_next·√(1 − e^{−2h})·z
//
// with D0 the current x0 estimate and D1 = (D0 − previous x0)/r,
// r = h_previous/h (D1 = 0 for first-order steps).

func runDPMPP2M(r *run, x []float32) ([]float32, error) { return runDPMPP(r, x, false) }

func runDPMPP2MSDE(r *run, x []float32) ([]float32, error) { return runDPMPP(r, x, true) }

func runDPMPP(r *run, x []float32, sde bool) ([]float32, error) {
	s := r.sched.Sigmas
	n := len(r.sched.Timesteps)
	var prevX0 []float32
	for i := 0; i < n; i++ {
		x0, err := r.model(x, i)
		if err != nil {
			return nil, err
		}
		var z []float32
		if sde {
			if z, err = r.noise(len(x), i); err != nil {
				return nil, err
			}
		}
		sigma, sigmaNext := s[i], s[i+1]
		ratio := sigmaNext / sigma // e^{−h}; 0 when σ_next = 0
		secondOrder := i > 0 && i < n-1 && sigmaNext > 0
		var d1Scale float64 // D1 = d1Scale·(x0 − prevX0)
		if secondOrder {
			h := math.Log(sigma / sigmaNext)
			hPrev := math.Log(s[i-1] / sigma)
			d1Scale = h / hPrev
		}
		var xCoef, dCoef, noiseCoef float64
		if sde {
			xCoef = ratio * ratio
			dCoef = 1 - ratio*ratio
			noiseCoef = sigmaNext * math.Sqrt(1-ratio*ratio)
		} else {
			xCoef = ratio
			dCoef = 1 - ratio
		}
		for j := range x {
			d := float64(x0[j])
			if secondOrder {
				d += 0.5 * d1Scale * (float64(x0[j]) - float64(prevX0[j]))
			}
			v := xCoef*float64(x[j]) + dCoef*d
			if sde {
				v += noiseCoef * float64(z[j])
			}
			x[j] = float32(v)
		}
		prevX0 = x0
		if err := r.stepDone(i, x); err != nil {
			return nil, err
		}
	}
	return x, nil
}
