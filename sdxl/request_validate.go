package sdxl

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gosdxl/gosdxl/prompt"
	"github.com/gosdxl/gosdxl/sampler"
)

// Fixed upper bounds of one request, whatever the memory. They keep every
// size the pipeline computes (latent elements, image bytes, dump offsets)
// far from integer overflow, and stop requests no machine could run before
// anything is allocated.
const (
	// MaxSide is the largest width or height in pixels (2048 latent cells).
	MaxSide = 16384
	// MaxPixels is the largest image: 64 megapixels (8192²), 64 times
	// SDXL's training size.
	MaxPixels = 8192 * 8192
	// MaxBatch is the most images one request may ask for.
	MaxBatch = 64
	// MaxSteps is the most denoising steps: the training schedule has 1000
	// timesteps.
	MaxSteps = 1000
	// MaxPromptBytes bounds each prompt's text before it is tokenized.
	MaxPromptBytes = 64 << 10
	// MaxPromptChunks bounds the 75-token chunks of each prompt (A1111
	// syntax): 2400 tokens, far beyond what the text encoders were trained
	// on; each chunk lengthens every cross-attention of every step.
	MaxPromptChunks = 32
)

// Least bytes of working memory one request needs per output pixel, set
// well below what was measured so that a request refused for memory could
// not have run. Measured on the CPU backend (full-size SDXL, one step,
// peak resident set): 9.2 GiB at 512², 11.5 GiB at 640², i.e. 16.3 KiB
// more per pixel, nearly all of it the VAE decoder's full-resolution
// float32 activations (one image at a time) and the garbage collector's
// headroom over them. The bound takes a quarter of that for the VAE, plus
// for each image of the batch about a dozen 320-channel float16 tensors at
// 1/8 resolution for the UNet (two per image: classifier-free guidance)
// and the finished image as float32 planes and 8-bit pixels.
const (
	vaeBytesPerPixel   = 4096
	unetBytesPerPixel  = 2 * 12 * 320 * 2 / 64 // = 240
	imageBytesPerPixel = 3*4*3 + 4             // float32 RGB copies + NRGBA
)

// Limits are the bounds a request is checked against before any work.
type Limits struct {
	// Memory is the memory in bytes the run may use for activations and
	// images, where the activations live (host RAM for the CPU backend,
	// the GPU's memory for CUDA), model weights excluded: they are mapped
	// from the file, or already resident. 0 means unknown, and only the
	// fixed bounds apply.
	Memory int64
}

// RequestError names the request field a problem is in and its value, so
// that a command line can name its flag and a server its JSON field. The
// fields: "width", "height", "size" for both, "batch", "steps", "cfg",
// "sampler", "schedule", "strength", "prompt", "negative"; of the hires
// fix "hires" (the fix as a whole), "hires_scale", "hires_width",
// "hires_height", "hires_upscaler", "hires_steps", "hires_denoise",
// "hires_cfg", "hires_sampler", "hires_schedule"; of inpainting
// "init_image", "mask", "mask_blur", "inpaint_padding", "masked_content",
// "pad"; of the VAE "vae_tiling", "vae_tile_size" (RequestFields lists
// them). With names a second field when the problem is their combination
// (steps with strength, sampler with schedule).
type RequestError struct {
	Field string
	Value string // the offending value as text; "" for prompts
	With  string // the other field of a combination, or ""
	// WithValue is the other field's value as text.
	WithValue string
	Msg       string
}

func (e *RequestError) Error() string {
	name := e.Field
	if e.Value != "" {
		name += " " + e.Value
	}
	if e.With != "" {
		name += " with " + e.With
		if e.WithValue != "" {
			name += " " + e.WithValue
		}
	}
	return name + ": " + e.Msg
}

// RequestFields lists every field a RequestError may name, so that each
// caller can show that it has a name for all of them.
var RequestFields = []string{
	"width", "height", "size", "batch", "steps", "cfg", "sampler", "schedule", "strength", "prompt", "negative",
	"hires", "hires_scale", "hires_width", "hires_height", "hires_upscaler", "hires_steps", "hires_denoise",
	"hires_cfg", "hires_sampler", "hires_schedule",
	"init_image", "mask", "mask_blur", "inpaint_padding", "masked_content", "pad",
	"vae_tiling", "vae_tile_size",
}

func fieldErr(field string, value any, format string, args ...any) error {
	v := ""
	if value != nil {
		v = fmt.Sprint(value)
	}
	return &RequestError{Field: field, Value: v, Msg: fmt.Sprintf(format, args...)}
}

// MemoryNeeded estimates the least working memory in bytes a run of batch
// images of width×height needs (see the per-pixel constants). The sizes
// must already be within MaxSide and MaxBatch, which keeps the product far
// from overflow.
func MemoryNeeded(width, height, batch int) int64 {
	px := int64(width) * int64(height)
	return px*vaeBytesPerPixel + int64(batch)*px*(unetBytesPerPixel+imageBytesPerPixel)
}

// Validate is the one definition of a runnable request: Generate calls it,
// and the command line and the server call it before anything is loaded,
// so that each names the problem its own way (flag or JSON field) from the
// RequestError. Sizes come first, since everything else depends on them;
// the prompts (UTF-8, length, chunk count) need the tokenizer alone. The
// hires fix (Hires.validate) and inpainting (Inpaint.validate) are checked
// when set, and the VAE tiling. l.Memory, when known, bounds the working
// memory.
func (r *Request) Validate(l Limits) error {
	width, height := r.Width, r.Height
	if r.InitImage != nil {
		b := r.InitImage.Bounds()
		width, height = b.Dx(), b.Dy()
	}
	if err := checkSize(width, height); err != nil {
		return err
	}
	if r.Steps < 1 || r.Steps > MaxSteps {
		return fieldErr("steps", r.Steps, "must be from 1 to %d", MaxSteps)
	}
	if math.IsNaN(r.CFGScale) || math.IsInf(r.CFGScale, 0) {
		return fieldErr("cfg", r.CFGScale, "must be a finite number")
	}
	if err := checkSampler(r.Sampler, r.Schedule, r.Steps, "sampler", "schedule"); err != nil {
		return err
	}
	if r.Batch < 1 || r.Batch > MaxBatch {
		return fieldErr("batch", r.Batch, "must be from 1 to %d", MaxBatch)
	}
	if r.InitImage != nil {
		if !(r.Strength > 0 && r.Strength <= 1) {
			return fieldErr("strength", r.Strength, "must be in (0, 1]")
		}
		if int(float64(r.Steps)*r.Strength) < 1 {
			return &RequestError{Field: "steps", Value: fmt.Sprint(r.Steps), With: "strength", WithValue: fmt.Sprint(r.Strength),
				Msg: "leaves no denoising step (int(steps·strength) = 0)"}
		}
	}
	if err := checkMemory(width, height, r.Batch, l); err != nil {
		return err
	}
	syntax := r.Syntax
	if r.Compat == CompatDiffusers {
		syntax = prompt.SyntaxNone
	}
	if err := checkPrompt("prompt", r.Prompt, syntax); err != nil {
		return err
	}
	if r.HasNegative {
		if err := checkPrompt("negative", r.Negative, syntax); err != nil {
			return err
		}
	}
	if r.Hires != nil {
		if err := r.Hires.validate(r, l); err != nil {
			return err
		}
	}
	if r.Inpaint != nil {
		if err := r.Inpaint.validate(r, l); err != nil {
			return err
		}
	}
	return checkVAETiling(r)
}

// checkSize bounds a size the pipeline works at (the first pass's, or
// inpainting's "only masked" size), naming "width", "height" or "size":
// sides positive multiples of 8 (the VAE's latent cells) up to MaxSide,
// MaxPixels in all.
func checkSize(width, height int) error {
	for _, d := range []struct {
		field string
		v     int
	}{{"width", width}, {"height", height}} {
		if d.v < 8 || d.v%8 != 0 {
			return fieldErr(d.field, d.v, "must be a positive multiple of 8")
		}
		if d.v > MaxSide {
			return fieldErr(d.field, d.v, "at most %d pixels", MaxSide)
		}
	}
	if px := width * height; px > MaxPixels {
		return fieldErr("size", fmt.Sprintf("%dx%d", width, height), "%.1f megapixels, at most %.1f (8192x8192)", float64(px)/1e6, MaxPixels/1e6)
	}
	return nil
}

// checkMemory bounds the working memory of batch images of width×height
// when l.Memory is known, naming the batch when one image would fit.
func checkMemory(width, height, batch int, l Limits) error {
	if l.Memory <= 0 {
		return nil
	}
	size := fmt.Sprintf("%dx%d", width, height)
	if need := MemoryNeeded(width, height, batch); need > l.Memory {
		if batch > 1 && MemoryNeeded(width, height, 1) <= l.Memory {
			return fieldErr("batch", batch, "%d images of %s need at least %s of memory; %s is available",
				batch, size, FormatBytes(need), FormatBytes(l.Memory))
		}
		return fieldErr("size", size, "needs at least %s of memory; %s is available",
			FormatBytes(need), FormatBytes(l.Memory))
	}
	return nil
}

// sizeProblem says what is wrong with working at a size derived from the
// request (the hires fix's, an outpainting's), for batch images: the
// bounds of checkSize, as text for the caller's field; "" when none. The
// sides must already be at most a few times MaxSide (no overflow).
func sizeProblem(width, height, batch int, l Limits) string {
	switch px := width * height; {
	case width > MaxSide || height > MaxSide:
		return fmt.Sprintf("at most %d pixels a side", MaxSide)
	case px > MaxPixels:
		return fmt.Sprintf("%.1f megapixels, at most %.1f (8192x8192)", float64(px)/1e6, MaxPixels/1e6)
	case l.Memory > 0 && MemoryNeeded(width, height, batch) > l.Memory:
		return fmt.Sprintf("needs at least %s of memory; %s is available", FormatBytes(MemoryNeeded(width, height, batch)), FormatBytes(l.Memory))
	}
	return ""
}

// vaeTileMultiple is what a VAE tile size must be a multiple of: four of
// SDXL's 8-pixel latent cells, so that the tiles' kept parts (after the
// quarter that is blended) tile the output exactly (tileGeometry.check).
const vaeTileMultiple = 4 * 8

// checkVAETiling checks the VAE tiling mode and tile size (0 = default).
func checkVAETiling(r *Request) error {
	if r.VAETiling < TilingAuto || r.VAETiling > TilingOff {
		return fieldErr("vae_tiling", int(r.VAETiling), "unknown")
	}
	if t := r.VAETileSize; t != 0 && (t < vaeTileMultiple || t%vaeTileMultiple != 0) {
		return fieldErr("vae_tile_size", t, "must be a positive multiple of %d", vaeTileMultiple)
	}
	return nil
}

// ImageOfSize stands for an init image not decoded yet, known by its size
// alone: all that Validate reads of one. Callers check a request with it
// before they spend the time and memory to decode the image.
func ImageOfSize(width, height int) image.Image { return sizeOnly(image.Rect(0, 0, width, height)) }

type sizeOnly image.Rectangle

func (s sizeOnly) Bounds() image.Rectangle { return image.Rectangle(s) }
func (sizeOnly) ColorModel() color.Model   { return color.NRGBAModel }
func (sizeOnly) At(x, y int) color.Color   { return color.NRGBA{} }

// checkSampler checks a sampler and schedule name and that the sampler
// supports the schedule for steps (DDIM has no Karras schedule), naming
// them as samplerField and scheduleField.
func checkSampler(name, schedule string, steps int, samplerField, scheduleField string) error {
	info, err := sampler.Lookup(name)
	if err != nil {
		return fieldErr(samplerField, strconv.Quote(name), "unknown; valid samplers: %s", strings.Join(sampler.SamplerNames(), ", "))
	}
	if _, err := sampler.ScheduleDisplayName(schedule); err != nil {
		return fieldErr(scheduleField, strconv.Quote(schedule), "unknown; valid schedules: %s", strings.Join(sampler.ScheduleNames(), ", "))
	}
	if _, err := info.Schedule(schedule, steps); err != nil {
		return &RequestError{Field: samplerField, Value: name, With: scheduleField, WithValue: strconv.Quote(schedule), Msg: err.Error()}
	}
	return nil
}

// checkPrompt bounds one prompt's bytes and chunks.
func checkPrompt(field, text string, syntax prompt.Syntax) error {
	if len(text) > MaxPromptBytes {
		return fieldErr(field, nil, "%d bytes long: at most %d", len(text), MaxPromptBytes)
	}
	if !utf8.ValidString(text) {
		return fieldErr(field, nil, "not valid UTF-8 text")
	}
	tok, err := prompt.NewTokenizer()
	if err != nil {
		return err
	}
	p, err := tok.Tokenize(text, syntax)
	if err != nil {
		return fieldErr(field, nil, "%v", err)
	}
	if p.Chunks() > MaxPromptChunks {
		return fieldErr(field, nil, "%d chunks of %d tokens: at most %d", p.Chunks(), prompt.ChunkTokens, MaxPromptChunks)
	}
	return nil
}

// FormatBytes writes a byte count in binary units ("7.5 GiB").
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/unit, 0
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[i])
}
