package server

import (
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/gosdxl/gosdxl/lora"
)

// Features the pipeline does not have yet. Requests that use one are
// refused with a 422 saying so, rather than silently giving an image that
// ignores part of the request; each switch is here, in one place.
var features = struct {
	LoRA bool // <lora:name:weight> prompt tags
}{LoRA: true}

// extraNetworkTag is A1111's extra-network syntax: <kind:name[:args]>.
var extraNetworkTag = regexp.MustCompile(`<(\w+):([^>]+)>`)

// checkUnsupported refuses what this server cannot do, naming the field.
func checkUnsupported(req *GenerationRequest, img2img bool) error {
	for _, p := range []struct{ field, text string }{
		{"prompt", req.Prompt}, {"negative_prompt", req.NegativePrompt},
		{"hr_prompt", req.HRPrompt}, {"hr_negative_prompt", req.HRNegativePrompt},
	} {
		for _, m := range extraNetworkTag.FindAllStringSubmatch(p.text, -1) {
			kind, args := strings.ToLower(m[1]), m[2]
			if kind != "lora" && kind != "lyco" && kind != "hypernet" {
				continue
			}
			name, _, _ := strings.Cut(args, ":")
			if err := checkNetworkName(name); err != nil {
				return errorf(http.StatusBadRequest, "%s: <%s:%s>: %v", p.field, m[1], args, err)
			}
			if kind == "hypernet" {
				return errorf(http.StatusUnprocessableEntity, "%s: <%s>: hypernetworks are not supported", p.field, m[0][1:len(m[0])-1])
			}
			if !features.LoRA {
				return errorf(http.StatusUnprocessableEntity, "%s: <%s:%s>: LoRA is not supported by this server yet", p.field, m[1], args)
			}
			if p.field != "prompt" {
				// gen reads tags from -p only; elsewhere they would be
				// encoded as words.
				return errorf(http.StatusUnprocessableEntity, "%s: <%s:%s>: LoRA tags are read from the prompt only", p.field, m[1], args)
			}
		}
	}
	if features.LoRA {
		if _, _, err := lora.ParseTags(req.Prompt); err != nil {
			return errorf(http.StatusUnprocessableEntity, "prompt: %v", err)
		}
	}
	if req.ScriptName != "" {
		return errorf(http.StatusUnprocessableEntity, "script_name: Script '%s' not found", req.ScriptName)
	}
	if len(req.AlwaysonScripts) > 0 {
		names := make([]string, 0, len(req.AlwaysonScripts))
		for k := range req.AlwaysonScripts {
			names = append(names, k)
		}
		sort.Strings(names)
		return errorf(http.StatusUnprocessableEntity, "alwayson_scripts: always on script %s not found", names[0])
	}
	return nil
}

// checkNetworkName refuses a LoRA name that could leave the LoRA folder:
// names are file names without extension, as /sdapi/v1/loras lists them.
func checkNetworkName(name string) error {
	switch {
	case name == "":
		return errorf(http.StatusBadRequest, "empty name")
	case strings.ContainsAny(name, `/\`) || strings.Contains(name, ".."),
		strings.ContainsRune(name, 0):
		return errorf(http.StatusBadRequest, "name %q: must be a file name from the LoRA folder, without path separators or ..", name)
	}
	return nil
}

// ignoredSettings lists the A1111 settings a request sets that this
// server accepts but does not act on, for the debug log.
func ignoredSettings(req *GenerationRequest) []string {
	var out []string
	add := func(set bool, name string) {
		if set {
			out = append(out, name)
		}
	}
	add(len(req.Styles) > 0, "styles")
	add(req.SubseedStrength != 0, "subseed_strength")
	add(req.RestoreFaces, "restore_faces")
	add(req.Tiling, "tiling")
	add(len(req.OverrideSettings) > 0, "override_settings")
	add(req.RefinerCheckpoint != "", "refiner_checkpoint")
	add(req.SChurn != 0 || req.STmin != 0 || req.STmax != 0 || req.SNoise != 1, "s_churn/s_tmin/s_tmax/s_noise")
	add(req.SMinUncond != 0, "s_min_uncond")
	add(req.ImageCFGScale != nil, "image_cfg_scale")
	return out
}
