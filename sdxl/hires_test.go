package sdxl

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/resample"
	"github.com/gosdxl/gosdxl/sampler"
)

func TestHiresSize(t *testing.T) {
	cases := []struct {
		h                    Hires
		w, hh                int
		upW, upH, outW, outH int
		err                  string
	}{
		{Hires{Scale: 1.5}, 832, 1216, 1248, 1824, 1248, 1824, ""},
		{Hires{Scale: 2}, 192, 128, 384, 256, 384, 256, ""},
		{Hires{Scale: 1}, 192, 128, 192, 128, 192, 128, ""},
		{Hires{Width: 1024}, 832, 1216, 1024, 1496, 1024, 1496, ""},
		{Hires{Height: 1824}, 832, 1216, 1248, 1824, 1248, 1824, ""},
		// Both given, other aspect: upscale to cover, crop to the target
		// (A1111's truncate_x/y).
		{Hires{Width: 1024, Height: 1024}, 832, 1216, 1024, 1496, 1024, 1024, ""},
		{Hires{Scale: 0.5}, 832, 1216, 0, 0, 0, 0, "at least 1"},
		{Hires{Scale: 1.1}, 832, 1216, 0, 0, 0, 0, "multiples of 8"},
		{Hires{Width: 416}, 832, 1216, 0, 0, 0, 0, "smaller"},
		{Hires{Width: -8}, 832, 1216, 0, 0, 0, 0, "negative"},
	}
	for _, c := range cases {
		upW, upH, outW, outH, err := HiresSize(&c.h, c.w, c.hh)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%+v on %dx%d: error %v, want one saying %q", c.h, c.w, c.hh, err, c.err)
			}
			continue
		}
		if err != nil || upW != c.upW || upH != c.upH || outW != c.outW || outH != c.outH {
			t.Errorf("%+v on %dx%d: %d %d %d %d %v, want %d %d %d %d", c.h, c.w, c.hh, upW, upH, outW, outH, err, c.upW, c.upH, c.outW, c.outH)
		}
	}
}

// A1111's rule: int(steps / min(denoise, 0.999)) scheduled, the last
// `steps` run; diffusers': steps scheduled, the last int(steps·denoise) run.
func TestHiresSchedule(t *testing.T) {
	info, err := sampler.Lookup("euler_a")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		steps   int
		denoise float64
		compat  Compat
		total   int
		run     int
	}{
		{10, 0.5, CompatGosdxl, 20, 10},
		{10, 1, CompatGosdxl, 10, 10},
		{15, 0.7, CompatGosdxl, 21, 15},
		{28, 0.35, CompatGosdxl, 80, 28},
		{10, 0.5, CompatDiffusers, 10, 5},
		{10, 0.7, CompatDiffusers, 10, 7},
	} {
		r := &Request{Compat: c.compat, Hires: &Hires{Denoise: c.denoise}}
		got, err := hiresSchedule(r, info, c.steps)
		if err != nil {
			t.Fatal(err)
		}
		full, err := info.Schedule("", c.total)
		if err != nil {
			t.Fatal(err)
		}
		if got.Steps() != c.run {
			t.Errorf("%d steps at %v (%v): %d run, want %d", c.steps, c.denoise, c.compat, got.Steps(), c.run)
			continue
		}
		for i := range got.Timesteps {
			if got.Timesteps[i] != full.Timesteps[c.total-c.run+i] || got.Sigmas[i] != full.Sigmas[c.total-c.run+i] {
				t.Errorf("%d steps at %v: step %d is not step %d of the %d-step schedule", c.steps, c.denoise, i, c.total-c.run+i, c.total)
				break
			}
		}
	}
}

func TestUpscaleA1111(t *testing.T) {
	src := make([]uint8, 3*24*16)
	for i := range src {
		src[i] = uint8(i * 7)
	}
	// An exact multiple-of-8 target: the upscaler's one resize.
	got, err := UpscaleA1111(src, 24, 16, 48, 32, resample.FilterLanczos)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := resample.Resize8(src, 3, 24, 16, 48, 32, resample.FilterLanczos)
	if !bytes.Equal(got, want) {
		t.Error("2× Lanczos is not one Lanczos resize")
	}
	// Nearest to 1.5×: the nearest resize (36×24), then Lanczos to the
	// upscaler's multiple-of-8 destination (32×24), then to the target.
	got, err = UpscaleA1111(src, 24, 16, 36, 24, resample.FilterNearest)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := resample.Resize8(src, 3, 24, 16, 36, 24, resample.FilterNearest)
	b, _ := resample.Resize8(a, 3, 36, 24, 32, 24, resample.FilterLanczos)
	c, _ := resample.Resize8(b, 3, 32, 24, 36, 24, resample.FilterLanczos)
	if !bytes.Equal(got, c) {
		t.Error("1.5× nearest does not follow A1111's resize chain")
	}
}

func TestCropLatents(t *testing.T) {
	s := latentShape{b: 1, c: 1, h: 4, w: 5}
	x := make([]float32, 20)
	for i := range x {
		x[i] = float32(i)
	}
	got, gs := cropLatents(x, s, 1, 3) // rows [0:3], columns [1:3]
	want := []float32{1, 2, 6, 7, 11, 12}
	if gs.h != 3 || gs.w != 2 || len(got) != len(want) {
		t.Fatalf("shape %+v, %d values", gs, len(got))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("crop = %v, want %v", got, want)
		}
	}
}

// The whole two-pass run on the tiny model, every kind of upscaler: the
// second pass runs the asked-for steps at the upscaled size, the result is
// reproducible, and bad settings are refused by Generate itself.
func TestHiresPipelineTiny(t *testing.T) {
	m, cases, _ := pipeFixture(t)
	base := cases[0].request(t) // 192×128, euler_a
	base.Compat, base.Steps = CompatGosdxl, 3
	for _, up := range []string{"latent", "latent-bicubic-antialiased", "lanczos"} {
		u, ok := LookupHiresUpscaler(up)
		if !ok {
			t.Fatal(up)
		}
		r := base
		r.Hires = &Hires{Scale: 1.5, Upscaler: u, Steps: 2, Denoise: 0.5}
		var calls []int
		r.OnStep = func(step, total int) { calls = append(calls, total) }
		res, err := m.Generate(r)
		if err != nil {
			t.Fatal(up, err)
		}
		if res.Width != 288 || res.Height != 192 || res.Images[0].Rect.Dx() != 288 {
			t.Errorf("%s: %dx%d, want 288x192", up, res.Width, res.Height)
		}
		if len(calls) != 3+2 || calls[0] != 3 || calls[4] != 2 {
			t.Errorf("%s: step totals %v, want 3×3 then 2×2", up, calls)
		}
		if up != "latent" {
			continue
		}
		again, err := m.Generate(r)
		if err != nil || !bytes.Equal(again.Images[0].Pix, res.Images[0].Pix) {
			t.Errorf("%s: a second run differs (%v)", up, err)
		}
	}
	bad := base
	bad.Hires = &Hires{Scale: 1.5, Upscaler: HiresUpscalers[0], Denoise: 0}
	if _, err := m.Generate(bad); err == nil || !strings.Contains(err.Error(), "hires_denoise 0: must be in (0, 1]") {
		t.Errorf("denoise 0: %v", err)
	}
	bad.Hires = &Hires{Scale: 0.9, Upscaler: HiresUpscalers[0], Denoise: 0.5}
	if _, err := m.Generate(bad); err == nil || !strings.Contains(err.Error(), "hires_scale 0.9: must be at least 1") {
		t.Errorf("scale 0.9: %v", err)
	}
}
