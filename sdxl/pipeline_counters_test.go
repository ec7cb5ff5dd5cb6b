package sdxl

import (
	"path/filepath"
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/prompt"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// uploadLog is the CPU backend recording the shape of every host→device
// copy: the counters say how many, the log says which.
type uploadLog struct {
	*cpu.Backend
	created []tensor.Shape // FromFloat32
	written []tensor.Shape // WriteFloat32
}

func (l *uploadLog) FromFloat32(dt tensor.DType, shape tensor.Shape, data []float32) *tensor.Tensor {
	l.created = append(l.created, shape.Clone())
	return l.Backend.FromFloat32(dt, shape, data)
}

func (l *uploadLog) WriteFloat32(dst *tensor.Tensor, data []float32) {
	l.written = append(l.written, dst.Shape().Clone())
	l.Backend.WriteFloat32(dst, data)
}

func countShape(shapes []tensor.Shape, want tensor.Shape) int {
	n := 0
	for _, s := range shapes {
		if s.Equal(want) {
			n++
		}
	}
	return n
}

// TestGenerationMovesConditioningOnce counts a whole txt2img on the tiny
// model: the conditioning crosses to the device once per generation, and
// every step after the first moves exactly the step input (latents and
// timestep sinusoids, one upload each) and the prediction (one download), with
// every allocation served by the pool. The result still matches diffusers.
func TestGenerationMovesConditioningOnce(t *testing.T) {
	b := cpu.NewMode(cpu.Strict)
	requireNoLeaks(t, b) // also proves Model.Close frees every weight
	log := &uploadLog{Backend: b}
	m, err := LoadModel(refdata.TinyCheckpoint(t), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	c := loadReferenceCases(t).Pipelines[0]
	if c.Kind != "t2i" || c.Sched != "euler_a" || c.Negative == nil {
		t.Fatalf("case %s is not a txt2img with a negative prompt on Euler a (one UNet call per step)", c.Name)
	}
	r := c.request(t)
	dir := t.TempDir()
	var steps []tensor.Counters
	var createdAt []int
	r.OnStep = func(int, int) {
		steps = append(steps, b.Counters())
		createdAt = append(createdAt, len(log.created))
	}
	log.created, log.written = nil, nil
	if _, err := generateDumped(m, r, dir); err != nil {
		t.Fatal(err)
	}
	if len(steps) != c.Steps {
		t.Fatalf("%d steps reported, want %d", len(steps), c.Steps)
	}

	cfg := tinyUNetConfig
	h, w := c.Height/8, c.Width/8
	latentBytes := int64(4 * 2 * cfg.InChannels * h * w) // F32, batch [negative, positive]
	sinusoidBytes := int64(4 * 2 * cfg.Channels[0])
	timeIDWidth := (cfg.ADMInChannels - cfg.PooledDim) / 6
	for _, u := range []struct {
		what  string
		shape tensor.Shape
	}{
		{"context", tensor.Shape{2, prompt.ContextLength, cfg.ContextDim}},
		{"pooled embedding", tensor.Shape{2, cfg.PooledDim}},
		{"time ids", tensor.Shape{2, 6 * timeIDWidth}},
	} {
		if n := countShape(log.created, u.shape); n != 1 {
			t.Errorf("%s %v uploaded %d times in the generation, want once", u.what, u.shape, n)
		}
	}
	sample := tensor.Shape{2, h, w, cfg.InChannels}
	sinusoids := tensor.Shape{2, cfg.Channels[0]}
	if ns, nt := countShape(log.written, sample), countShape(log.written, sinusoids); ns != c.Steps || nt != c.Steps || len(log.written) != 2*c.Steps {
		t.Errorf("latents written %d times, sinusoids %d (%d writes in all), want each once per step (%d)", ns, nt, len(log.written), c.Steps)
	}

	for i := 1; i < len(steps); i++ {
		d := steps[i].Sub(steps[i-1])
		if d.Uploads != 2 || d.UploadBytes != latentBytes+sinusoidBytes || createdAt[i] != createdAt[0] {
			t.Errorf("step %d: %d uploads of %d bytes (%d new tensors from host data), want 2 of %d (latents %d + sinusoid %d)",
				i+1, d.Uploads, d.UploadBytes, createdAt[i]-createdAt[i-1], latentBytes+sinusoidBytes, latentBytes, sinusoidBytes)
		}
		if d.Downloads != 1 || d.DownloadBytes != latentBytes {
			t.Errorf("step %d: %d downloads of %d bytes, want 1 of %d", i+1, d.Downloads, d.DownloadBytes, latentBytes)
		}
		if d.DriverAllocs != 0 {
			t.Errorf("step %d: %d allocations (%d bytes) the pool could not serve", i+1, d.DriverAllocs, d.AllocBytes)
		}
		if d.Syncs != 1 {
			t.Errorf("step %d: %d syncs, want 1", i+1, d.Syncs)
		}
		if first := steps[1].Sub(steps[0]); d.Launches != first.Launches || d.Allocs != first.Allocs {
			t.Errorf("step %d: %d ops and %d allocations, step 2 had %d and %d", i+1, d.Launches, d.Allocs, first.Launches, first.Allocs)
		}
	}
	t.Logf("per step: %+v", steps[len(steps)-1].Sub(steps[len(steps)-2]))

	got := readGoldens(t, filepath.Join(dir, "sampling.safetensors"))
	checkPipeTensor(t, "latents_final", goldenIn(t, got, "latents_final"),
		golden(t, "pipe/"+c.Name+"/latents_final"), pipeLatentTol)
}

// TestUNetPlanMatchesForward checks the planned call (conditioning and
// label embedding prepared once, fixed buffers) against UNet.Forward on
// the same inputs: the same operations on the same values, so the same
// bits, call after call.
func TestUNetPlanMatchesForward(t *testing.T) {
	b := newTestCPU(t)
	m, err := LoadModel(refdata.TinyCheckpoint(t), b)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := latentShape{b: 2, c: 4, h: 5, w: 6}
	cond := &Conditioning{Tokens: prompt.ContextLength, Width: 192, PooledWidth: 96, TimeIDs: [6]float32{40, 48, 0, 0, 40, 48}}
	fill := func(n int, seed float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i%17)*0.05 - seed
		}
		return v
	}
	cond.PromptEmbeds, cond.NegativeEmbeds = fill(prompt.ContextLength*192, 0.3), fill(prompt.ContextLength*192, 0.1)
	cond.PooledEmbeds, cond.NegativePooled = fill(96, 0.2), fill(96, 0.4)
	p, err := m.newUNetPlan(s, cond)
	if err != nil {
		t.Fatal(err)
	}
	defer p.free()
	for i, ts := range []float64{999, 500.25, 1} {
		x := fill(s.size(), float32(i))
		got, err := p.run(x, s, ts, cond)
		if err != nil {
			t.Fatal(err)
		}
		in := UNetInput{
			Sample:     b.FromFloat32(tensor.F32, tensor.Shape{2, 5, 6, 4}, NCHWToNHWC(x, 2, 4, 5, 6)),
			Context:    b.FromFloat32(tensor.F32, tensor.Shape{2, prompt.ContextLength, 192}, concat(cond.NegativeEmbeds, cond.PromptEmbeds)),
			TextEmbeds: b.FromFloat32(tensor.F32, tensor.Shape{2, 96}, concat(cond.NegativePooled, cond.PooledEmbeds)),
			Timesteps:  []float32{float32(ts), float32(ts)},
			TimeIDs:    [][6]float32{cond.TimeIDs, cond.TimeIDs},
		}
		out := m.unet.Forward(b, in)
		want := NHWCToNCHW(b.ToFloat32(out), 2, 5, 6, 4)
		b.Free(out)
		freeInputs(b, in)
		for j := range want {
			if got[j] != want[j] {
				t.Fatalf("call %d (t=%g): [%d] = %g planned, %g by Forward", i, ts, j, got[j], want[j])
			}
		}
	}
	if _, err := p.run(make([]float32, 2*4*5*5), latentShape{b: 2, c: 4, h: 5, w: 5}, 1, cond); err == nil {
		t.Error("a call with other latent dimensions than planned was accepted")
	}
}
