package sdxl

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// MemoryPlan is the device memory one generation needs, planned without a
// GPU by running the model's own calls on a backend that only counts
// (planBackend): every allocation and free of a denoising step and of a
// decode, at their real shapes.
type MemoryPlan struct {
	// Weights is every network's weights in the types they are bound as
	// (see Precision), each exactly its size.
	Weights int64
	// UNetStep is the peak of a denoising step: the step plan's fixed
	// buffers, the context's cross-attention K/V and the activations.
	UNetStep int64
	// VAEDecode is the peak of one image's decode (untiled).
	VAEDecode int64
	// StepWork and DecodeWork are what a denoising step (one UNet call on
	// the CFG batch) and one image's decode compute: the cost model their
	// expected times come from (Work.Seconds).
	StepWork, DecodeWork Work
}

// Peak is the most in use at once: the weights stay for the model's life;
// sampling and decoding come one after the other.
func (p MemoryPlan) Peak() int64 { return p.Weights + max(p.UNetStep, p.VAEDecode) }

func (p MemoryPlan) String() string {
	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	return fmt.Sprintf("weights %.0f MiB + the larger of a UNet step %.0f MiB and the VAE decode %.0f MiB = %.2f GiB",
		mib(p.Weights), mib(p.UNetStep), mib(p.VAEDecode), float64(p.Peak())/(1<<30))
}

// PlanMemory plans a generation of batch images of width×height with a
// checkpoint of configuration cfg storing its weights as stored, at
// precision p. block is the size a request of n bytes takes (the CUDA
// pool's size class; nil for exact). The composed paths are planned (the
// GPU's fused ops allocate less), and a kernel's own scratch (the wide
// attention's scores, at most 64 MiB) is not counted.
func PlanMemory(cfg weights.Config, stored tensor.DType, p Precision, width, height, batch int, block func(int) int) (MemoryPlan, error) {
	if block == nil {
		block = func(n int) int { return n }
	}
	var plan MemoryPlan
	listing, err := ExpectedTensors(cfg)
	if err != nil {
		return plan, err
	}
	text, err := NewTextEncoders(cfg.TextEncoder1, cfg.TextEncoder2)
	if err != nil {
		return plan, err
	}
	// The networks bound as loading binds them (layouts, types converted
	// for half-precision networks), shapes only, on a backend of their own
	// that counts the weights, each exactly its size.
	m := &Model{cfg: cfg, unet: NewUNet(cfg.UNet), vae: NewVAE(cfg.VAE), text: text, Precision: p}
	held := &planBackend{block: func(n int) int { return n }}
	bd := weights.NewBinder(held, listingSource{listing, stored})
	bindNetworks(bd, m.unet, m.vae, text, weightType(p.UNet), weightType(p.VAE), weightType(p.Text))
	if err := bd.Err(); err != nil {
		return plan, err
	}
	plan.Weights = held.inUse

	count := &planBackend{block: block}
	m.backend = count
	// The step's buffers, label embedding and cross-attention K/V are
	// made once per generation: the work counted is one call's.
	ctx, pooled := cfg.UNet.ContextDim, cfg.UNet.PooledDim
	cond := &Conditioning{
		PromptEmbeds: make([]float32, 77*ctx), NegativeEmbeds: make([]float32, 77*ctx),
		PooledEmbeds: make([]float32, pooled), NegativePooled: make([]float32, pooled),
		Tokens: 77, Width: ctx, PooledWidth: pooled,
	}
	lat := cfg.VAE.LatentChannels
	steps := latentShape{b: 2 * batch, c: lat, h: height / 8, w: width / 8}
	up, err := m.newUNetPlan(steps, cond)
	if err != nil {
		return plan, err
	}
	count.work = Work{}
	_, err = up.run(make([]float32, steps.size()), steps, 999, cond)
	up.free()
	if err != nil {
		return plan, err
	}
	plan.UNetStep, plan.StepWork = count.peak, count.work

	count = &planBackend{block: block, work: Work{}}
	m.backend = count
	one := latentShape{b: 1, c: lat, h: height / 8, w: width / 8}
	if _, err := m.decodeOne(make([]float32, one.size()), one); err != nil {
		return plan, err
	}
	plan.VAEDecode, plan.DecodeWork = count.peak, count.work
	return plan, nil
}

// listingSource serves a model's expected tensors, stored as dt, with no
// data: what a shape-only Binder needs.
type listingSource struct {
	listing weights.Expected
	dt      tensor.DType
}

func (s listingSource) Names() []string {
	names := make([]string, 0, len(s.listing))
	for n := range s.listing {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (s listingSource) Lookup(name string) (weights.Entry, bool) {
	e, ok := s.listing[name]
	if !ok || e.Shape == nil {
		return weights.Entry{}, false
	}
	return weights.Entry{DType: s.dt, Shape: e.Shape, Bytes: func() ([]byte, error) { return nil, nil }}, true
}

func (s listingSource) Path() string { return "the model's tensor listing" }
func (s listingSource) Close() error { return nil }

// PlanMemory is PlanMemory for this model: its configuration, the type its
// checkpoint stores the UNet in, its Precision, and its weights as bound.
// A step and a decode are planned at the model's current Precision; the
// weights were bound at the precision it was loaded with.
func (m *Model) PlanMemory(width, height, batch int, block func(int) int) (MemoryPlan, error) {
	stored := tensor.F16
	for _, n := range m.src.Names() {
		if strings.HasPrefix(n, weights.UNetPrefix) {
			if e, ok := m.src.Lookup(n); ok && e.DType.IsFloat() {
				stored = e.DType
				break
			}
		}
	}
	plan, err := PlanMemory(m.cfg, stored, m.Precision, width, height, batch, block)
	if err != nil {
		return plan, err
	}
	// The weights as they are bound (a LoRA merged, a type converted), not
	// as the configuration lists them.
	plan.Weights = 0
	for _, w := range m.weights {
		plan.Weights += int64(w.NumElements() * w.DType().Size())
	}
	return plan, nil
}
