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
