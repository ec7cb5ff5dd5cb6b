package sdxl

import (
	"context"
	"errors"
	"testing"
)

// TestGenerateStopsWithContext: a run whose Context ends stops after the
// step under way and returns the context's cause.
func TestGenerateStopsWithContext(t *testing.T) {
	m, _, _ := pipeFixture(t)
	stop := errors.New("stop here")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var steps []int
	_, err := m.Generate(Request{
		Prompt: "a cat", Width: 64, Height: 64, Steps: 10, CFGScale: 5, Sampler: "euler_a", Batch: 1,
		Context: ctx,
		OnStep: func(step, total int) {
			steps = append(steps, step)
			if step == 3 {
				cancel(stop)
			}
		},
	})
	if !errors.Is(err, stop) {
		t.Fatalf("error %v, want the context's cause", err)
	}
	if len(steps) != 3 {
		t.Errorf("steps run: %v, want 3", steps)
	}
}

// TestEveryPassStopsWithContext: the hires pass and inpainting stop
// between steps like the main pass, with the context's cause (they share
// its sampling loop).
func TestEveryPassStopsWithContext(t *testing.T) {
	m, hires := shortHiresRequest(t, 1)
	_, inpaint, _ := inpaintRequest(t)
	for _, c := range []struct {
		name     string
		r        Request
		stopAt   int // the OnStep call that cancels
		wantRuns int // OnStep calls seen: the steps finished
	}{
		{"hires pass", hires, 3, 3}, // 2 first-pass steps, then the hires pass's first
		{"inpainting", inpaint, 2, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			stop := errors.New("stop here")
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			r := c.r
			r.Context = ctx
			calls := 0
			r.OnStep = func(step, total int) {
				calls++
				if calls == c.stopAt {
					cancel(stop)
				}
			}
			if _, err := m.Generate(r); !errors.Is(err, stop) {
				t.Fatalf("error %v, want the context's cause", err)
			}
			if calls != c.wantRuns {
				t.Errorf("%d steps reported, want %d: the pass went on after the context ended", calls, c.wantRuns)
			}
		})
	}
}

// shortHiresRequest is the tiny model's 192×128 txt2img case cut to 2
// steps with a 1.5× latent hires pass of 4 steps at the given denoising
// strength: 2 + 4 OnStep calls.
func shortHiresRequest(t *testing.T, denoise float64) (*Model, Request) {
	t.Helper()
	m, cases, _ := pipeFixture(t)
	r := cases[0].request(t)
	r.Steps = 2
	u, _ := LookupHiresUpscaler("latent")
	r.Hires = &Hires{Scale: 1.5, Upscaler: u, Steps: 4, Denoise: denoise}
	return m, r
}
