package sdxl

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gosdxl/gosdxl/sampler"
)

// validate is the one statement of the hires fix's rules (Request.Validate
// calls it): txt2img only, a known upscaler, a size HiresSize can make
// within the bounds of any image, and a second pass the sampler can run.
// Its RequestErrors name the hires fields (see RequestError).
func (h *Hires) validate(r *Request, l Limits) error {
	if r.InitImage != nil || r.Inpaint != nil {
		return &RequestError{Field: "hires", With: "init_image", Msg: "the hires fix is for txt2img only"}
	}
	if u, ok := LookupHiresUpscaler(h.Upscaler.Name); !ok || u != h.Upscaler {
		return fieldErr("hires_upscaler", strconv.Quote(h.Upscaler.Name), "unknown; valid upscalers: %s", strings.Join(HiresUpscalerNames(), ", "))
	}
	upW, upH, _, _, err := HiresSize(h, r.Width, r.Height)
	if err != nil {
		return err
	}
	if p := sizeProblem(upW, upH, r.Batch, l); p != "" {
		return h.sizeErr("makes the hires size %dx%d; %s", upW, upH, p)
	}
	if !(h.Denoise > 0 && h.Denoise <= 1) {
		return fieldErr("hires_denoise", h.Denoise, "must be in (0, 1]")
	}
	if h.Steps < 0 || h.Steps > MaxSteps {
		return fieldErr("hires_steps", h.Steps, "must be from 0 (as the first pass) to %d", MaxSteps)
	}
	if math.IsNaN(h.CFGScale) || math.IsInf(h.CFGScale, 0) {
		return fieldErr("hires_cfg", h.CFGScale, "must be a finite number (0: as the first pass)")
	}
	// The second pass's sampler and schedule; each left empty is the
	// first pass's, and is named so.
	hr := hiresRequest(r)
	samplerField, scheduleField, stepsField := "hires_sampler", "hires_schedule", "hires_steps"
	if h.Sampler == "" {
		samplerField = "sampler"
	}
	if h.Schedule == "" {
		scheduleField = "schedule"
	}
	if h.Steps == 0 {
		stepsField = "steps"
	}
	if err := checkSampler(hr.Sampler, hr.Schedule, hr.Steps, samplerField, scheduleField); err != nil {
		return err
	}
	// The schedule the pass will run: its length depends on the denoising
	// strength (A1111 stretches it, diffusers keeps int(steps·strength)).
	info, _ := sampler.Lookup(hr.Sampler)
	if _, err := hiresSchedule(&hr, info, hr.Steps); err != nil {
		return &RequestError{Field: stepsField, Value: fmt.Sprint(hr.Steps), With: "hires_denoise", WithValue: fmt.Sprint(h.Denoise),
			Msg: fmt.Sprintf("the second pass cannot run: %v", err)}
	}
	return nil
}

// HiresUpscalerNames are the upscalers' names (ours, as gen's flag takes
// them); HiresUpscalers also has A1111's.
func HiresUpscalerNames() []string {
	names := make([]string, len(HiresUpscalers))
	for i, u := range HiresUpscalers {
		names[i] = u.Name
	}
	return names
}
