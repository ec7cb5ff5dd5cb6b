package server

import (
	"bytes"
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

// a1111Fields names sdxl.RequestError's fields as the API's JSON fields
// (checkRequest). The pipeline's outpainting pad and VAE tiling have no
// field in A1111's API; jobs never set them.
var a1111Fields = map[string]string{
	"width": "width", "height": "height", "size": "width × height", "batch": "batch_size", "steps": "steps",
	"cfg": "cfg_scale", "sampler": "sampler_name", "schedule": "scheduler",
	"strength": "denoising_strength", "prompt": "prompt", "negative": "negative_prompt",
	"hires": "enable_hr", "hires_scale": "hr_scale", "hires_width": "hr_resize_x", "hires_height": "hr_resize_y",
	"hires_upscaler": "hr_upscaler", "hires_steps": "hr_second_pass_steps", "hires_denoise": "denoising_strength",
	"hires_cfg": "hr_cfg", "hires_sampler": "hr_sampler_name", "hires_schedule": "hr_scheduler",
	"init_image": "init_images[0]", "mask": "mask", "mask_blur": "mask_blur",
	"inpaint_padding": "inpaint_full_res_padding", "masked_content": "inpainting_fill",
}

// checkRequest checks a job with the pipeline's own rules
// (sdxl.Request.Validate), after the server's stricter limits, naming
// A1111's fields as req gave them. The init image and the mask are known
// by their sizes only here: nothing is decoded before the rules bound it.
func checkRequest(spec *Spec, req *GenerationRequest) error {
	var img image.Image
	if spec.InitImage != nil {
		img = sdxl.ImageOfSize(spec.Width, spec.Height)
	}
	r := spec.request(spec.Prompt, img)
	if err := spec.modeRequest(&r, false); err != nil {
		return errorf(http.StatusUnprocessableEntity, "%v", err)
	}
	if r.Inpaint != nil {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(spec.Inpaint.Mask))
		if err != nil {
			return errorf(http.StatusUnprocessableEntity, "mask: not a readable PNG or JPEG image: %v", err)
		}
		r.Inpaint.Mask = sdxl.ImageOfSize(cfg.Width, cfg.Height)
	}
	err := r.Validate(sdxl.Limits{})
	var re *sdxl.RequestError
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &re):
		return errorf(http.StatusUnprocessableEntity, "%v", err)
	}
	name := func(field string) string {
		if field == "mask_blur" && req.MaskBlur == nil {
			return "mask_blur_x" // and mask_blur_y, the same (checkInpaint)
		}
		if n, ok := a1111Fields[field]; ok {
			return n
		}
		return field
	}
	out := *re
	out.Field = name(re.Field)
	if re.With != "" {
		out.With = name(re.With)
	}
	return errorf(http.StatusUnprocessableEntity, "%s", out.Error())
}
