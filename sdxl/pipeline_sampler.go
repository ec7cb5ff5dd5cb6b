package sdxl

import "fmt"

// newPlan prepares the named sampler's schedule for steps steps. The
// sampler package's schedules and step loops are connected here once they
// are in the tree; until then generation stops with this error.
func newPlan(name, schedule string, steps int) (*plan, error) {
	return nil, fmt.Errorf("sdxl: sampler %q is not connected to the pipeline yet", name)
}

// keepLast drops all but the last n steps (img2img's strength cut).
func (p *plan) keepLast(n int) {
	start := len(p.timesteps) - n
	p.timesteps = p.timesteps[start:]
	p.sigmas = p.sigmas[start:]
}
