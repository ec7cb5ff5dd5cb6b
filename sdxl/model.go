package sdxl

import (
	"fmt"
	"strings"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// Model is a checkpoint's networks bound to one backend.
type Model struct {
	backend tensor.Backend
	src     weights.Source
	cfg     weights.Config
	unet    *UNet
	vae     *VAE
	// text encodes prompts; see model_text.go.
	text textSide
}

// LoadModel opens a checkpoint (single file or diffusers folder), infers its
// configuration and binds all four networks to b. Every problem with the
// file (unsupported model, missing or mis-shaped tensors, tensors nothing
// uses) comes back as one error naming the file.
func LoadModel(path string, b tensor.Backend) (*Model, error) {
	src, err := weights.Open(path)
	if err != nil {
		return nil, err
	}
	m, err := bindModel(src, b)
	if err != nil {
		src.Close()
		return nil, err
	}
	return m, nil
}

func bindModel(src weights.Source, b tensor.Backend) (*Model, error) {
	cfg, err := weights.InferConfig(src)
	if err != nil {
		return nil, err
	}
	m := &Model{backend: b, src: src, cfg: cfg, unet: NewUNet(cfg.UNet), vae: NewVAE(cfg.VAE)}
	bd := weights.NewBinder(b, src)
	bd.Bind(weights.UNetPrefix, m.unet)
	bd.Bind(weights.VAEPrefix, m.vae)
	m.text, err = bindText(bd, cfg)
	if err != nil {
		return nil, err
	}
	if err := bd.Err(); err != nil {
		return nil, err
	}
	if unused := bd.Unused(); len(unused) > 0 {
		return nil, fmt.Errorf("%s: %d tensors that no layer uses (an unsupported variant?): %s",
			src.Path(), len(unused), strings.Join(unused, ", "))
	}
	return m, b.Sync()
}

// Close releases the checkpoint mapping; the model is unusable afterwards.
func (m *Model) Close() error { return m.src.Close() }

// Config is the configuration inferred from the checkpoint.
func (m *Model) Config() weights.Config { return m.cfg }

// activationDType is the UNet's activation type: float32 on the CPU (the
// reference), float16 on GPUs.
func (m *Model) activationDType() tensor.DType {
	if m.backend.Name() == "cpu" {
		return tensor.F32
	}
	return tensor.F16
}

// runUNet is the unetFunc of this model: NCHW host data in and out.
func (m *Model) runUNet(x []float32, s latentShape, t float64, c *conditioning) ([]float32, error) {
	b := m.backend
	dt := m.activationDType()
	sample := b.FromFloat32(dt, tensor.Shape{s.b, s.h, s.w, s.c}, NCHWToNHWC(x, s.b, s.c, s.h, s.w))
	ctx := b.FromFloat32(dt, tensor.Shape{s.b, c.tokens, c.width}, concat(c.neg, c.pos))
	pooled := b.FromFloat32(dt, tensor.Shape{s.b, c.pooledWidth}, concat(c.negPooled, c.posPooled))
	in := UNetInput{Sample: sample, Context: ctx, TextEmbeds: pooled,
		Timesteps: make([]float32, s.b), TimeIDs: make([][6]float32, s.b)}
	for i := range in.Timesteps {
		in.Timesteps[i] = float32(t)
		in.TimeIDs[i] = c.timeIDs
	}
	if err := m.unet.Validate(in); err != nil {
		return nil, err
	}
	out := m.unet.Forward(b, in)
	eps := b.ToFloat32(out)
	for _, t := range []*tensor.Tensor{sample, ctx, pooled, out} {
		b.Free(t)
	}
	if err := b.Sync(); err != nil {
		return nil, err
	}
	return NHWCToNCHW(eps, s.b, s.h, s.w, s.c), nil
}

// decode maps pipeline latents [B,4,h,w] to images [B,3,8h,8w] before
// clamping: the VAE decoder of latents / VAEScale.
func (m *Model) decode(latents []float32, s latentShape) ([]float32, error) {
	b := m.backend
	z := NCHWToNHWC(latents, s.b, s.c, s.h, s.w)
	for i := range z {
		z[i] /= VAEScale
	}
	zt := b.FromFloat32(tensor.F32, tensor.Shape{s.b, s.h, s.w, s.c}, z)
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
	x := b.FromFloat32(tensor.F32, tensor.Shape{1, h, w, 3}, NCHWToNHWC(img, 1, 3, h, w))
	if err := m.vae.CheckEncodeInput(x); err != nil {
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

func concat(a, b []float32) []float32 {
	return append(append(make([]float32, 0, len(a)+len(b)), a...), b...)
}
