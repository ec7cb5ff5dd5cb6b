package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/gosdxl/gosdxl/lora"
	"github.com/gosdxl/gosdxl/weights"
)

// inspectAdapter describes a LoRA-family or embedding file as JSON and
// reports handled; any other file is left to the checkpoint inspection
// (which refuses adapters as checkpoints).
func inspectAdapter(path string, w io.Writer) (handled bool, err error) {
	c, err := weights.OpenCheckpoint(path)
	if err != nil || c.Layout() != weights.LayoutSGM {
		if c != nil {
			c.Close()
		}
		return false, nil
	}
	names := c.Names()
	c.Close()
	var isLoRA, isEmbedding bool
	for _, n := range names {
		switch {
		case n == "clip_l" || n == "clip_g":
			isEmbedding = true
		case strings.HasPrefix(n, "lora_"), strings.Contains(n, ".lora_"), strings.Contains(n, ".hada_"), strings.Contains(n, ".lokr_"):
			isLoRA = true
		}
	}
	var out any
	switch {
	case isEmbedding:
		e, err := lora.OpenEmbedding(path)
		if err != nil {
			return true, err
		}
		h, err := lora.FileShortHash(path)
		if err != nil {
			return true, err
		}
		out = struct {
			Format  string `json:"format"`
			Name    string `json:"name"`
			Vectors int    `json:"vectors"`
			CLIPL   int    `json:"clip_l_width"`
			CLIPG   int    `json:"clip_g_width"`
			Hash    string `json:"ti_hash"`
		}{"SDXL textual-inversion embedding", e.Name, len(e.CLIPL), len(e.CLIPL[0]), len(e.CLIPG[0]), h}
	case isLoRA:
		f, err := lora.Open(path)
		if err != nil {
			return true, err
		}
		defer f.Close()
		out = f.Describe()
	default:
		return false, nil
	}
	js, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return true, err
	}
	_, err = fmt.Fprintf(w, "%s\n", js)
	return true, err
}
