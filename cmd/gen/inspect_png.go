package main

import (
	"encoding/json"
	"fmt"
)

// inspectPNG prints the generation parameters stored in a PNG: the A1111
// text as written, then the fields as JSON.
func inspectPNG(path string) error {
	p, raw, err := readParameters(path)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, raw)
	fields := map[string]any{
		"prompt":    p.Prompt,
		"negative":  p.Negative,
		"steps":     p.Steps,
		"sampler":   p.Sampler,
		"schedule":  p.ScheduleType,
		"cfg_scale": p.CFGScale,
		"seed":      p.Seed,
		"width":     p.Width,
		"height":    p.Height,
	}
	opt := map[string]string{"model_hash": p.ModelHash, "model": p.Model, "rng": p.RNG}
	for k, v := range opt {
		if v != "" {
			fields[k] = v
		}
	}
	if p.DenoisingStrength > 0 {
		fields["denoising_strength"] = p.DenoisingStrength
	}
	for _, f := range p.Extra {
		fields[f.Key] = f.Value
	}
	b, err := json.MarshalIndent(fields, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%s\n", b)
	return nil
}
