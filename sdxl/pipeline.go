package sdxl

import (
	"context"
	"image"

	"github.com/gosdxl/gosdxl/prompt"
)

// Compat selects whose behaviour the pipeline reproduces.
type Compat int

const (
	// CompatGosdxl: A1111 prompt syntax and chunking, image i seeded seed+i.
	CompatGosdxl Compat = iota
	// CompatDiffusers: exactly StableDiffusionXLPipeline /
	// StableDiffusionXLImg2ImgPipeline (prompts verbatim and truncated at 77
	// tokens, whatever Request.Syntax says; one generator drawing the whole
	// batch at once).
	CompatDiffusers
)

// Request describes one txt2img or img2img run.
type Request struct {
	Prompt string
	// Negative is used when HasNegative is set; otherwise the negative
	// conditioning is zeros (force_zeros_for_empty_prompt), which is not
	// the same as an encoded empty prompt.
	Negative    string
	HasNegative bool
	Width       int // ignored for img2img: the init image's size is used
	Height      int
	Steps       int
	CFGScale    float64
	Sampler     string // sampler name (sampler.Lookup)
	Schedule    string // schedule name (sampler.Info.Schedule); "" = the sampler's own
	Seed        uint64
	Batch       int
	InitImage   image.Image // nil for txt2img
	Strength    float64     // img2img: fraction of the schedule run
	Compat      Compat
	Syntax      prompt.Syntax
	// Observe, when set, is shown the run's intermediate tensors (see
	// Observer; gen --dump writes them to files).
	Observe Observer
	// OnStep is called after each denoising step with the step number
	// (1-based) and the number of steps run.
	OnStep func(step, total int)
	// OnPreview, when set with PreviewEvery > 0, is called after every
	// PreviewEvery-th step (before OnStep) with a cheap preview of the first
	// image's current prediction (LatentPreview: latent resolution, no VAE
	// decode). Each pass (the hires fix's second one too) counts its own
	// steps.
	OnPreview    func(step, total int, preview *image.RGBA)
	PreviewEvery int
	// Context, when set, stops the run once it is done, at the next
	// model evaluation (a step under way when it ends is abandoned);
	// Generate then returns context.Cause(Context).
	Context context.Context
	// KeepPartial finishes a run that Context stopped during sampling as
	// A1111's interrupt and skip do, instead of returning the cause: the
	// prediction of the clean latents (x0) made in the last step that
	// completed is decoded and returned as the images, with Result.Stopped
	// set to the cause. A stop in the first pass skips the hires pass; a
	// stop in the hires pass keeps its own prediction; inpainting blends it
	// with the original as after its last step. A run stopped before its
	// first step completes still returns the cause.
	KeepPartial bool

	// Hires fix, inpainting and VAE tiling (hires.go, inpaint.go,
	// vae_tiled.go); nil and zero values leave them off.
	Hires       *Hires
	Inpaint     *Inpaint
	VAETiling   VAETiling
	VAETileSize int                              // pixels; 0 = DefaultVAETileSize
	MaxMemory   int64                            // bytes one VAE call may use (TilingAuto); 0 = what the device has free (no budget on the CPU); < 0 = no budget
	Logf        func(format string, args ...any) // verbose messages; nil = none
	// VAETileUsed, if set, receives the largest tile size a VAE call of the
	// run used (0: every call ran untiled), so the run can be repeated.
	VAETileUsed *int
}

// Result holds the 8-bit images and the seed that reproduces each alone
// (seed+i in gosdxl mode; the shared seed in diffusers mode).
type Result struct {
	Images []*image.NRGBA
	Seeds  []uint64
	Width  int
	Height int
	// Stopped is the context's cause when Request.KeepPartial kept a run
	// that was stopped early (the images are its last prediction); nil for
	// a finished run.
	Stopped error
}

// latentShape is [B, 4, H/8, W/8].
type latentShape struct{ b, c, h, w int }

func (s latentShape) size() int { return s.b * s.c * s.h * s.w }
