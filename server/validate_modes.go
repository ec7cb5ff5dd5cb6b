package server

import (
	"bytes"
	"fmt"
	"image"
	"math"
	"net/http"
	"strings"

	"github.com/gosdxl/gosdxl/sdxl"
)

// A1111's txt2img default for denoising_strength (the API model's; the
// UI's slider starts at 0.7).
const defaultHiresDenoise = 0.75

// checkHires turns enable_hr and the hr_* fields into spec.Hires with
// A1111's semantics; the hr_* fields do nothing without enable_hr. It
// reads A1111's names and the fields this server refuses; the rules the
// values must keep are the pipeline's (checkRequest), and the server's
// own limits are checkHiresLimits'.
func (s *Server) checkHires(req *GenerationRequest, spec *Spec) error {
	if !req.EnableHR {
		return nil
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
	h := &HiresSpec{Scale: req.HRScale, Width: req.HRResizeX, Height: req.HRResizeY, Upscaler: req.HRUpscaler,
		Steps: req.HRSecondPassSteps, Denoise: defaultHiresDenoise}
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
	if req.HRCFG != nil {
		// This server's range, as for cfg_scale; a number at all is the
		// pipeline's rule.
		h.CFGScale = *req.HRCFG
		if math.Abs(h.CFGScale) > 100 {
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
	if samplerName != spec.Sampler {
		h.Sampler = samplerName
	}
	if schedule != spec.Schedule {
		h.Schedule = schedule
	}
	spec.Hires = h
	return nil
}

// checkHiresLimits applies this server's limits to a hires fix the
// pipeline accepts (checkRequest): the hires size and steps.
func (s *Server) checkHiresLimits(spec *Spec) error {
	h := spec.Hires
	if h == nil {
		return nil
	}
	hr, err := h.hires()
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "hr_upscaler: %v", err)
	}
	lim := s.cfg.Limits
	upW, upH, _, _, err := sdxl.HiresSize(hr, spec.Width, spec.Height)
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "%v", err) // checked by checkRequest
	}
	if upW > lim.MaxSide || upH > lim.MaxSide {
		return errorf(http.StatusUnprocessableEntity, "hr_scale %v, hr_resize_x %d, hr_resize_y %d: the hires size %dx%d is larger than this server's limit of %d",
			h.Scale, h.Width, h.Height, upW, upH, lim.MaxSide)
	}
	if h.Steps > lim.MaxSteps {
		return errorf(http.StatusUnprocessableEntity, "hr_second_pass_steps %d: more than this server's limit of %d", h.Steps, lim.MaxSteps)
	}
	return nil
}

// checkInpaint turns an img2img mask and A1111's inpainting fields into
// spec.Inpaint; they do nothing without a mask. spec holds the init image.
// It reads the mask's header and A1111's codes; the rules the values must
// keep are the pipeline's (checkRequest), and what the mask selects is
// checkMaskCoverage's, once the mask's size is known to be the image's.
func (s *Server) checkInpaint(req *GenerationRequest, spec *Spec) error {
	if req.Mask == "" {
		return nil
	}
	data, err := decodeBase64Image(req.Mask)
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "mask: %v", err)
	}
	if _, _, err := image.DecodeConfig(bytes.NewReader(data)); err != nil {
		return errorf(http.StatusUnprocessableEntity, "mask: not a readable PNG or JPEG image: %v", err)
	}
	ip := &InpaintSpec{Mask: data, FullRes: bool(req.InpaintFullRes), Padding: req.InpaintFullResPadding}
	switch req.InpaintingMaskInvert {
	case 0:
	case 1:
		ip.Invert = true
	default:
		return errorf(http.StatusUnprocessableEntity, "inpainting_mask_invert %d: must be 0 (inpaint masked) or 1 (inpaint not masked)", req.InpaintingMaskInvert)
	}
	blurX, blurY := req.MaskBlurX, req.MaskBlurY
	if req.MaskBlur != nil {
		blurX, blurY = *req.MaskBlur, *req.MaskBlur // A1111: mask_blur sets both
	}
	if blurX != blurY {
		return errorf(http.StatusUnprocessableEntity, "mask_blur_x %d, mask_blur_y %d: this server blurs both directions alike; give mask_blur", blurX, blurY)
	}
	ip.MaskBlur = blurX
	// A1111's inpainting_fill order: fill, original, latent noise, latent nothing.
	fills := []sdxl.MaskedContent{sdxl.ContentFill, sdxl.ContentOriginal, sdxl.ContentLatentNoise, sdxl.ContentLatentNothing}
	if req.InpaintingFill < 0 || req.InpaintingFill >= len(fills) {
		codes := make([]string, len(fills))
		for i, c := range fills {
			codes[i] = fmt.Sprintf("%d (%s)", i, c)
		}
		return errorf(http.StatusUnprocessableEntity, "inpainting_fill %d: must be %s", req.InpaintingFill, strings.Join(codes, ", "))
	}
	ip.Content = fills[req.InpaintingFill]
	if ip.FullRes {
		// "Only masked" inpaints the cut-out at the request's width and
		// height, as A1111 does.
		ip.Width, ip.Height = req.Width, req.Height
	}
	spec.Inpaint = ip
	return nil
}

// checkMaskCoverage decodes the mask, once the pipeline's rules have
// bounded its size, and refuses one that selects nothing or everything.
func checkMaskCoverage(spec *Spec) error {
	if spec.Inpaint == nil {
		return nil
	}
	ip, err := spec.Inpaint.inpaint(true)
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "%v", err)
	}
	selected, total := sdxl.MaskCoverage(ip.Mask)
	switch {
	case selected == 0:
		return errorf(http.StatusUnprocessableEntity, "mask: selects nothing to repaint (white, or opaque where the mask has transparency, is repainted)")
	case selected == total:
		// The pipeline keeps nothing of the image then (and "fill" has no
		// colours to fill from); gen refuses it too.
		return errorf(http.StatusUnprocessableEntity, "mask: covers the whole image, so nothing is kept; use img2img without a mask")
	}
	return nil
}

func upscalerList() string {
	names := make([]string, len(sdxl.HiresUpscalers))
	for i, u := range sdxl.HiresUpscalers {
		names[i] = u.A1111
	}
	return strings.Join(names, ", ")
}
