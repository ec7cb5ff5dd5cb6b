//go:build cuda

package sdxl

import (
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/prompt"
	"github.com/gosdxl/gosdxl/tensor"
)

// plannedCalls are three calls of a planned F16 UNet (the tiny model) on
// synthetic latents and conditioning: each call's input, ε and the
// backend's counters around it.
type plannedCalls struct {
	m     *Model
	cond  *Conditioning
	s     latentShape
	ts    []float64
	xs    [][]float32
	eps   [][]float32
	costs []tensor.Counters
}

func runPlannedCalls(t *testing.T, b tensor.Backend, s latentShape) *plannedCalls {
	t.Helper()
	m, err := LoadModel(refdata.TinyCheckpoint(t), b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if m.Precision.UNet != tensor.F16 {
		t.Fatalf("the tiny UNet runs in %v on the GPU, want F16", m.Precision.UNet)
	}
	fill := func(n int, seed float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32((i*7)%23)*0.04 - seed
		}
		return v
	}
	cond := &Conditioning{Tokens: prompt.ContextLength, Width: 192, PooledWidth: 96, TimeIDs: [6]float32{48, 40, 0, 0, 48, 40}}
	cond.PromptEmbeds, cond.NegativeEmbeds = fill(prompt.ContextLength*192, 0.3), fill(prompt.ContextLength*192, 0.1)
	cond.PooledEmbeds, cond.NegativePooled = fill(96, 0.2), fill(96, 0.4)
	pc := &plannedCalls{m: m, cond: cond, s: s, ts: []float64{999, 749.5, 1}}
	p, err := m.newUNetPlan(s, cond)
	if err != nil {
		t.Fatal(err)
	}
	defer p.free()
	counting := b.(tensor.Counting)
	for i, ts := range pc.ts {
		x := fill(s.size(), float32(i)*0.5)
		before := counting.Counters()
		e, err := p.run(x, s, ts, cond)
		if err != nil {
			t.Fatal(err)
		}
		pc.costs = append(pc.costs, counting.Counters().Sub(before))
		pc.xs, pc.eps = append(pc.xs, x), append(pc.eps, e)
	}
	return pc
}

// matchForward checks every call's ε against UNet.Forward on the same
// inputs, op by op: the same operations, so the same bits.
func (pc *plannedCalls) matchForward(t *testing.T, b tensor.Backend) {
	t.Helper()
	s, cond := pc.s, pc.cond
	for i, x := range pc.xs {
		ts := float32(pc.ts[i])
		in := UNetInput{
			Sample:     b.FromFloat32(tensor.F16, tensor.Shape{s.b, s.h, s.w, s.c}, NCHWToNHWC(x, s.b, s.c, s.h, s.w)),
			Context:    b.FromFloat32(tensor.F16, tensor.Shape{2, prompt.ContextLength, 192}, concat(cond.NegativeEmbeds, cond.PromptEmbeds)),
			TextEmbeds: b.FromFloat32(tensor.F16, tensor.Shape{2, 96}, concat(cond.NegativePooled, cond.PooledEmbeds)),
			Timesteps:  []float32{ts, ts},
			TimeIDs:    [][6]float32{cond.TimeIDs, cond.TimeIDs},
		}
		out := pc.m.unet.Forward(b, in)
		want := NHWCToNCHW(b.ToFloat32(out), s.b, s.h, s.w, s.c)
		b.Free(out)
		freeInputs(b, in)
		syncOrFatal(t, b)
		for j := range want {
			if pc.eps[i][j] != want[j] {
				t.Fatalf("call %d: ε[%d] = %g planned, %g by Forward", i+1, j, pc.eps[i][j], want[j])
			}
		}
	}
}

// TestGPUGraphStepsReplayThePlainStep: the pipeline's UNet calls run the
// first step op by op, capture the second (taking every block from the
// pool, none from the driver) and replay it from then on: one graph launch
// running the first call's kernels, no allocation, two uploads (latents
// and sinusoids), one download and wait each. Every call gives exactly the bits of UNet.Forward.
func TestGPUGraphStepsReplayThePlainStep(t *testing.T) {
	b := newGPU(t)
	// Latents whose every level halves exactly: the UNet upsamples by 2×.
	pc := runPlannedCalls(t, b, latentShape{b: 2, c: 4, h: 8, w: 4})
	for i, c := range pc.costs {
		t.Logf("call %d: %+v", i+1, c)
	}
	plain := pc.costs[0]
	if plain.GraphLaunches != 0 || plain.Launches == 0 {
		t.Fatalf("first call %+v: want it op by op", plain)
	}
	if c := pc.costs[1]; c.DriverAllocs != 0 || c.GraphLaunches != 1 {
		t.Errorf("capturing call: %d driver allocations, %d graph launches; want 0 (the pool holds a step's blocks) and 1", c.DriverAllocs, c.GraphLaunches)
	}
	want := tensor.Counters{Launches: plain.Launches, GraphLaunches: 1,
		Uploads: 2, UploadBytes: plain.UploadBytes, Downloads: 1, DownloadBytes: plain.DownloadBytes, Syncs: plain.Syncs}
	if c := pc.costs[2]; c != want {
		t.Errorf("replayed call: %+v\nwant %+v (the first call's kernels in one launch, nothing allocated)", c, want)
	}
	pc.matchForward(t, b)
}

// TestGPUOddLatentsReplayToo: latents of odd size (a hires pass at 1.5×,
// widths that are not multiples of 64) upsample to their skip
// connections' sizes by a nearest resize computed on the device, so their
// steps are captured and replayed like any other, with Forward's bits.
func TestGPUOddLatentsReplayToo(t *testing.T) {
	b := newGPU(t)
	pc := runPlannedCalls(t, b, latentShape{b: 2, c: 4, h: 6, w: 5})
	for i, c := range pc.costs[1:] {
		if c.GraphLaunches != 1 {
			t.Errorf("call %d on odd latents: %d graph launches, want 1", i+2, c.GraphLaunches)
		}
	}
	pc.matchForward(t, b)
}
