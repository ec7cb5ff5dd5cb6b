package sdxl

import (
	"errors"
	"image"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/internal/dump"
)

// Requests beyond the bounds are refused by Generate, naming the field,
// before anything is allocated: each of these used to panic (makeslice,
// the batch noise split, the dump writer) or run out of memory.
func TestGenerateRefusesOutOfBoundsRequests(t *testing.T) {
	m, _, _ := pipeFixture(t)
	base := Request{Prompt: "x", Width: 64, Height: 64, Steps: 2, CFGScale: 5, Sampler: "euler", Batch: 1}
	huge := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	huge.Rect = image.Rect(0, 0, 1<<20, 8) // bounds alone: nothing of that size is allocated
	cases := []struct {
		name  string
		edit  func(r *Request)
		field string
	}{
		{"batch max int", func(r *Request) { r.Batch, r.Width, r.Height = math.MaxInt64, 8, 8 }, "batch"},
		{"batch 65", func(r *Request) { r.Batch = MaxBatch + 1 }, "batch"},
		{"width near max int", func(r *Request) { r.Width, r.Height = 9223372036854775800, 8 }, "width"},
		{"both sides 2^62", func(r *Request) {
			r.Width, r.Height = 1<<62, 1<<62
			r.Observe = dump.NewDir(filepath.Join(t.TempDir(), "dump")).Observe
		}, "width"},
		{"width 2^31", func(r *Request) { r.Width = 1 << 31 }, "width"},
		{"height 100000", func(r *Request) { r.Height = 100000 }, "height"},
		{"too many pixels", func(r *Request) { r.Width, r.Height = 16384, 8192 }, "size"},
		{"steps 1001", func(r *Request) { r.Steps = 1001 }, "steps"},
		{"init image too wide", func(r *Request) { r.InitImage, r.Strength = huge, 0.5 }, "width"},
		{"prompt not UTF-8", func(r *Request) { r.Prompt = "a\xffb" }, "prompt"},
		{"prompt too long", func(r *Request) { r.Prompt = strings.Repeat("a ", MaxPromptBytes) }, "prompt"},
		{"too many chunks", func(r *Request) { r.Prompt = strings.Repeat("cat BREAK ", MaxPromptChunks+1) }, "prompt"},
		{"cfg NaN", func(r *Request) { r.CFGScale = math.NaN() }, "cfg"},
		{"unknown sampler", func(r *Request) { r.Sampler = "nope" }, "sampler"},
		{"unknown schedule", func(r *Request) { r.Schedule = "weird" }, "schedule"},
		{"ddim with karras", func(r *Request) { r.Sampler, r.Schedule = "ddim", "karras" }, "sampler"},
		{"strength 0", func(r *Request) { r.InitImage, r.Strength = image.NewNRGBA(image.Rect(0, 0, 64, 64)), 0 }, "strength"},
		{"steps × strength below one step", func(r *Request) {
			r.InitImage, r.Strength = image.NewNRGBA(image.Rect(0, 0, 64, 64)), 0.4
		}, "steps"},
		{"negative too many chunks", func(r *Request) {
			r.Negative, r.HasNegative = strings.Repeat("cat BREAK ", MaxPromptChunks+1), true
		}, "negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := base
			c.edit(&r)
			res, err := m.Generate(r)
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("Generate = %v, %v; want a RequestError", res, err)
			}
			if re.Field != c.field {
				t.Errorf("error %q names field %q, want %q", err, re.Field, c.field)
			}
		})
	}
}

func TestLimitsMemoryBound(t *testing.T) {
	r := Request{Prompt: "x", Width: 1024, Height: 1024, Steps: 1, Sampler: "euler", Batch: 1}
	need := MemoryNeeded(1024, 1024, 1)
	if err := r.Validate(Limits{Memory: need}); err != nil {
		t.Fatalf("a request needing exactly the memory given was refused: %v", err)
	}
	var re *RequestError
	if err := r.Validate(Limits{Memory: need - 1}); !errors.As(err, &re) || re.Field != "size" {
		t.Fatalf("one image too large for memory: %v, want a size error", err)
	}
	r.Batch = 8
	if err := r.Validate(Limits{Memory: need + 1}); !errors.As(err, &re) || re.Field != "batch" {
		t.Fatalf("a batch too large for memory whose single image fits: %v, want a batch error", err)
	}
	// The SDXL sizes on an ordinary 16 GiB machine are never refused.
	r = Request{Prompt: "x", Width: 1216, Height: 832, Steps: 28, Sampler: "euler", Batch: 4}
	if err := r.Validate(Limits{Memory: 16 << 30}); err != nil {
		t.Fatalf("a batch of 4 at 1216x832 refused on 16 GiB: %v", err)
	}
}

// A combination names both fields, so that each caller can name both its
// own way.
func TestRequestErrorNamesCombination(t *testing.T) {
	r := Request{Prompt: "x", Width: 64, Height: 64, Steps: 4, Sampler: "ddim", Schedule: "karras", Batch: 1}
	var re *RequestError
	if err := r.Validate(Limits{}); !errors.As(err, &re) || re.Field != "sampler" || re.With != "schedule" || re.WithValue != `"karras"` {
		t.Fatalf("ddim with karras: %v (%+v), want sampler with schedule", err, re)
	}
	want := `sampler ddim with schedule "karras": `
	if !strings.HasPrefix(re.Error(), want) {
		t.Errorf("error %q does not start with %q", re.Error(), want)
	}
}

// The hires fix's and inpainting's rules are stated by Validate alone;
// each problem names its field (and the other field of a combination),
// one of RequestFields, for the callers to name their own way.
func TestValidateHiresAndInpaintFields(t *testing.T) {
	hires := func(edit func(h *Hires)) func(r *Request) {
		return func(r *Request) {
			h := Hires{Scale: 2, Upscaler: HiresUpscalers[0], Denoise: 0.5}
			edit(&h)
			r.Hires = &h
		}
	}
	init := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	inpaint := func(edit func(ip *Inpaint)) func(r *Request) {
		return func(r *Request) {
			ip := Inpaint{Mask: image.NewGray(init.Rect)}
			edit(&ip)
			r.InitImage, r.Strength, r.Inpaint = init, 0.5, &ip
		}
	}
	cases := []struct {
		name        string
		edit        func(r *Request)
		limits      Limits
		field, with string
	}{
		{"hires with an init image", func(r *Request) {
			hires(func(*Hires) {})(r)
			r.InitImage, r.Strength = init, 0.5
		}, Limits{}, "hires", "init_image"},
		{"unknown upscaler", hires(func(h *Hires) { h.Upscaler = HiresUpscaler{Name: "esrgan"} }), Limits{}, "hires_upscaler", ""},
		{"scale below 1", hires(func(h *Hires) { h.Scale = 0.5 }), Limits{}, "hires_scale", ""},
		{"scale NaN", hires(func(h *Hires) { h.Scale = math.NaN() }), Limits{}, "hires_scale", ""},
		{"scale beyond MaxSide", hires(func(h *Hires) { h.Scale = 1e300 }), Limits{}, "hires_scale", ""},
		{"scale beyond the memory", hires(func(h *Hires) { h.Scale = 4 }), Limits{Memory: MemoryNeeded(128, 128, 1)}, "hires_scale", ""},
		{"width not a multiple of 8", hires(func(h *Hires) { h.Width = 700 }), Limits{}, "hires_width", ""},
		{"width huge", hires(func(h *Hires) { h.Width = math.MaxInt }), Limits{}, "hires_width", ""},
		{"height negative", hires(func(h *Hires) { h.Height = -8 }), Limits{}, "hires_height", ""},
		{"width and height crop to odd", hires(func(h *Hires) { h.Width, h.Height = 700, 704 }), Limits{}, "hires_width", "hires_height"},
		{"denoise 0", hires(func(h *Hires) { h.Denoise = 0 }), Limits{}, "hires_denoise", ""},
		{"steps negative", hires(func(h *Hires) { h.Steps = -1 }), Limits{}, "hires_steps", ""},
		{"steps 1001", hires(func(h *Hires) { h.Steps = MaxSteps + 1 }), Limits{}, "hires_steps", ""},
		{"cfg infinite", hires(func(h *Hires) { h.CFGScale = math.Inf(1) }), Limits{}, "hires_cfg", ""},
		{"unknown sampler", hires(func(h *Hires) { h.Sampler = "nope" }), Limits{}, "hires_sampler", ""},
		{"unknown schedule", hires(func(h *Hires) { h.Schedule = "weird" }), Limits{}, "hires_schedule", ""},
		{"first pass's ddim with karras", func(r *Request) {
			hires(func(h *Hires) { h.Schedule = "karras" })(r)
			r.Sampler = "ddim"
		}, Limits{}, "sampler", "hires_schedule"},
		{"schedule stretched beyond the training steps", hires(func(h *Hires) { h.Steps, h.Denoise = 20, 0.01 }), Limits{}, "hires_steps", "hires_denoise"},
		{"mask without an init image", func(r *Request) { r.Inpaint = &Inpaint{Mask: image.NewGray(init.Rect)} }, Limits{}, "mask", ""},
		{"mask of another size", inpaint(func(ip *Inpaint) { ip.Mask = image.NewGray(image.Rect(0, 0, 32, 64)) }), Limits{}, "mask", "init_image"},
		{"mask blur negative", inpaint(func(ip *Inpaint) { ip.MaskBlur = -1 }), Limits{}, "mask_blur", ""},
		{"padding negative", inpaint(func(ip *Inpaint) { ip.Padding = -1 }), Limits{}, "inpaint_padding", ""},
		{"masked content unknown", inpaint(func(ip *Inpaint) { ip.Content = 4 }), Limits{}, "masked_content", ""},
		{"pad not a multiple of 8", inpaint(func(ip *Inpaint) { ip.Pad = [4]int{0, 4, 0, 0} }), Limits{}, "pad", ""},
		{"pad huge", inpaint(func(ip *Inpaint) { ip.Pad = [4]int{0, 0, math.MaxInt / 8 * 8, 0} }), Limits{}, "pad", ""},
		{"pad beyond MaxSide", inpaint(func(ip *Inpaint) { ip.Pad = [4]int{MaxSide / 2, 0, MaxSide / 2, 0} }), Limits{}, "pad", ""},
		{"only masked at an odd size", func(r *Request) {
			inpaint(func(ip *Inpaint) { ip.FullRes = true })(r)
			r.Width = 100
		}, Limits{}, "width", ""},
		{"only masked beyond MaxSide", func(r *Request) {
			inpaint(func(ip *Inpaint) { ip.FullRes = true })(r)
			r.Height = 2 * MaxSide
		}, Limits{}, "height", ""},
		{"VAE tile size 48", func(r *Request) { r.VAETileSize = 48 }, Limits{}, "vae_tile_size", ""},
		{"VAE tiling unknown", func(r *Request) { r.VAETiling = 9 }, Limits{}, "vae_tiling", ""},
	}
	known := map[string]bool{}
	for _, f := range RequestFields {
		known[f] = true
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Request{Prompt: "x", Width: 64, Height: 64, Steps: 4, CFGScale: 5, Sampler: "euler", Batch: 1}
			c.edit(&r)
			err := r.Validate(c.limits)
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("Validate = %v; want a RequestError", err)
			}
			if re.Field != c.field || re.With != c.with {
				t.Errorf("%q names %q with %q, want %q with %q", err, re.Field, re.With, c.field, c.with)
			}
			if !known[re.Field] || (re.With != "" && !known[re.With]) {
				t.Errorf("%q names a field missing from RequestFields", err)
			}
		})
	}
	// The same request without the problem passes: each case above fails
	// for its own reason.
	for _, edit := range []func(r *Request){hires(func(*Hires) {}), inpaint(func(*Inpaint) {})} {
		r := Request{Prompt: "x", Width: 64, Height: 64, Steps: 4, CFGScale: 5, Sampler: "euler", Batch: 1}
		edit(&r)
		if err := r.Validate(Limits{}); err != nil {
			t.Errorf("a good request refused: %v", err)
		}
	}
}
