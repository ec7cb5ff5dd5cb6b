package server

import (
	"io/fs"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
)

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
