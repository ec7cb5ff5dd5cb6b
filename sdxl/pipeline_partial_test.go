package sdxl

import (
	"bytes"
	"context"
	"errors"
	"image"
	"testing"
)

// stopAtStep returns a context and an OnStep that cancels it, with cause
// stop, after the given OnStep call (counted over all passes).
func stopAtStep(r *Request, at int, stop error) context.CancelCauseFunc {
	ctx, cancel := context.WithCancelCause(context.Background())
	r.Context = ctx
	calls := 0
	r.OnStep = func(step, total int) {
		if calls++; calls == at {
			cancel(stop)
		}
	}
	return cancel
}

// TestKeepPartialDecodesLastPrediction: a run stopped after step 3 of 10
// with KeepPartial returns images made from the clean-latent prediction of
// step 3 (A1111's interrupt), not the noisy latents, with the cause in
// Result.Stopped. The preview of step 3 shows the same prediction, so the
// decoded latents' preview must equal it bit for bit.
func TestKeepPartialDecodesLastPrediction(t *testing.T) {
	m, _, _ := pipeFixture(t)
	stop := errors.New("interrupt")
	r := Request{Prompt: "a cat", Width: 64, Height: 64, Steps: 10, CFGScale: 5, Sampler: "euler_a", Batch: 2,
		Compat: CompatGosdxl, KeepPartial: true, PreviewEvery: 1}
	defer stopAtStep(&r, 3, stop)(nil)
	var previews [][]byte
	r.OnPreview = func(step, total int, img *image.RGBA) { previews = append(previews, img.Pix) }
	var final, noisy []float32
	var shape []int
	r.Observe = func(stage, name string, s []int, data []float32) {
		switch name {
		case "latents_final":
			final, shape = append([]float32(nil), data...), s
		case "latents_step_02": // after step 3 (0-based names)
			noisy = append([]float32(nil), data...)
		}
	}
	res, err := m.Generate(r)
	if err != nil {
		t.Fatalf("a kept stop returned the error %v", err)
	}
	if !errors.Is(res.Stopped, stop) {
		t.Fatalf("Result.Stopped %v, want the context's cause", res.Stopped)
	}
	if len(res.Images) != 2 || res.Width != 64 || res.Height != 64 {
		t.Fatalf("%d images of %dx%d, want 2 of 64x64", len(res.Images), res.Width, res.Height)
	}
	if len(previews) != 3 || final == nil || noisy == nil {
		t.Fatalf("%d previews, decoded latents seen %v, step 3 latents seen %v", len(previews), final != nil, noisy != nil)
	}
	h, w := shape[2], shape[3]
	if got := LatentPreview(final, h, w).Pix; !bytes.Equal(got, previews[2]) {
		t.Fatal("the decoded latents are not step 3's prediction of the clean latents")
	}
	if bytes.Equal(LatentPreview(noisy, h, w).Pix, previews[2]) {
		t.Fatal("step 3's latents preview like its prediction: the test cannot tell them apart")
	}
}

// TestKeepPartialHiresAndInpaint: a stop in the first pass skips the hires
// pass (the base size comes back); a stop in the hires pass returns its
// size; a stopped inpainting keeps every pixel outside the mask.
func TestKeepPartialHiresAndInpaint(t *testing.T) {
	m, hires := shortHiresRequest(t, 0.5)
	hires.KeepPartial = true
	for _, c := range []struct {
		name string
		at   int
		w, h int
	}{
		{"first pass", 1, 192, 128},
		{"hires pass", 3, 288, 192},
	} {
		t.Run(c.name, func(t *testing.T) {
			stop := errors.New("interrupt")
			r := hires
			defer stopAtStep(&r, c.at, stop)(nil)
			res, err := m.Generate(r)
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(res.Stopped, stop) || res.Width != c.w || res.Height != c.h || res.Images[0].Rect.Dx() != c.w {
				t.Fatalf("stopped %v, %dx%d (image %v); want the cause and %dx%d", res.Stopped, res.Width, res.Height,
					res.Images[0].Rect, c.w, c.h)
			}
		})
	}
	t.Run("inpainting", func(t *testing.T) {
		m, r, init := inpaintRequest(t)
		r.KeepPartial = true
		stop := errors.New("interrupt")
		defer stopAtStep(&r, 2, stop)(nil)
		res, err := m.Generate(r)
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(res.Stopped, stop) {
			t.Fatalf("Result.Stopped %v, want the cause", res.Stopped)
		}
		outside := func(x, y int) bool { return x < 64 || x >= 128 || y < 32 || y >= 96 }
		if n := samePixels(t, "stopped inpainting", res.Images[0], init, 0, outside); n == 0 {
			t.Fatal("no pixel outside the mask was compared")
		}
	})
}

// TestKeepPartialBeforeFirstStep: a run stopped before any step completed
// has nothing to show and returns the cause, as without KeepPartial.
func TestKeepPartialBeforeFirstStep(t *testing.T) {
	m, _, _ := pipeFixture(t)
	stop := errors.New("interrupt")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(stop)
	_, err := m.Generate(Request{Prompt: "a cat", Width: 64, Height: 64, Steps: 4, CFGScale: 5, Sampler: "euler",
		Batch: 1, KeepPartial: true, Context: ctx})
	if !errors.Is(err, stop) {
		t.Fatalf("error %v, want the cause", err)
	}
}
