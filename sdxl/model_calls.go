package sdxl

import (
	"fmt"

	"github.com/gosdxl/gosdxl/nn"
	"github.com/gosdxl/gosdxl/tensor"
)

// The model's networks as the pipeline calls them: NCHW float32 host data
// in and out (the layout of the samplers and of the reference data), each
// network in its Precision dtype on the backend.

// unetPlan is one generation's UNet inputs and outputs on the device. The
// conditioning (context, and the label embedding computed from the pooled
// embedding and time ids) is uploaded and computed once, and so are the
// cross-attention keys and values of the context; each call then
// uploads the latents and the timestep's sinusoids into fixed sample and
// sinusoid buffers (two uploads, no copy kernel) and runs the network into
// a fixed output buffer (one download). Every
// buffer a call reads or writes keeps its address for the whole
// generation, so that on a backend with graphs (tensor.GraphCapturer) the
// second call captures the device work of a step and every later call
// replays it with one launch (step).
type unetPlan struct {
	m       *Model
	shape   latentShape    // [2B, 4, h, w]: batch [negative…, positive…]
	context *tensor.Tensor // [2B, T, ContextDim]
	kv      *ContextKV     // every cross-attention's K/V of context
	label   *tensor.Tensor // label_emb output [2B, TimeEmbedDim]
	sample  *tensor.Tensor // [2B, h, w, 4]
	tsin    *tensor.Tensor // [2B, C0], C0 = the first level's width
	out     *tensor.Tensor // [2B, h, w, 4]
	calls   int            // calls run so far
	graph   tensor.Graph   // the captured step, once there is one
	noGraph bool           // the backend cannot capture: every call launches
}

// newUNetPlan uploads the conditioning c for calls on latents of shape s
// (the doubled batch) and allocates the step buffers.
func (m *Model) newUNetPlan(s latentShape, c *Conditioning) (*unetPlan, error) {
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
	timeIDs := make([][6]float32, s.b)
	for i := range timeIDs {
		timeIDs[i] = c.TimeIDs
	}
	p := &unetPlan{
		m:       m,
		shape:   s,
		context: b.FromFloat32(dt, tensor.Shape{s.b, c.Tokens, c.Width}, ctx),
		sample:  b.Alloc(dt, s.b, s.h, s.w, s.c),
		tsin:    b.Alloc(dt, s.b, m.unet.cfg.Channels[0]),
		out:     b.Alloc(dt, s.b, s.h, s.w, m.unet.cfg.OutChannels),
	}
	textEmbeds := b.FromFloat32(dt, tensor.Shape{s.b, c.PooledWidth}, pooled)
	defer b.Free(textEmbeds)
	in := UNetInput{Sample: p.sample, Context: p.context, TextEmbeds: textEmbeds,
		Timesteps: make([]float32, s.b), TimeIDs: timeIDs}
	if err := m.unet.Validate(in); err != nil {
		p.free()
		return nil, err
	}
	p.label = m.unet.labelEmbedding(b, textEmbeds, timeIDs, dt)
	// The K/V follow the weights as they are now. A plan lives for one
	// sampling pass inside Generate, and LoRAs are merged into the weights
	// (Model.ApplyLoRAs) only between generations, so every step of the
	// plan runs with the weights its K/V were projected with.
	p.kv = m.unet.PrepareContext(b, p.context)
	// Likewise the ResBlocks' stacked embedding projections: stacked here,
	// so that the first step runs (and a captured step replays) only the
	// step's own kernels.
	m.unet.prepareEmbProjection(b)
	return p, nil
}

// run is the plan's unetFunc: ε for x [2B, 4, h, w] at timestep t. c must
// be the conditioning the plan was made with.
func (p *unetPlan) run(x []float32, s latentShape, t float64, c *Conditioning) ([]float32, error) {
	if s != p.shape {
		return nil, fmt.Errorf("sdxl: UNet planned for latents %v, called with %v", p.shape.dims(), s.dims())
	}
	b := p.m.backend
	var eps []float32
	var err error
	// The whole call on the device's thread: about 4,000 backend calls
	// without a hand-off each (tensor.DeviceThread).
	tensor.OnDeviceThread(b, func() {
		p.queue(x, t)
		eps = b.ToFloat32(p.out)
		err = b.Sync()
	})
	if err != nil {
		return nil, err
	}
	return NHWCToNCHW(eps, s.b, s.h, s.w, s.c), nil
}

// queue uploads a call's latents x [2B, 4, h, w] (NCHW) and the sinusoids
// of timestep t, and queues its device work (step): a denoising step
// without its download.
func (p *unetPlan) queue(x []float32, t float64) {
	b, s := p.m.backend, p.shape
	steps := make([]float32, s.b)
	for i := range steps {
		steps[i] = float32(t)
	}
	tensor.WriteFloat32(b, p.sample, NCHWToNHWC(x, s.b, s.c, s.h, s.w))
	tensor.WriteFloat32(b, p.tsin, nn.TimestepEmbedding(steps, p.m.unet.cfg.Channels[0]))
	p.step()
}

// step queues one call's device work on the latents and sinusoids in
// sample and tsin, leaving ε in out. The first call runs it op by op, which also
// loads the kernels and fills the memory pool; the second captures it
// (no driver allocation is then left to record) and replays the capture;
// later calls replay it. Where the backend has no graphs, or refuses the
// capture, every call runs op by op: the same operations, the same result.
func (p *unetPlan) step() {
	defer func() { p.calls++ }()
	if p.graph == nil && !p.noGraph && p.calls > 0 {
		p.capture()
	}
	if p.graph != nil {
		p.graph.Launch()
		return
	}
	p.record()
}

// capture records the step as a graph, or notes that it runs op by op.
func (p *unetPlan) capture() {
	c, ok := p.m.backend.(tensor.GraphCapturer)
	if !ok {
		p.noGraph = true
		return
	}
	g, err := c.CaptureGraph(p.record)
	if err != nil { // logged by the backend; the step still runs, op by op
		p.noGraph = true
		return
	}
	p.graph = g
}

// record is a step's device work: the time embedding, the network into
// out.
func (p *unetPlan) record() {
	b, u := p.m.backend, p.m.unet
	embs := u.stepEmbeddings(b, p.tsin, p.label)
	u.forwardInto(b, p.out, p.sample, embs, p.kv)
	embs.free(b)
}

// free releases the plan's graph and device buffers; a second call does
// nothing.
func (p *unetPlan) free() {
	if p.graph != nil {
		p.graph.Destroy()
		p.graph = nil
	}
	p.kv.Free(p.m.backend)
	for _, t := range []**tensor.Tensor{&p.context, &p.label, &p.sample, &p.tsin, &p.out} {
		if *t != nil {
			p.m.backend.Free(*t)
			*t = nil
		}
	}
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
	var img []float32
	var o tensor.Shape
	var err error
	tensor.OnDeviceThread(b, func() {
		zt := b.FromFloat32(m.Precision.VAE, tensor.Shape{s.b, s.h, s.w, s.c}, z)
		out := m.vae.Decode(b, zt)
		o = out.Shape()
		img = b.ToFloat32(out)
		b.Free(zt)
		b.Free(out)
		err = b.Sync()
	})
	if err != nil {
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
	var logvar []float32
	tensor.OnDeviceThread(b, func() {
		mt, lt := m.vae.Encode(b, x)
		s := mt.Shape()
		mean = NHWCToNCHW(b.ToFloat32(mt), s[0], s[1], s[2], s[3])
		logvar = NHWCToNCHW(b.ToFloat32(lt), s[0], s[1], s[2], s[3])
		for _, t := range []*tensor.Tensor{x, mt, lt} {
			b.Free(t)
		}
		err = b.Sync()
	})
	if err != nil {
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
	var c *Conditioning
	var err error
	tensor.OnDeviceThread(m.backend, func() { c, err = m.text.Encode(m.backend, opt) })
	return c, err
}

func concat(a, b []float32) []float32 {
	return append(append(make([]float32, 0, len(a)+len(b)), a...), b...)
}
