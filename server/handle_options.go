package server

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
)

// options is what GET /sdapi/v1/options reports: the settings clients
// read (the checkpoint above all).
func (s *Server) options() map[string]any {
	opts := map[string]any{
		"sd_model_checkpoint":      s.cfg.Model.Title(),
		"sd_checkpoint_hash":       s.cfg.Model.SHA256,
		"sd_vae":                   "Automatic",
		"samples_format":           "png",
		"CLIP_stop_at_last_layers": 1,
		"eta_noise_seed_delta":     0,
		"randn_source":             "CPU",
	}
	s.previews.options(opts)
	return opts
}

func (s *Server) handleGetOptions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.options())
}

// handleSetOptions is POST /sdapi/v1/options. One model is resident:
// naming it is fine, naming another is refused. The live-preview settings
// apply to jobs queued from then on (previews.go); other settings are
// accepted and ignored.
func (s *Server) handleSetOptions(w http.ResponseWriter, r *http.Request) {
	var opts map[string]any
	if _, err := decodeJSON(r, 1<<20, &opts); err != nil {
		writeError(w, err)
		return
	}
	if v, ok := opts["sd_model_checkpoint"]; ok {
		name, isString := v.(string)
		if !isString {
			writeError(w, errorf(http.StatusUnprocessableEntity, "sd_model_checkpoint: expected a string"))
			return
		}
		if !s.isOurModel(name) {
			writeError(w, errorf(http.StatusBadRequest, "sd_model_checkpoint %q: this server has one model, %q", name, s.cfg.Model.Title()))
			return
		}
	}
	if err := s.previews.set(opts); err != nil {
		writeError(w, err)
		return
	}
	var ignored []string
	current := s.options()
	for k, v := range opts {
		if k != "sd_model_checkpoint" && fmt.Sprint(current[k]) != fmt.Sprint(v) {
			ignored = append(ignored, k)
		}
	}
	if len(ignored) > 0 {
		sort.Strings(ignored)
		s.log.Debug("ignoring options", "keys", fieldList(ignored))
	}
	writeJSON(w, http.StatusOK, nil)
}

func (s *Server) isOurModel(name string) bool {
	m := s.cfg.Model
	for _, n := range []string{m.Title(), m.Name, filepath.Base(m.File), m.Hash, m.SHA256} {
		if n != "" && name == n {
			return true
		}
	}
	return false
}

// sdModelItem is A1111's SDModelItem.
type sdModelItem struct {
	Title     string  `json:"title"`
	ModelName string  `json:"model_name"`
	Hash      string  `json:"hash"`
	SHA256    string  `json:"sha256"`
	Filename  string  `json:"filename"`
	Config    *string `json:"config"`
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	m := s.cfg.Model
	writeJSON(w, http.StatusOK, []sdModelItem{{Title: m.Title(), ModelName: m.Name, Hash: m.Hash, SHA256: m.SHA256, Filename: m.File}})
}
