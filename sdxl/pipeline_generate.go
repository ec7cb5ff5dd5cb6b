package sdxl

import (
	"math"

	"github.com/gosdxl/gosdxl/prompt"
	"github.com/gosdxl/gosdxl/sampler"
)

// Generate runs txt2img (no InitImage) or img2img. The random draws
// follow diffusers exactly: txt2img draws the initial latents
// randn([B,4,h,w]) and then whatever the sampler draws; img2img draws the
// VAE posterior sample first, then the noise added at the first timestep.
func (m *Model) Generate(r Request) (*Result, error) {
	if err := r.Validate(Limits{}); err != nil {
		return nil, err
	}
	if r.Compat == CompatDiffusers {
		r.Syntax = prompt.SyntaxNone // diffusers reads prompts verbatim, truncated to 77 tokens
	}
	if r.Inpaint != nil {
		return m.inpaint(r)
	}
	width, height := r.Width, r.Height
	if r.InitImage != nil {
		bnd := r.InitImage.Bounds()
		width, height = bnd.Dx(), bnd.Dy()
	}
	shape := latentShape{b: r.Batch, c: m.cfg.UNet.InChannels, h: height / 8, w: width / 8}

	info, sched, err := newSchedule(&r)
	if err != nil {
		return nil, err
	}
	cond, err := m.conditioning(&r, width, height)
	if err != nil {
		return nil, err
	}
	seeds, randn, err := noiseSource(r)
	if err != nil {
		return nil, err
	}
	r.observeConditioning(cond, r.Batch)

	var x []float32 // k-diffusion latents at sched.Sigmas[0]
	if r.InitImage == nil {
		noise := randn(shape.size())
		r.observe("sampling", "noise", shape.dims(), noise)
		x = sched.StartLatents(noise)
	} else {
		if x, err = m.img2imgStart(&r, ImageToSigned(r.InitImage), height, width, shape, sched, randn, r.Compat != CompatDiffusers); err != nil {
			return nil, err
		}
	}

	latents, err := m.sampleLatents(&r, info, sched, x, cond, shape, randn, nil, func(in, out []float32, t float64) {
		r.observeUNetCall(in, out, t, shape, cond)
	}, "sampling")
	stopped, err := stopCause(err)
	if err != nil {
		return nil, err
	}
	// A1111 skips the hires pass of a run stopped in its first pass.
	if r.Hires != nil && stopped == nil {
		hrLatents, hrShape, err := m.hiresPass(&r, latents, shape)
		if stopped, err = stopCause(err); err != nil {
			return nil, err
		}
		latents, shape = hrLatents, hrShape
		width, height = shape.w*m.vae.Factor(), shape.h*m.vae.Factor()
	}
	r.observe("sampling", "latents_final", shape.dims(), latents)

	decoded, err := m.decodeLatents(&r, latents, shape)
	if err != nil {
		return nil, err
	}
	imgShape := []int{shape.b, 3, height, width}
	r.observe("vae", "out", imgShape, decoded)
	image01 := make([]float32, len(decoded))
	for i, v := range decoded {
		image01[i] = clamp01(v/2 + 0.5)
	}
	r.observe("image", "image", imgShape, image01)
	res := &Result{Seeds: seeds, Width: width, Height: height, Stopped: stopped}
	per := 3 * height * width
	for i := 0; i < shape.b; i++ {
		res.Images = append(res.Images, Pixels8(image01[i*per:(i+1)*per], height, width))
	}
	return res, nil
}

// img2imgStart encodes the init image, samples the posterior (first draw)
// and adds noise (second draw) at the first σ of the already cut schedule.
func (m *Model) img2imgStart(r *Request, img []float32, height, width int, shape latentShape, sched *sampler.Schedule,
	randn func(int) []float32, perImage bool) ([]float32, error) {
	mean, std, err := m.encodeImage(r, img, height, width)
	if err != nil {
		return nil, err
	}
	// diffusers samples the posterior once (one image's latent) and repeats
	// it over the batch; with a generator per image, each image samples its
	// own.
	n := len(mean)
	draws := 1
	if perImage {
		draws = shape.b
	}
	eps := randn(n * draws)
	latents := make([]float32, shape.size())
	for i := range latents {
		j := i % n
		e := eps[(i/n%draws)*n+j]
		latents[i] = (mean[j] + std[j]*e) * VAEScale
	}
	noise := randn(shape.size())
	r.observe("sampling", "noise", shape.dims(), noise)
	return sched.Img2ImgStart(latents, noise)
}

// noiseSource returns the per-image seeds and the randn of the run:
// diffusers compatibility draws the whole batch from one generator; our
// default gives image i its own generator seeded seed+i, so each image
// reproduces alone.
func noiseSource(r Request) ([]uint64, func(int) []float32, error) {
	seeds := make([]uint64, r.Batch)
	if r.Compat == CompatDiffusers {
		g := sampler.NewTorchCPU(r.Seed, sampler.AVX2)
		for i := range seeds {
			seeds[i] = r.Seed
		}
		return seeds, g.Randn, nil
	}
	g, err := sampler.NewPerImageTorchCPU(r.Seed, r.Batch, sampler.AVX2)
	if err != nil {
		return nil, nil, err
	}
	for i := range seeds {
		seeds[i] = r.Seed + uint64(i)
	}
	return seeds, g.Randn, nil
}

func (s latentShape) dims() []int { return []int{s.b, s.c, s.h, s.w} }

func clamp01(v float32) float32 {
	switch {
	case v < 0:
		return 0
	case v > 1:
		return 1
	}
	return v
}

func exp32(x float32) float32  { return float32(math.Exp(float64(x))) }
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
