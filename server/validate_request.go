package server

import (
	"errors"
	"image"
	"net/http"

	"github.com/gosdxl/gosdxl/prompt"
	"github.com/gosdxl/gosdxl/sdxl"
)

// request is the pipeline request of spec's first batch iteration, with
// text as the prompt (LoRA tags removed) and the decoded init image; the
// hires fix and inpainting are added by modeRequest.
func (spec *Spec) request(text string, initImage image.Image) sdxl.Request {
	return sdxl.Request{
		Prompt: text, Negative: spec.Negative, HasNegative: true,
		Width: spec.Width, Height: spec.Height, Steps: spec.Steps, CFGScale: spec.CFGScale,
		Sampler: spec.Sampler, Schedule: spec.Schedule,
		Seed: spec.Seed, Batch: spec.BatchSize,
		InitImage: initImage, Strength: spec.Strength,
		Compat: sdxl.CompatGosdxl, Syntax: prompt.SyntaxA1111,
	}
}

// a1111Fields names sdxl.RequestError's fields as the API's JSON fields.
var a1111Fields = map[string]string{
	"width": "width", "height": "height", "batch": "batch_size", "steps": "steps",
	"cfg": "cfg_scale", "sampler": "sampler_name", "schedule": "scheduler",
	"strength": "denoising_strength", "prompt": "prompt", "negative": "negative_prompt",
}

// checkRequest checks a job with the pipeline's own rules
// (sdxl.Request.Validate), after the server's stricter limits, naming
// A1111's fields. The init image is known by its size only here.
func checkRequest(spec *Spec) error {
	var img image.Image
	if spec.InitImage != nil {
		img = sdxl.ImageOfSize(spec.Width, spec.Height)
	}
	req := spec.request(spec.Prompt, img)
	err := req.Validate(sdxl.Limits{})
	var re *sdxl.RequestError
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &re):
		return errorf(http.StatusUnprocessableEntity, "%v", err)
	}
	name := func(field string) string {
		if n, ok := a1111Fields[field]; ok {
			return n
		}
		return "width × height" // "size"
	}
	out := *re
	out.Field = name(re.Field)
	if re.With != "" {
		out.With = name(re.With)
	}
	return errorf(http.StatusUnprocessableEntity, "%s", out.Error())
}
