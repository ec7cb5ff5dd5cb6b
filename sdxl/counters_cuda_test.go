//go:build cuda

package sdxl

import (
	"testing"

	"github.com/gosdxl/gosdxl/kernels"
	"github.com/gosdxl/gosdxl/prompt"
	"github.com/gosdxl/gosdxl/tensor"
)

// TestGPUTinyUNetStepCosts pins what one F16 denoising step (a CFG
// step's batch of two, as the pipeline plans it: unetPlan.queue) costs
// the CUDA backend once warmed up, from the backend's own counters
// (tensor.Counting), so that a regression shows without a GPU on the
// emulated driver: no cuMemAlloc (the pool serves every block), no host
// wait and no download inside the step, and a bounded number of uploads
// and launches.
func TestGPUTinyUNetStepCosts(t *testing.T) {
	// Op by op, so that the step's kernels are counted (a replayed graph
	// counts as one launch).
	b := newGPUWith(t, kernels.Options{NoGraphs: true})
	u := bindTinyUNet(t, b)
	step := plannedStep(t, b, u, latentShape{b: 2, c: tinyUNetConfig.InChannels, h: 8, w: 8},
		&Conditioning{Tokens: prompt.ContextLength, Width: tinyUNetConfig.ContextDim, PooledWidth: tinyUNetConfig.PooledDim})
	got := warmCallCosts(t, b, step)
	// Measured 228 on this tiny UNet's planned step: the K/V prepared per
	// generation, self-attention's q/k/v in one GEMM, GEGLU in the
	// projection's epilogue, each transformer block's LayerNorms in the
	// loaders of the GEMMs after them and its cross-attention's query
	// projected inside the attention kernel, every GroupNorm one
	// statistics launch applied in the loader of the conv or proj_in that
	// reads it, the time embedding added in conv1's epilogue, split-K
	// finished in its own launch, the up blocks' concatenations, the
	// Upsample's resize and the skip convolutions read inside the convs,
	// the time embedding and all ResBlock projections in one launch (271
	// before the last three, 410 before these, 518 before the first
	// fusions, 552 when every call projected the K/V). The bound leaves 8%
	// for changes that add a kernel here and there, not for a per-element
	// or per-head loop.
	checkStepCosts(t, got, 246, "the tiny UNet's measured 228 plus 8%")
}

// plannedStep plans a generation's UNet calls as the pipeline does
// (newUNetPlan: conditioning, label embedding and cross-attention K/V
// once) for latents of shape s with conditioning of cond's sizes (zeros),
// and returns one denoising step without its download: the uploads of the
// latents and sinusoids and the step's device work, op by op on a backend
// made with NoGraphs.
func plannedStep(t *testing.T, b tensor.Backend, u *UNet, s latentShape, cond *Conditioning) func() {
	t.Helper()
	cond.PromptEmbeds = make([]float32, cond.Tokens*cond.Width)
	cond.NegativeEmbeds = cond.PromptEmbeds
	cond.PooledEmbeds = make([]float32, cond.PooledWidth)
	cond.NegativePooled = cond.PooledEmbeds
	cond.TimeIDs = [6]float32{float32(8 * s.h), float32(8 * s.w), 0, 0, float32(8 * s.h), float32(8 * s.w)}
	m := &Model{backend: b, unet: u, Precision: Precision{UNet: tensor.F16}}
	p, err := m.newUNetPlan(s, cond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.free)
	x := make([]float32, s.size())
	return func() { p.queue(x, 999) }
}

// warmCallCosts runs a UNet call twice (the first takes the pool's blocks
// from the driver and repacks conv weights) and returns what the second,
// warm one cost the backend.
func warmCallCosts(t *testing.T, b *kernels.Backend, call func()) tensor.Counters {
	t.Helper()
	call()
	syncOrFatal(t, b)
	before := b.Counters()
	call()
	got := b.Counters().Sub(before)
	syncOrFatal(t, b)
	t.Logf("one warm UNet call: %+v", got)
	return got
}

// checkStepCosts holds a warm UNet call to what a denoising step may cost:
// no driver allocation, host wait or download, the two embedding uploads,
// and at most launches kernels (whyLaunches says where that bound comes
// from).
func checkStepCosts(t *testing.T, got tensor.Counters, launches int64, whyLaunches string) {
	t.Helper()
	for _, c := range []struct {
		what       string
		n, most    int64
		whyTheMost string
	}{
		{"driver allocations", got.DriverAllocs, 0, "the pool holds every block after the warm-up"},
		{"host waits", got.Syncs, 0, "nothing in a step may wait for the device"},
		{"downloads", got.Downloads, 0, "a step reads nothing back"},
		// The latents and the timesteps' sinusoids (computed on the
		// host): 2. The conditioning is uploaded once per generation.
		{"uploads", got.Uploads, 2, "the latents and the timestep sinusoids"},
		{"kernel launches", got.Launches, launches, whyLaunches},
	} {
		if c.n > c.most {
			t.Errorf("%s in one warm UNet call: %d, at most %d (%s)", c.what, c.n, c.most, c.whyTheMost)
		}
	}
}
