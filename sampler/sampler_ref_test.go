package sampler

import "math"

// Independent float64 transcriptions of diffusers 0.31's scheduler step
// functions, in diffusers' own parameterisation, used as references for
// the samplers (see sampler_test.go).

// referenceRun is the float64 diffusers transcription of one scheduler:
// it returns the latents after every step (diffusers' form).
type referenceRun func(s *Schedule, start []float64, noise Noise) [][]float64

// refEuler: EulerDiscreteScheduler.step (epsilon, no churn).
func refEuler(s *Schedule, x []float64, _ Noise) (steps [][]float64) {
	for i, t := range s.Timesteps {
		sigma, next := s.Sigmas[i], s.Sigmas[i+1]
		eps := syntheticEps(scaled(x, 1/math.Sqrt(sigma*sigma+1)), t)
		for j := range x {
			x0 := x[j] - sigma*eps[j]
			x[j] += (x[j] - x0) / sigma * (next - sigma)
		}
		steps = append(steps, append([]float64(nil), x...))
	}
	return steps
}

// refEulerAncestral: EulerAncestralDiscreteScheduler.step.
func refEulerAncestral(s *Schedule, x []float64, noise Noise) (steps [][]float64) {
	for i, t := range s.Timesteps {
		from, to := s.Sigmas[i], s.Sigmas[i+1]
		eps := syntheticEps(scaled(x, 1/math.Sqrt(from*from+1)), t)
		up := math.Sqrt(to * to * (from*from - to*to) / (from * from))
		down := math.Sqrt(to*to - up*up)
		z := noise(len(x))
		for j := range x {
			x0 := x[j] - from*eps[j]
			x[j] += (x[j]-x0)/from*(down-from) + float64(z[j])*up
		}
		steps = append(steps, append([]float64(nil), x...))
	}
	return steps
}

// refDPMSolver: DPMSolverMultistepScheduler (dpmsolver++ or
// sde-dpmsolver++, order 2, midpoint, lower_order_final, final σ 0) on
// variance-preserving latents.
func refDPMSolver(sde bool) referenceRun {
	return func(s *Schedule, x []float64, noise Noise) (steps [][]float64) {
		alphaSigma := func(sigma float64) (float64, float64) {
			a := 1 / math.Sqrt(sigma*sigma+1)
			return a, sigma * a
		}
		lambda := func(sigma float64) float64 {
			a, sv := alphaSigma(sigma)
			return math.Log(a) - math.Log(sv)
		}
		var outputs [][]float64
		n := len(s.Timesteps)
		for i, t := range s.Timesteps {
			eps := syntheticEps(x, t)
			aS, sS := alphaSigma(s.Sigmas[i])
			m0 := make([]float64, len(x))
			for j := range x {
				m0[j] = (x[j] - sS*eps[j]) / aS
			}
			outputs = append(outputs, m0)
			var z []float32
			if sde {
				z = noise(len(x))
			}
			aT, sT := alphaSigma(s.Sigmas[i+1])
			h := lambda(s.Sigmas[i+1]) - lambda(s.Sigmas[i])
			first := i == 0 || i == n-1
			var d1 []float64
			if !first {
				m1 := outputs[len(outputs)-2]
				r0 := (lambda(s.Sigmas[i]) - lambda(s.Sigmas[i-1])) / h
				d1 = make([]float64, len(x))
				for j := range x {
					d1[j] = (m0[j] - m1[j]) / r0
				}
			}
			for j := range x {
				var v float64
				if sde {
					v = sT/sS*math.Exp(-h)*x[j] + aT*(1-math.Exp(-2*h))*m0[j] + sT*math.Sqrt(1-math.Exp(-2*h))*float64(z[j])
					if !first {
						v += 0.5 * aT * (1 - math.Exp(-2*h)) * d1[j]
					}
				} else {
					v = sT/sS*x[j] - aT*(math.Exp(-h)-1)*m0[j]
					if !first {
						v -= 0.5 * aT * (math.Exp(-h) - 1) * d1[j]
					}
				}
				x[j] = v
			}
			steps = append(steps, append([]float64(nil), x...))
		}
		return steps
	}
}

// refDDIM: DDIMScheduler.step with eta 0 on ᾱ directly.
func refDDIM(s *Schedule, x []float64, _ Noise) (steps [][]float64) {
	ac := AlphasCumprod()
	ratio := TrainSteps / len(s.Timesteps)
	for _, t := range s.Timesteps {
		eps := syntheticEps(x, t)
		aT := float64(ac[int(t)])
		prev := int(t) - ratio
		aPrev := float64(ac[0])
		if prev >= 0 {
			aPrev = float64(ac[prev])
		}
		for j := range x {
			x0 := (x[j] - math.Sqrt(1-aT)*eps[j]) / math.Sqrt(aT)
			x[j] = math.Sqrt(aPrev)*x0 + math.Sqrt(1-aPrev)*eps[j]
		}
		steps = append(steps, append([]float64(nil), x...))
	}
	return steps
}

// refHeun: HeunDiscreteScheduler over its duplicated σ/t tables.
func refHeun(s *Schedule, x []float64, _ Noise) (steps [][]float64) {
	ts, sig := heunTables(s)
	var prevDeriv, saved []float64
	var dt float64
	for k, t := range ts {
		firstOrder := prevDeriv == nil
		var sigma, next float64
		if firstOrder {
			sigma, next = sig[k], sig[k+1]
		} else {
			sigma, next = sig[k-1], sig[k]
		}
		cur := sig[k]
		eps := syntheticEps(scaled(x, 1/math.Sqrt(cur*cur+1)), t)
		if firstOrder {
			d := make([]float64, len(x))
			for j := range x {
				d[j] = eps[j] // (x − (x − σ·ε))/σ
			}
			dt = next - sigma
			prevDeriv, saved = d, append([]float64(nil), x...)
			for j := range x {
				x[j] += d[j] * dt
			}
			if next == 0 || k == len(ts)-1 {
				steps = append(steps, append([]float64(nil), x...))
				prevDeriv = nil
			}
			continue
		}
		for j := range x {
			x[j] = saved[j] + (prevDeriv[j]+eps[j])/2*dt
		}
		prevDeriv = nil
		steps = append(steps, append([]float64(nil), x...))
	}
	return steps
}

// refLMS: LMSDiscreteScheduler (order 4), coefficients integrated with a
// fine composite Simpson rule instead of Gauss–Legendre.
func refLMS(s *Schedule, x []float64, _ Noise) (steps [][]float64) {
	var derivs [][]float64
	for i, t := range s.Timesteps {
		sigma := s.Sigmas[i]
		derivs = append(derivs, syntheticEps(scaled(x, 1/math.Sqrt(sigma*sigma+1)), t))
		if len(derivs) > 4 {
			derivs = derivs[1:]
		}
		order := len(derivs)
		for k := 0; k < order; k++ {
			f := func(tau float64) float64 {
				p := 1.0
				for m := 0; m < order; m++ {
					if m != k {
						p *= (tau - s.Sigmas[i-m]) / (s.Sigmas[i-k] - s.Sigmas[i-m])
					}
				}
				return p
			}
			const parts = 200
			a, b := s.Sigmas[i], s.Sigmas[i+1]
			hh := (b - a) / parts
			sum := f(a) + f(b)
			for p := 1; p < parts; p++ {
				w := 2.0
				if p%2 == 1 {
					w = 4
				}
				sum += w * f(a+float64(p)*hh)
			}
			c := sum * hh / 3
			for j := range x {
				x[j] += c * derivs[len(derivs)-1-k][j]
			}
		}
		steps = append(steps, append([]float64(nil), x...))
	}
	return steps
}

func scaled(x []float64, f float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v * f
	}
	return out
}
