package sdxl

import (
	"fmt"
	"math"
	"path/filepath"

	"github.com/gosdxl/gosdxl/sampler"
)

// Generate runs txt2img (no InitImage) or img2img. The random draws
// follow diffusers exactly: txt2img draws the initial latents
// randn([B,4,h,w]) and then whatever the sampler draws; img2img draws the
// VAE posterior sample first, then the noise added at the first timestep.
func (m *Model) Generate(r Request) (*Result, error) {
	if err := checkRequest(&r); err != nil {
		return nil, err
	}
	width, height := r.Width, r.Height
	var initImage []float32
	if r.InitImage != nil {
		bnd := r.InitImage.Bounds()
		width, height = bnd.Dx(), bnd.Dy()
		initImage = ImageToSigned(r.InitImage)
	}
	shape := latentShape{b: r.Batch, c: m.cfg.UNet.InChannels, h: height / 8, w: width / 8}

	cond, err := m.conditioning(&r, width, height)
	if err != nil {
		return nil, err
	}
	p, err := newPlan(r.Sampler, r.Schedule, r.Steps)
	if err != nil {
		return nil, err
	}
	seeds, randn, err := noiseSource(r)
	if err != nil {
		return nil, err
	}
	d := newDumper(r.DumpDir)
	d.conditioning(cond)

	var latents []float32
	if initImage == nil {
		noise := randn(shape.size())
		d.add("sampling", "noise", Float32Tensor{Shape: shape.dims(), Data: noise})
		latents = scaled(noise, float32(p.initNoiseSigma))
	} else {
		if latents, err = m.img2imgStart(initImage, height, width, shape, r.Strength, p, randn, r.Compat != CompatDiffusers, d); err != nil {
			return nil, err
		}
	}

	den := cfgDenoiser(m.runUNet, cond, shape, p, r.CFGScale, func(in, out []float32, t float64) {
		double := shape
		double.b *= 2
		d.add("unet", "sample", Float32Tensor{Shape: double.dims(), Data: in})
		d.add("unet", "timestep", Float32Tensor{Shape: []int{1}, Data: []float32{float32(t)}})
		d.add("unet", "out", Float32Tensor{Shape: double.dims(), Data: out})
		d.add("unet", "encoder_hidden_states", Float32Tensor{Shape: []int{2 * cond.batch, cond.tokens, cond.width}, Data: concat(cond.neg, cond.pos)})
		d.add("unet", "text_embeds", Float32Tensor{Shape: []int{2 * cond.batch, cond.pooledWidth}, Data: concat(cond.negPooled, cond.posPooled)})
	})
	total := len(p.timesteps)
	latents, err = p.run(den, latents, randn, func(i int, x []float32) {
		d.add("sampling", fmt.Sprintf("latents_step_%02d", i), Float32Tensor{Shape: shape.dims(), Data: append([]float32(nil), x...)})
		if r.OnStep != nil {
			r.OnStep(i+1, total)
		}
	})
	if err != nil {
		return nil, err
	}
	d.add("sampling", "latents_final", Float32Tensor{Shape: shape.dims(), Data: latents})

	decoded, err := m.decode(latents, shape)
	if err != nil {
		return nil, err
	}
	imgShape := []int{shape.b, 3, height, width}
	d.add("vae", "out", Float32Tensor{Shape: imgShape, Data: decoded})
	image01 := make([]float32, len(decoded))
	for i, v := range decoded {
		image01[i] = clamp01(v/2 + 0.5)
	}
	d.add("image", "image", Float32Tensor{Shape: imgShape, Data: image01})
	if err := d.flush(); err != nil {
		return nil, err
	}
	res := &Result{Seeds: seeds, Width: width, Height: height}
	per := 3 * height * width
	for i := 0; i < shape.b; i++ {
		res.Images = append(res.Images, Pixels8(image01[i*per:(i+1)*per], height, width))
	}
	return res, nil
}

// img2imgStart encodes the init image, samples the posterior (first draw),
// keeps the last int(steps·strength) steps of the plan and adds noise
// (second draw) at the first of them: x + noise·σ(t_start).
func (m *Model) img2imgStart(img []float32, height, width int, shape latentShape, strength float64,
	p *plan, randn func(int) []float32, perImage bool, d *dumper) ([]float32, error) {
	mean, std, err := m.encode(img, height, width)
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
	p.keepLast(int(float64(len(p.timesteps)) * strength))
	noise := randn(shape.size())
	d.add("sampling", "noise", Float32Tensor{Shape: shape.dims(), Data: noise})
	s := float32(p.sigmas[0])
	for i := range latents {
		latents[i] += noise[i] * s
	}
	return latents, nil
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

func scaled(x []float32, k float32) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = v * k
	}
	return out
}

func clamp01(v float32) float32 {
	switch {
	case v < 0:
		return 0
	case v > 1:
		return 1
	}
	return v
}

func exp32(x float32) float32 { return float32(math.Exp(float64(x))) }

// dumpPath names a dump file in dir.
func dumpPath(dir, name string) string { return filepath.Join(dir, name+".safetensors") }
