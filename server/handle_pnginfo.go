package server

import (
	"bytes"
	"github.com/gosdxl/gosdxl/internal/infotext"
	"net/http"
	"strconv"
	"strings"
)

// handlePNGInfo is POST /sdapi/v1/png-info: {"image": base64} → the
// parameters text, the other text chunks, and the parsed fields.
func (s *Server) handlePNGInfo(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Image string `json:"image"`
	}
	if _, err := decodeJSON(r, s.cfg.Limits.MaxBodyBytes, &req); err != nil {
		writeError(w, err)
		return
	}
	if strings.TrimSpace(req.Image) == "" {
		writeError(w, errorf(http.StatusNotFound, "Image not found"))
		return
	}
	data, err := decodeBase64Image(req.Image)
	if err != nil {
		writeError(w, errorf(http.StatusUnprocessableEntity, "image: %v", err))
		return
	}
	text, err := infotext.ReadPNGText(bytes.NewReader(data))
	if err != nil {
		writeError(w, errorf(http.StatusUnprocessableEntity, "image: %v", err))
		return
	}
	info := text["parameters"]
	items := map[string]string{}
	for k, v := range text {
		if k != "parameters" {
			items[k] = v
		}
	}
	params := map[string]string{}
	if info != "" {
		if p, err := infotext.Parse(info); err == nil {
			params = parametersMap(p)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"info": info, "items": items, "parameters": params})
}

// parametersMap is A1111's parse_generation_parameters output: every
// field as a string, the size split into Size-1 and Size-2.
func parametersMap(p infotext.Parameters) map[string]string {
	m := map[string]string{"Prompt": p.Prompt, "Negative prompt": p.Negative}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("Steps", strconv.Itoa(p.Steps))
	set("Sampler", p.Sampler)
	set("Schedule type", p.ScheduleType)
	set("CFG scale", strconv.FormatFloat(p.CFGScale, 'f', -1, 64))
	set("Seed", strconv.FormatUint(p.Seed, 10))
	set("Size-1", strconv.Itoa(p.Width))
	set("Size-2", strconv.Itoa(p.Height))
	set("Model hash", p.ModelHash)
	set("Model", p.Model)
	if p.DenoisingStrength > 0 {
		set("Denoising strength", strconv.FormatFloat(p.DenoisingStrength, 'f', -1, 64))
	}
	set("RNG", p.RNG)
	for _, f := range p.Extra {
		set(f.Key, f.Value)
	}
	return m
}
