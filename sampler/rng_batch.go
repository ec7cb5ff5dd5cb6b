package sampler

import "fmt"

// Two conventions exist for the noise of a batch of B images:
//
//   - diffusers (one generator passed to the pipeline): one randn of shape
//     [B, ...] from a single generator. Image i's noise then depends on B,
//     because the values are drawn as one tensor (and normal_fill pairs
//     values in blocks of 16 across the whole tensor). Use
//     NewTorchCPU(seed, v).Randn directly with n = B·perImage.
//   - A1111 / "seed + i" (also diffusers given a list of generators): image
//     i has its own generator seeded seed+i, and every draw takes
//     perImage values from each generator in turn. Image i reproduces alone
//     with seed+i, whatever the batch size. Use PerImageTorchCPU.

// PerImageTorchCPU draws batch noise with one torch CPU generator per
// image, seeded seed, seed+1, … (the A1111 convention).
type PerImageTorchCPU struct {
	gens []*TorchCPU
}

// NewPerImageTorchCPU makes batch generators seeded seed+i.
func NewPerImageTorchCPU(seed uint64, batch int, variant Variant) (*PerImageTorchCPU, error) {
	if batch < 1 {
		return nil, fmt.Errorf("sampler: batch size %d, want at least 1", batch)
	}
	p := &PerImageTorchCPU{gens: make([]*TorchCPU, batch)}
	for i := range p.gens {
		p.gens[i] = NewTorchCPU(seed+uint64(i), variant)
	}
	return p, nil
}

// Randn returns n values laid out [batch, n/batch]: image i's block comes
// from generator i. It panics if n is negative or not a multiple of the
// batch size, a programming error (latent sizes are always per-image sizes
// × batch, bounded by the pipeline's request limits so that they cannot
// overflow).
func (p *PerImageTorchCPU) Randn(n int) []float32 {
	b := len(p.gens)
	if n < 0 || n%b != 0 {
		panic(fmt.Sprintf("sampler: %d values cannot be split over %d images", n, b))
	}
	out := make([]float32, 0, n)
	for _, g := range p.gens {
		out = append(out, g.Randn(n/b)...)
	}
	return out
}
