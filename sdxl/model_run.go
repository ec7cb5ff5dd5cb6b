package sdxl

import (
	"github.com/gosdxl/gosdxl/tensor"
)

// The model's networks as the pipeline calls them: NCHW float32 host data
// in and out (the layout of the samplers and of the reference data), each
// network in its Precision dtype on the backend.

// runUNet predicts ε for x [2B, 4, h, w] (already divided by √(σ²+1)) at
// timestep t. The batch is [negative…, positive…]: each half repeats the
// conditioning B times.
func (m *Model) runUNet(x []float32, s latentShape, t float64, c *Conditioning) ([]float32, error) {
	b := m.backend
	dt := m.Precision.UNet
	half := s.b / 2
	ctx := make([]float32, 0, s.b*len(c.PromptEmbeds))
	pooled := make([]float32, 0, s.b*len(c.PooledEmbeds))
	for i := 0; i < half; i++ {
		ctx = append(ctx, c.NegativeEmbeds...)
		pooled = append(pooled, c.NegativePooled...)
	}
	for i := 0; i < half; i++ {
		ctx = append(ctx, c.PromptEmbeds...)
		pooled = append(pooled, c.PooledEmbeds...)
	}
	in := UNetInput{
		Sample:     b.FromFloat32(dt, tensor.Shape{s.b, s.h, s.w, s.c}, NCHWToNHWC(x, s.b, s.c, s.h, s.w)),
		Context:    b.FromFloat32(dt, tensor.Shape{s.b, c.Tokens, c.Width}, ctx),
		TextEmbeds: b.FromFloat32(dt, tensor.Shape{s.b, c.PooledWidth}, pooled),
		Timesteps:  make([]float32, s.b),
		TimeIDs:    make([][6]float32, s.b),
	}
	free := func(ts ...*tensor.Tensor) {
		for _, t := range ts {
			b.Free(t)
		}
	}
	for i := range in.Timesteps {
		in.Timesteps[i] = float32(t)
		in.TimeIDs[i] = c.TimeIDs
	}
	if err := m.unet.Validate(in); err != nil {
		free(in.Sample, in.Context, in.TextEmbeds)
		return nil, err
	}
	out := m.unet.Forward(b, in)
	eps := b.ToFloat32(out)
	free(in.Sample, in.Context, in.TextEmbeds, out)
	if err := b.Sync(); err != nil {
		return nil, err
	}
	return NHWCToNCHW(eps, s.b, s.h, s.w, s.c), nil
}

// decode maps pipeline latents [B,4,h,w] to images [B,3,8h,8w] before
// clamping: the VAE decoder of latents / VAEScale. Images are decoded one at
// a time: the VAE mixes nothing across a batch, and at 1024² one image's
// activations already take gigabytes.
func (m *Model) decode(latents []float32, s latentShape) ([]float32, error) {
	one := latentShape{b: 1, c: s.c, h: s.h, w: s.w}
	per := s.c * s.h * s.w
	var images []float32
	for i := 0; i < s.b; i++ {
		img, err := m.decodeOne(latents[i*per:(i+1)*per], one)
		if err != nil {
			return nil, err
		}
		images = append(images, img...)
	}
	return images, nil
}

func (m *Model) decodeOne(latents []float32, s latentShape) ([]float32, error) {
	b := m.backend
	z := NCHWToNHWC(latents, s.b, s.c, s.h, s.w)
	for i := range z {
		z[i] /= VAEScale
	}
	zt := b.FromFloat32(m.Precision.VAE, tensor.Shape{s.b, s.h, s.w, s.c}, z)
	out := m.vae.Decode(b, zt)
	o := out.Shape()
	img := b.ToFloat32(out)
	b.Free(zt)
	b.Free(out)
	if err := b.Sync(); err != nil {
		return nil, err
	}
	return NHWCToNCHW(img, o[0], o[1], o[2], o[3]), nil
}

// encode maps one image [1,3,H,W] in [-1, 1] to the latent distribution's
// mean and std [1,4,H/8,W/8].
func (m *Model) encode(img []float32, h, w int) (mean, std []float32, err error) {
	b := m.backend
	x := b.FromFloat32(m.Precision.VAE, tensor.Shape{1, h, w, 3}, NCHWToNHWC(img, 1, 3, h, w))
	if err := m.vae.CheckEncodeInput(x); err != nil {
		b.Free(x)
		return nil, nil, err
	}
	mt, lt := m.vae.Encode(b, x)
	s := mt.Shape()
	mean = NHWCToNCHW(b.ToFloat32(mt), s[0], s[1], s[2], s[3])
	logvar := NHWCToNCHW(b.ToFloat32(lt), s[0], s[1], s[2], s[3])
	for _, t := range []*tensor.Tensor{x, mt, lt} {
		b.Free(t)
	}
	if err := b.Sync(); err != nil {
		return nil, nil, err
	}
	std = make([]float32, len(logvar))
	for i, lv := range logvar {
		std[i] = exp32(0.5 * lv)
	}
	return mean, std, nil
}

// conditioning encodes the prompt pair of r with time ids (h, w, 0, 0, h, w)
// of the output size. Negative is passed only when it was given: otherwise
// the negative side is zeros (force_zeros_for_empty_prompt).
func (m *Model) conditioning(r *Request, width, height int) (*Conditioning, error) {
	opt := EncodeOptions{Prompt: r.Prompt, Syntax: r.Syntax, Width: width, Height: height, DType: m.Precision.Text}
	if r.HasNegative {
		neg := r.Negative
		opt.Negative = &neg
	}
	return m.text.Encode(m.backend, opt)
}

func concat(a, b []float32) []float32 {
	return append(append(make([]float32, 0, len(a)+len(b)), a...), b...)
}
