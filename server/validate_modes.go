package server

import (
	"bytes"
	"image"
	"math"
	"net/http"
	"strings"

	"github.com/gosdxl/gosdxl/sampler"
	"github.com/gosdxl/gosdxl/sdxl"
)

// A1111's txt2img default for denoising_strength (the API model's; the
// UI's slider starts at 0.7).
const defaultHiresDenoise = 0.75

// checkHires turns enable_hr and the hr_* fields into spec.Hires with
// A1111's semantics; the hr_* fields do nothing without enable_hr.
func (s *Server) checkHires(req *GenerationRequest, spec *Spec, img2img bool) error {
	if !req.EnableHR {
		return nil
	}
	if img2img {
		return errorf(http.StatusUnprocessableEntity, "enable_hr: the hires fix is for txt2img")
	}
	switch {
	case req.HRCheckpointName != "" && req.HRCheckpointName != "Use same checkpoint" && req.HRCheckpointName != s.cfg.Model.Name:
		return errorf(http.StatusUnprocessableEntity, "hr_checkpoint_name %q: a second checkpoint for the hires pass is not supported", req.HRCheckpointName)
	case req.FirstpassImage != "":
		return errorf(http.StatusUnprocessableEntity, "firstpass_image: starting the hires pass from a given image is not supported")
	case req.HRPrompt != "" && req.HRPrompt != req.Prompt:
		return errorf(http.StatusUnprocessableEntity, "hr_prompt: a second-pass prompt other than prompt is not supported; leave it empty")
	case req.HRNegativePrompt != "" && req.HRNegativePrompt != req.NegativePrompt:
		return errorf(http.StatusUnprocessableEntity, "hr_negative_prompt: a second-pass negative prompt other than negative_prompt is not supported; leave it empty")
	}
	h := &HiresSpec{Scale: req.HRScale, Width: req.HRResizeX, Height: req.HRResizeY, Upscaler: req.HRUpscaler, Denoise: defaultHiresDenoise}
	if h.Upscaler == "" {
		h.Upscaler = "Latent" // A1111's latent_upscale_default_mode
	}
	u, ok := sdxl.LookupHiresUpscaler(h.Upscaler)
	if !ok {
		return errorf(http.StatusUnprocessableEntity, "hr_upscaler %q: not found; this server has %s", h.Upscaler, upscalerList())
	}
	h.Upscaler = u.A1111
	if req.DenoisingStrength != nil {
		h.Denoise = *req.DenoisingStrength
	}
	if !(h.Denoise > 0 && h.Denoise <= 1) {
		return errorf(http.StatusUnprocessableEntity, "denoising_strength %v: must be in (0, 1]", h.Denoise)
	}
	if h.Width == 0 && h.Height == 0 && (!(h.Scale >= 1) || math.IsInf(h.Scale, 0)) {
		return errorf(http.StatusUnprocessableEntity, "hr_scale %v: must be at least 1", h.Scale)
	}
	hr, _ := h.hires()
	upW, upH, _, _, err := sdxl.HiresSize(hr, spec.Width, spec.Height)
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "hr_scale %v, hr_resize_x %d, hr_resize_y %d: %v", h.Scale, h.Width, h.Height, err)
	}
	if lim := s.cfg.Limits.MaxSide; upW > lim || upH > lim {
		return errorf(http.StatusUnprocessableEntity, "hr_scale %v, hr_resize_x %d, hr_resize_y %d: the hires size %dx%d is larger than this server's limit of %d",
			h.Scale, h.Width, h.Height, upW, upH, lim)
	}
	h.Steps = req.HRSecondPassSteps
	if h.Steps < 0 || h.Steps > s.cfg.Limits.MaxSteps {
		return errorf(http.StatusUnprocessableEntity, "hr_second_pass_steps %d: must be from 0 (as steps) to %d", h.Steps, s.cfg.Limits.MaxSteps)
	}
	if req.HRCFG != nil {
		h.CFGScale = *req.HRCFG
		if math.IsNaN(h.CFGScale) || math.IsInf(h.CFGScale, 0) || math.Abs(h.CFGScale) > 100 {
			return errorf(http.StatusUnprocessableEntity, "hr_cfg %v: must be a number from -100 to 100", h.CFGScale)
		}
	}
	samplerName, schedule := spec.Sampler, spec.Schedule
	if n := req.HRSamplerName; n != "" && n != "Use same sampler" {
		ours, folded, ok := samplerByA1111(n)
		if !ok {
			return errorf(http.StatusBadRequest, "hr_sampler_name %q: sampler not found; this server has %s", n, samplerDisplayList())
		}
		samplerName = ours
		if folded != "" {
			schedule = folded
		}
	}
	if n := req.HRScheduler; n != "" && n != "Use same scheduler" && !strings.EqualFold(n, "automatic") {
		sched, ok := scheduleByA1111(n)
		if !ok {
			return errorf(http.StatusBadRequest, "hr_scheduler %q: not found; this server has %s", n, scheduleLabelList())
		}
		schedule = sched
	}
	info, _ := sampler.Lookup(samplerName)
	if _, err := info.Schedule(schedule, max(h.Steps, spec.Steps)); err != nil {
		return errorf(http.StatusUnprocessableEntity, "hr_sampler_name %q with hr_scheduler %q: %v", req.HRSamplerName, req.HRScheduler, err)
	}
	if samplerName != spec.Sampler {
		h.Sampler = samplerName
	}
	if schedule != spec.Schedule {
		h.Schedule = schedule
	}
	spec.Hires = h
	return nil
}

// checkInpaint turns an img2img mask and A1111's inpainting fields into
// spec.Inpaint; they do nothing without a mask. spec holds the init image.
func (s *Server) checkInpaint(req *GenerationRequest, spec *Spec) error {
	if req.Mask == "" {
		return nil
	}
	data, err := decodeBase64Image(req.Mask)
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "mask: %v", err)
	}
	mask, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "mask: not a readable PNG or JPEG image: %v", err)
	}
	if b := mask.Bounds(); b.Dx() != spec.Width || b.Dy() != spec.Height {
		return errorf(http.StatusUnprocessableEntity, "mask: size %dx%d differs from init_images[0]'s %dx%d", b.Dx(), b.Dy(), spec.Width, spec.Height)
	}
	ip := &InpaintSpec{Mask: data, FullRes: bool(req.InpaintFullRes), Padding: req.InpaintFullResPadding}
	switch req.InpaintingMaskInvert {
	case 0:
	case 1:
		ip.Invert, mask = true, sdxl.InvertMask(mask)
	default:
		return errorf(http.StatusUnprocessableEntity, "inpainting_mask_invert %d: must be 0 (inpaint masked) or 1 (inpaint not masked)", req.InpaintingMaskInvert)
	}
	selected, total := sdxl.MaskCoverage(mask)
	switch {
	case selected == 0:
		return errorf(http.StatusUnprocessableEntity, "mask: selects nothing to repaint (white, or opaque where the mask has transparency, is repainted)")
	case selected == total:
		// The pipeline keeps nothing of the image then (and "fill" has no
		// colours to fill from); gen refuses it too.
		return errorf(http.StatusUnprocessableEntity, "mask: covers the whole image, so nothing is kept; use img2img without a mask")
	}
	blurX, blurY := req.MaskBlurX, req.MaskBlurY
	if req.MaskBlur != nil {
		blurX, blurY = *req.MaskBlur, *req.MaskBlur // A1111: mask_blur sets both
	}
	switch {
	case blurX < 0 || blurY < 0:
		return errorf(http.StatusUnprocessableEntity, "mask_blur_x %d, mask_blur_y %d: must not be negative", blurX, blurY)
	case blurX != blurY:
		return errorf(http.StatusUnprocessableEntity, "mask_blur_x %d, mask_blur_y %d: this server blurs both directions alike; give mask_blur", blurX, blurY)
	}
	ip.MaskBlur = blurX
	// A1111's inpainting_fill order: fill, original, latent noise, latent nothing.
	fills := []sdxl.MaskedContent{sdxl.ContentFill, sdxl.ContentOriginal, sdxl.ContentLatentNoise, sdxl.ContentLatentNothing}
	if req.InpaintingFill < 0 || req.InpaintingFill >= len(fills) {
		return errorf(http.StatusUnprocessableEntity, "inpainting_fill %d: must be 0 (fill), 1 (original), 2 (latent noise) or 3 (latent nothing)", req.InpaintingFill)
	}
	ip.Content = fills[req.InpaintingFill]
	if ip.Padding < 0 {
		return errorf(http.StatusUnprocessableEntity, "inpaint_full_res_padding %d: must not be negative", ip.Padding)
	}
	if ip.FullRes {
		// "Only masked" inpaints the cut-out at the request's width and
		// height (checked above), as A1111 does.
		ip.Width, ip.Height = req.Width, req.Height
	}
	spec.Inpaint = ip
	return nil
}

func upscalerList() string {
	names := make([]string, len(sdxl.HiresUpscalers))
	for i, u := range sdxl.HiresUpscalers {
		names[i] = u.A1111
	}
	return strings.Join(names, ", ")
}
