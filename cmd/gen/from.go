package main

import (
	"github.com/gosdxl/gosdxl/internal/infotext"
	"os"
	"strconv"
)

// Our own infotext fields, beside A1111's: written only when they differ
// from the default, so ordinary images carry A1111's fields alone.
const (
	fieldCompat       = "Compat"
	fieldPromptSyntax = "Prompt syntax"
	fieldBatchSize    = "Batch size" // A1111's older field, for batched noise
	fieldBatchPos     = "Batch pos"
	// fieldSchedule is the --schedule value when its "Schedule type" is
	// ambiguous; fieldEmptyNegative marks a negative prompt given as "".
	fieldSchedule      = "Schedule name"
	fieldEmptyNegative = "Empty negative prompt"
)

// readParameters reads the A1111 "parameters" text of a PNG file, parsed
// and as stored.
func readParameters(path string) (infotext.Parameters, string, error) {
	if err := checkReadable(path, false); err != nil {
		return infotext.Parameters{}, "", usageError{err.Error()}
	}
	f, err := os.Open(path)
	if err != nil {
		return infotext.Parameters{}, "", usageError{err.Error()}
	}
	defer f.Close()
	text, err := infotext.ReadPNGText(f)
	if err != nil {
		return infotext.Parameters{}, "", usagef("%s: %v", path, err)
	}
	s, ok := text["parameters"]
	if !ok {
		return infotext.Parameters{}, "", usagef("%s: no generation parameters in this PNG", path)
	}
	p, err := infotext.Parse(s)
	if err != nil {
		return p, s, usagef("%s: %v", path, err)
	}
	return p, s, nil
}

// applyFrom fills every option not given explicitly from the metadata of
// the PNG named by --from.
func applyFrom(o *options) error {
	p, _, err := readParameters(o.from)
	if err != nil {
		return usagef("--from: %v", err)
	}
	return applyParameters(o, &p)
}

// applyParameters fills every option not given explicitly from p, the
// parameters of the --from PNG.
func applyParameters(o *options, p *infotext.Parameters) error {
	o.fromParams = p
	keep := func(name string) bool { return o.set[name] }
	// Values read here are named by their field in messages (flagName).
	for canon, field := range map[string]string{"prompt": "Prompt", "negative": "Negative prompt", "steps": "Steps",
		"cfg": "CFG scale", "width": "Size", "height": "Size", "strength": "Denoising strength", "batch": fieldBatchSize,
		"sampler": "Sampler", "schedule": "Schedule type"} {
		if !keep(canon) {
			o.fromField[canon] = field
		}
	}
	if !keep("prompt") {
		o.prompt = p.Prompt
		o.set["prompt"] = true // an empty prompt read from a file is still given
	}
	if !keep("negative") && p.Negative != "" {
		o.negative = optionalString{p.Negative, true}
	}
	if !keep("steps") && p.Steps > 0 {
		o.steps = p.Steps
	}
	if p.Sampler != "" && !keep("sampler") {
		name, sched, ok := samplerFromA1111(p.Sampler)
		if !ok {
			return usagef("--from %s: sampler %q is not one gen knows (%s)", o.from, p.Sampler, samplerNames())
		}
		o.sampler = name
		if sched != "" && !keep("schedule") {
			o.schedule = sched
		}
	}
	if p.ScheduleType != "" && !keep("schedule") {
		sched, ok := scheduleFromA1111(p.ScheduleType)
		if !ok {
			return usagef("--from %s: schedule type %q is not one gen knows", o.from, p.ScheduleType)
		}
		o.schedule = sched
	}
	if v, ok := p.Get(fieldSchedule); ok && !keep("schedule") {
		o.schedule = v
	}
	if _, ok := p.Get(fieldEmptyNegative); ok && !keep("negative") && p.Negative == "" {
		o.negative = optionalString{"", true}
	}
	if !keep("cfg") && p.CFGScale != 0 {
		o.cfg = p.CFGScale
	}
	if !keep("seed") {
		o.seed = optionalUint{p.Seed, true}
	}
	if !keep("width") && p.Width > 0 {
		o.width = p.Width
	}
	if !keep("height") && p.Height > 0 {
		o.height = p.Height
	}
	isHires, err := applyFromHires(o, p)
	if err != nil {
		return err
	}
	if err := applyFromInpaint(o, p); err != nil {
		return err
	}
	applyFromVAE(o, p)
	if p.DenoisingStrength > 0 && !isHires {
		if o.initImage == "" {
			return usagef("--from %s: the image was made by img2img; give its input with --init-image", o.from)
		}
		if !keep("strength") {
			o.strength = p.DenoisingStrength
		}
	}
	if v, ok := p.Get(fieldCompat); ok && !keep("compat") {
		o.compat = v
	}
	if v, ok := p.Get(fieldPromptSyntax); ok && !keep("prompt-syntax") {
		o.promptSyntax = v
	}
	if v, ok := p.Get(fieldBatchSize); ok && !keep("batch") {
		if n, err := strconv.Atoi(v); err == nil {
			o.batch = n
		}
	}
	return nil
}
