package sampler

// runHeun is diffusers' HeunDiscreteScheduler (k-diffusion's sample_heun
// without churn): an Euler step to σ_next, a second model call there, and
// the step redone with the mean of both derivatives. The last step, to
// σ = 0, is a plain Euler step. The second call uses the next step's
// timestep, as diffusers' duplicated timestep table does.
func runHeun(r *run, x []float32) ([]float32, error) {
	s, ts := r.sched.Sigmas, r.sched.Timesteps
	trial := make([]float32, len(x))
	for i := range ts {
		x0, err := r.model(x, i)
		if err != nil {
			return nil, err
		}
		sigma, sigmaNext := s[i], s[i+1]
		if sigmaNext == 0 {
			eulerStep(x, x0, sigma, sigmaNext)
		} else {
			copy(trial, x)
			eulerStep(trial, x0, sigma, sigmaNext)
			x0Next, err := r.modelAt(trial, sigmaNext, ts[i+1], i)
			if err != nil {
				return nil, err
			}
			dt := sigmaNext - sigma
			for j := range x {
				d1 := (float64(x[j]) - float64(x0[j])) / sigma
				d2 := (float64(trial[j]) - float64(x0Next[j])) / sigmaNext
				x[j] = float32(float64(x[j]) + (d1+d2)/2*dt)
			}
		}
		if err := r.stepDone(i, x); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// lmsOrder is LMSDiscreteScheduler's default order.
const lmsOrder = 4

// runLMS is diffusers' LMSDiscreteScheduler: a linear multistep method
// over the last (up to 4) derivatives (x − x0)/σ, each weighted by the
// integral over [σ_i, σ_{i+1}] of its Lagrange basis polynomial in σ.
func runLMS(r *run, x []float32) ([]float32, error) {
	s := r.sched.Sigmas
	var derivs [][]float64 // newest last
	for i := range r.sched.Timesteps {
		x0, err := r.model(x, i)
		if err != nil {
			return nil, err
		}
		d := make([]float64, len(x))
		for j := range x {
			d[j] = (float64(x[j]) - float64(x0[j])) / s[i]
		}
		derivs = append(derivs, d)
		if len(derivs) > lmsOrder {
			derivs = derivs[1:]
		}
		order := len(derivs)
		for k := 0; k < order; k++ {
			c := lmsCoefficient(s, i, order, k)
			dk := derivs[len(derivs)-1-k]
			for j := range x {
				x[j] = float32(float64(x[j]) + c*dk[j])
			}
		}
		if err := r.stepDone(i, x); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// lmsCoefficient integrates, from σ_i to σ_{i+1}, the Lagrange basis
// polynomial that is 1 at σ_{i−k} and 0 at the other σ_{i−m}, m < order.
// The polynomial has degree < 4, so 3-point Gauss–Legendre is exact.
func lmsCoefficient(s []float64, i, order, k int) float64 {
	basis := func(tau float64) float64 {
		p := 1.0
		for m := 0; m < order; m++ {
			if m != k {
				p *= (tau - s[i-m]) / (s[i-k] - s[i-m])
			}
		}
		return p
	}
	a, b := s[i], s[i+1]
	mid, half := (a+b)/2, (b-a)/2
	const node = 0.7745966692414834 // √(3/5)
	return half * (5.0/9*basis(mid-half*node) + 8.0/9*basis(mid) + 5.0/9*basis(mid+half*node))
}
