package server

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gosdxl/gosdxl/lora"
	"github.com/gosdxl/gosdxl/weights"
)

// loraItem is what A1111's Lora extension lists.
type loraItem struct {
	Name     string         `json:"name"`
	Alias    string         `json:"alias"`
	Path     string         `json:"path"`
	Metadata map[string]any `json:"metadata"`
}

// handleLoras lists the LoRA folder as A1111 does: name (the file name a
// <lora:NAME> tag uses), alias (the training's ss_output_name when the
// file has one), path and the safetensors metadata. The folder is read
// on every call, so POST /sdapi/v1/refresh-loras has nothing to redo.
func (s *Server) handleLoras(w http.ResponseWriter, r *http.Request) {
	items := []loraItem{}
	names, _ := lora.List(s.cfg.LoRADir) // missing folder: none
	for _, name := range names {
		path := filepath.Join(s.cfg.LoRADir, name+".safetensors")
		meta := readMetadata(path)
		alias := name
		if a, ok := meta["ss_output_name"].(string); ok && a != "" {
			alias = a
		}
		items = append(items, loraItem{Name: name, Alias: alias, Path: path, Metadata: meta})
	}
	if s.cfg.RemoteLoRAs != nil {
		remote, err := s.cfg.RemoteLoRAs(r.Context())
		if err != nil {
			s.log.Warn("listing the workers' LoRAs", "err", err)
		}
		local := map[string]bool{}
		for _, it := range items {
			local[it.Name] = true
		}
		for _, n := range remote {
			if !local[n] {
				// On the workers only: their path and metadata are theirs.
				items = append(items, loraItem{Name: n, Alias: n, Path: "", Metadata: map[string]any{}})
			}
		}
		sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	}
	writeJSON(w, http.StatusOK, items)
}

// readMetadata is a safetensors header's __metadata__, values that hold
// JSON objects or arrays decoded as A1111 does; empty for a file it cannot
// read.
func readMetadata(path string) map[string]any {
	out := map[string]any{}
	c, err := weights.OpenCheckpoint(path)
	if err != nil {
		return out
	}
	defer c.Close()
	for k, v := range c.Metadata() {
		var j any
		if t := strings.TrimSpace(v); (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && json.Unmarshal([]byte(t), &j) == nil {
			out[k] = j
			continue
		}
		out[k] = v
	}
	return out
}

// embeddingItem is A1111's description of one embedding.
type embeddingItem struct {
	Step             *int    `json:"step"`
	SDCheckpoint     *string `json:"sd_checkpoint"`
	SDCheckpointName *string `json:"sd_checkpoint_name"`
	Shape            int     `json:"shape"`   // clip_l + clip_g widths, as A1111 adds them for SDXL
	Vectors          int     `json:"vectors"` // tokens the name stands for
}

// handleEmbeddings lists the embedding folder as A1111 does: the SDXL
// embeddings prompts can use under "loaded", files that are not one
// under "skipped".
func (s *Server) handleEmbeddings(w http.ResponseWriter, r *http.Request) {
	loaded, skipped := map[string]embeddingItem{}, map[string]embeddingItem{}
	names, _ := lora.List(s.cfg.EmbeddingDir)
	for _, n := range names {
		e, err := lora.OpenEmbedding(filepath.Join(s.cfg.EmbeddingDir, n+".safetensors"))
		if err != nil {
			s.log.Debug("embedding skipped", "name", n, "err", err)
			skipped[n] = embeddingItem{}
			continue
		}
		loaded[n] = embeddingItem{Shape: len(e.CLIPL[0]) + len(e.CLIPG[0]), Vectors: len(e.CLIPL)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"loaded": loaded, "skipped": skipped})
}
