package server

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gosdxl/gosdxl/sampler"
	"github.com/gosdxl/gosdxl/sdxl"
)

// handleProgress is GET /sdapi/v1/progress: the oldest running job.
func (s *Server) handleProgress(w http.ResponseWriter, r *http.Request) {
	resp := progressResponse{}
	j, count := s.q.current()
	resp.State.JobCount = count
	if j != nil {
		p, started := j.snapshot()
		frac := p.Fraction()
		resp.Progress = frac
		if frac > 0 {
			elapsed := time.Since(started).Seconds()
			resp.ETARelative = elapsed/frac - elapsed
		}
		interrupted, skipped := j.ctl.State()
		resp.State = progressState{
			Skipped: skipped, Interrupted: interrupted, Job: j.spec.ID,
			JobCount: p.Iterations, JobNo: p.Iteration,
			JobTimestamp: started.Format("20060102150405"),
			SamplingStep: p.Step, SamplingSteps: p.Steps,
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// handleInterrupt is POST /sdapi/v1/interrupt: running jobs stop after
// their current step and answer with what they finished.
func (s *Server) handleInterrupt(w http.ResponseWriter, r *http.Request) {
	s.q.eachRunning(func(j *job) { j.ctl.Interrupt() })
	writeJSON(w, http.StatusOK, map[string]any{})
}

// handleSkip is POST /sdapi/v1/skip: running jobs drop their current
// batch iteration and go on with the next.
func (s *Server) handleSkip(w http.ResponseWriter, r *http.Request) {
	s.q.eachRunning(func(j *job) { j.ctl.Skip() })
	writeJSON(w, http.StatusOK, nil)
}

func (s *Server) options() map[string]any {
	return map[string]any{
		"sd_model_checkpoint":      s.cfg.Model.Title(),
		"sd_checkpoint_hash":       s.cfg.Model.SHA256,
		"sd_vae":                   "Automatic",
		"samples_format":           "png",
		"CLIP_stop_at_last_layers": 1,
		"eta_noise_seed_delta":     0,
		"randn_source":             "CPU",
	}
}

func (s *Server) handleGetOptions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.options())
}

// handleSetOptions is POST /sdapi/v1/options. One model is resident:
// naming it is fine, naming another is refused. Other settings are
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

// loraItem is what A1111's Lora extension lists.
type loraItem struct {
	Name     string         `json:"name"`
	Alias    string         `json:"alias"`
	Path     string         `json:"path"`
	Metadata map[string]any `json:"metadata"`
}

func (s *Server) handleLoras(w http.ResponseWriter, r *http.Request) {
	items := []loraItem{}
	for _, f := range listFiles(s.cfg.LoRADir, ".safetensors") {
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		items = append(items, loraItem{Name: name, Alias: name, Path: f, Metadata: map[string]any{}})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	writeJSON(w, http.StatusOK, items)
}

// handleEmbeddings lists textual-inversion files as A1111's "skipped":
// found but not loaded (the pipeline does not use embeddings yet).
func (s *Server) handleEmbeddings(w http.ResponseWriter, r *http.Request) {
	skipped := map[string]any{}
	for _, f := range listFiles(s.cfg.EmbeddingDir, ".safetensors", ".pt", ".bin") {
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		skipped[name] = map[string]any{"step": nil, "sd_checkpoint": nil, "sd_checkpoint_name": nil, "shape": 0, "vectors": 0}
	}
	writeJSON(w, http.StatusOK, map[string]any{"loaded": map[string]any{}, "skipped": skipped})
}

// listFiles returns the files under dir with one of the extensions,
// sorted; a missing or empty dir lists nothing.
func listFiles(dir string, exts ...string) []string {
	if dir == "" {
		return nil
	}
	var out []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		for _, e := range exts {
			if strings.EqualFold(filepath.Ext(path), e) {
				out = append(out, path)
			}
		}
		return nil
	})
	sort.Strings(out)
	return out
}

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
	text, err := sdxl.ReadPNGText(bytes.NewReader(data))
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
		if p, err := sdxl.ParseParameters(info); err == nil {
			params = parametersMap(p)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"info": info, "items": items, "parameters": params})
}

// parametersMap is A1111's parse_generation_parameters output: every
// field as a string, the size split into Size-1 and Size-2.
func parametersMap(p sdxl.Parameters) map[string]string {
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

func displaySampler(name string) string {
	if info, err := sampler.Lookup(name); err == nil {
		return info.DisplayName
	}
	return name
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// saveOutputs writes each image as DIR/<seed>.png, never replacing a
// file: -1, -2, ... are appended until a name is free.
func saveOutputs(dir string, out *Output) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, png := range out.Images {
		base := filepath.Join(dir, strconv.FormatUint(out.Seeds[i], 10))
		name := base + ".png"
		for n := 1; ; n++ {
			f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if errors.Is(err, fs.ErrExist) && n < 10000 {
				name = fmt.Sprintf("%s-%d.png", base, n)
				continue
			}
			if err != nil {
				return err
			}
			_, werr := f.Write(png)
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				return werr
			}
			break
		}
	}
	return nil
}
