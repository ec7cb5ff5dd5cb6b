package sdxl

import (
	"fmt"
	"math"
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/nn"
	"github.com/gosdxl/gosdxl/sampler"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
	"github.com/gosdxl/gosdxl/weights"
)

// kvLog is the CPU backend counting, per weight, the linears that read a
// cross-attention's to_k or to_v weight: the counters say how many ops, the
// log says which.
type kvLog struct {
	*cpu.Backend
	reads map[*tensor.Tensor]int // watched weight → linears that read it
}

// watch starts counting the linears on u's cross-attention K/V weights.
func (l *kvLog) watch(u *UNet) {
	l.reads = map[*tensor.Tensor]int{}
	for _, a := range crossAttentions(u) {
		l.reads[a.K.Weight], l.reads[a.V.Weight] = 0, 0
	}
}

func (l *kvLog) Linear(dst, x, w, bias *tensor.Tensor) {
	if n, ok := l.reads[w]; ok {
		l.reads[w] = n + 1
	}
	l.Backend.Linear(dst, x, w, bias)
}

// total is the number of K/V linears since watch.
func (l *kvLog) total() int {
	n := 0
	for _, c := range l.reads {
		n += c
	}
	return n
}

// crossAttentions lists every transformer block's attn2 in u.
func crossAttentions(u *UNet) []*nn.Attention {
	var out []*nn.Attention
	add := func(st *nn.SpatialTransformer) {
		if st == nil {
			return
		}
		for i := range st.Blocks {
			out = append(out, &st.Blocks[i].Attn2)
		}
	}
	for i := range u.Input {
		add(u.Input[i].Attn)
	}
	add(&u.Middle.Attn)
	for i := range u.Output {
		add(u.Output[i].Attn)
	}
	return out
}

// transformerBlocks counts the transformer blocks of cfg from its numbers:
// r ResBlocks per level on the way down and r+1 on the way up, each
// followed by depth[l] blocks, plus the middle's.
func transformerBlocks(cfg weights.UNetConfig) int {
	n := cfg.MidTransformerDepth
	for _, d := range cfg.TransformerDepth {
		n += d * (2*cfg.ResBlocksPerLevel + 1)
	}
	return n
}

func requireSameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: value %d is %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestTransformerBlockCount(t *testing.T) {
	if n := len(crossAttentions(NewUNet(sdxlBaseUNetConfig))); n != 70 || transformerBlocks(sdxlBaseUNetConfig) != 70 {
		t.Errorf("SDXL base: %d cross-attentions declared, %d counted from the config, want 70", n, transformerBlocks(sdxlBaseUNetConfig))
	}
	if n := len(crossAttentions(NewUNet(tinyUNetConfig))); n != transformerBlocks(tinyUNetConfig) {
		t.Errorf("tiny: %d cross-attentions declared, %d counted from the config", n, transformerBlocks(tinyUNetConfig))
	}
}

// TestUNetPreparedContextSavesKV runs the tiny UNet on a diffusers call
// without and with a prepared context: the same bits, and the prepared
// call makes exactly 2 ops per transformer block (to_k, to_v) fewer, none
// of them on a K/V weight, call after call. Preparing is exactly those 2
// ops per block, each weight read once.
func TestUNetPreparedContextSavesKV(t *testing.T) {
	cb := cpu.NewMode(cpu.Strict)
	requireNoLeaks(t, cb)
	log := &kvLog{Backend: cb}
	u := bindTinyUNet(t, log)
	log.watch(u)
	blocks := transformerBlocks(tinyUNetConfig)
	in := unetGoldenInput(t, log, "unet/0/")
	defer freeInputs(log, in)

	call := func(in UNetInput) (out []float32, ops int64, kvReads int) {
		before, reads := cb.Counters(), log.total()
		y := u.Forward(log, in)
		ops, kvReads = cb.Counters().Sub(before).Launches, log.total()-reads
		out = log.ToFloat32(y)
		log.Free(y)
		return out, ops, kvReads
	}
	want, plainOps, plainKV := call(in)
	if plainKV != 2*blocks {
		t.Errorf("a call without a prepared context made %d K/V linears, want %d (2 × %d blocks)", plainKV, 2*blocks, blocks)
	}

	before := cb.Counters()
	kv := u.PrepareContext(log, in.Context)
	if ops := cb.Counters().Sub(before).Launches; ops != int64(2*blocks) {
		t.Errorf("preparing the context made %d ops, want %d", ops, 2*blocks)
	}
	for w, n := range log.reads {
		if n != 2 {
			t.Errorf("K/V weight %v read %d times by one plain call and one PrepareContext, want 2", w.Shape(), n)
		}
	}
	in.ContextKV = kv
	for i := range 2 {
		got, ops, kvReads := call(in)
		requireSameBits(t, fmt.Sprintf("prepared call %d", i+1), got, want)
		if plainOps-ops != int64(2*blocks) || kvReads != 0 {
			t.Errorf("prepared call %d: %d ops (%d K/V linears), the plain call %d: want exactly %d fewer, none on K/V",
				i+1, ops, kvReads, plainOps, 2*blocks)
		}
		t.Logf("one tiny UNet call: %d ops with the context prepared, %d without (%d transformer blocks)", ops, plainOps, blocks)
	}

	other := log.FromFloat32(tensor.F32, in.Context.Shape(), make([]float32, in.Context.NumElements()))
	defer log.Free(other)
	mixed := in
	mixed.Context = other
	if err := u.Validate(mixed); err == nil {
		t.Error("a call with K/V prepared from another context was accepted")
	}
	kv.Free(log)
	kv.Free(log) // a second Free does nothing
	if err := u.Validate(in); err == nil {
		t.Error("a call with freed K/V was accepted")
	}
}

// TestGenerationPreparesContextOnce counts the K/V linears of whole
// generations on the tiny model: every cross-attention's to_k and to_v
// run once per sampling pass, however many steps the pass has (the hires
// fix is two passes), and the strict backend finds everything freed.
func TestGenerationPreparesContextOnce(t *testing.T) {
	cb := cpu.NewMode(cpu.Strict)
	requireNoLeaks(t, cb)
	log := &kvLog{Backend: cb}
	m, err := LoadModel(refdata.TinyCheckpoint(t), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	cases := loadReferenceCases(t).Pipelines
	t2i := cases[0].request(t)
	var i2i Request
	for _, c := range cases {
		if c.Kind == "i2i" {
			i2i = c.request(t)
		}
	}
	if i2i.InitImage == nil {
		t.Fatal("no img2img case")
	}
	hires := t2i
	hires.Compat, hires.Steps = CompatGosdxl, 3
	hires.Hires = &Hires{Scale: 1.5, Upscaler: HiresUpscalers[0], Steps: 2, Denoise: 0.5}
	inpaint := i2i
	inpaint.Compat, inpaint.Sampler, inpaint.Steps, inpaint.Strength = CompatGosdxl, "euler", 4, 0.75
	inpaint.Inpaint = &Inpaint{Mask: rectMask(192, 128, 64, 32, 128, 96)}

	for _, c := range []struct {
		name   string
		r      Request
		passes int
	}{{"txt2img", t2i, 1}, {"img2img", i2i, 1}, {"hires fix", hires, 2}, {"inpainting", inpaint, 1}} {
		steps := 0
		c.r.OnStep = func(int, int) { steps++ }
		log.watch(m.unet)
		if _, err := m.Generate(c.r); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if steps < 2*c.passes {
			t.Fatalf("%s: %d steps, not enough to tell once per pass from once per step", c.name, steps)
		}
		for w, n := range log.reads {
			if n != c.passes {
				t.Errorf("%s (%d steps): K/V weight %v read by %d linears, want %d (once per sampling pass)", c.name, steps, w.Shape(), n, c.passes)
				break
			}
		}
		t.Logf("%s: %d steps, %d K/V linears", c.name, steps, log.total())
	}
}

// TestGenerationPreparedContextMatchesUnprepared samples one generation
// twice on the tiny model, with the K/V prepared once (the pipeline's plan)
// and with UNet.Forward projecting them in every call: every UNet output,
// and so the final latents, must agree bit for bit.
func TestGenerationPreparedContextMatchesUnprepared(t *testing.T) {
	b := newTestCPU(t)
	m, err := LoadModel(refdata.TinyCheckpoint(t), b)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r := loadReferenceCases(t).Pipelines[0].request(t)
	info, sched, err := newSchedule(&r)
	if err != nil {
		t.Fatal(err)
	}
	cond, err := m.conditioning(&r, r.Width, r.Height)
	if err != nil {
		t.Fatal(err)
	}
	shape := latentShape{b: r.Batch, c: 4, h: r.Height / 8, w: r.Width / 8}
	double := shape
	double.b *= 2
	plan, err := m.newUNetPlan(double, cond)
	if err != nil {
		t.Fatal(err)
	}
	defer plan.free()

	dt := m.Precision.UNet
	unprepared := func(x []float32, s latentShape, ts float64, c *Conditioning) ([]float32, error) {
		in := UNetInput{
			Sample:     b.FromFloat32(dt, tensor.Shape{s.b, s.h, s.w, s.c}, NCHWToNHWC(x, s.b, s.c, s.h, s.w)),
			Context:    b.FromFloat32(dt, tensor.Shape{s.b, c.Tokens, c.Width}, concat(c.NegativeEmbeds, c.PromptEmbeds)),
			TextEmbeds: b.FromFloat32(dt, tensor.Shape{s.b, c.PooledWidth}, concat(c.NegativePooled, c.PooledEmbeds)),
			Timesteps:  []float32{float32(ts), float32(ts)},
			TimeIDs:    [][6]float32{c.TimeIDs, c.TimeIDs},
		}
		defer freeInputs(b, in)
		out := m.unet.Forward(b, in)
		defer b.Free(out)
		return NHWCToNCHW(b.ToFloat32(out), s.b, s.h, s.w, s.c), b.Sync()
	}
	sample := func(unet unetFunc) (outs [][]float32, latents []float32) {
		_, randn, err := noiseSource(r)
		if err != nil {
			t.Fatal(err)
		}
		record := func(x []float32, s latentShape, ts float64, c *Conditioning) ([]float32, error) {
			eps, err := unet(x, s, ts, c)
			outs = append(outs, eps)
			return eps, err
		}
		x := sched.StartLatents(randn(shape.size()))
		latents, err = info.Sample(sched, x, cfgDenoiser(record, cond, shape, r.CFGScale, nil), sampler.Options{Noise: randn})
		if err != nil {
			t.Fatal(err)
		}
		return outs, latents
	}
	got, gotLatents := sample(plan.run)
	want, wantLatents := sample(unprepared)
	if len(got) != len(want) || len(got) < 2 {
		t.Fatalf("%d prepared UNet calls, %d unprepared: want the same number, at least 2", len(got), len(want))
	}
	for i := range got {
		requireSameBits(t, fmt.Sprintf("UNet call %d", i+1), got[i], want[i])
	}
	requireSameBits(t, "final latents", gotLatents, wantLatents)
	t.Logf("%d UNet calls identical", len(got))
}
