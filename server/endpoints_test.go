package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/gosdxl/gosdxl/internal/infotext"
	"github.com/gosdxl/gosdxl/internal/loratest"
	"github.com/gosdxl/gosdxl/sampler"
)

// TestListEndpoints checks the shapes of A1111's listing endpoints.
func TestListEndpoints(t *testing.T) {
	loras, embeddings := t.TempDir(), t.TempDir()
	for _, f := range []string{filepath.Join(loras, "style.safetensors"), filepath.Join(loras, "sub", "char.safetensors"),
		filepath.Join(loras, "notes.txt"), filepath.Join(embeddings, "easyneg.safetensors")} {
		os.MkdirAll(filepath.Dir(f), 0o755)
		os.WriteFile(f, []byte("x"), 0o644)
	}
	remote := func(context.Context) ([]string, error) { return []string{"style", "onworkers"}, nil }
	_, hs := startServer(t, Config{Runner: newFakeRunner(), LoRADir: loras, EmbeddingDir: embeddings, RemoteLoRAs: remote})
	get := func(path string, v any) {
		t.Helper()
		code, _, body := call(t, "GET", hs.URL+path, nil)
		if code != 200 {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	var samplers []samplerItem
	get("/sdapi/v1/samplers", &samplers)
	if len(samplers) != len(sampler.SamplerNames()) {
		t.Errorf("%d samplers", len(samplers))
	}
	for _, s := range samplers {
		if ours, _, ok := samplerByA1111(s.Name); !ok || s.Aliases[0] != ours {
			t.Errorf("sampler %+v does not map back", s)
		}
	}
	var schedulers []scheduleItem
	get("/sdapi/v1/schedulers", &schedulers)
	if schedulers[0].Name != "automatic" {
		t.Errorf("first scheduler %+v", schedulers[0])
	}
	for _, s := range schedulers {
		for _, key := range []string{s.Name, s.Label} {
			if _, ok := scheduleByA1111(key); !ok {
				t.Errorf("scheduler %q does not map back", key)
			}
		}
	}
	var ls []loraItem
	get("/sdapi/v1/loras", &ls)
	// Only the folder's own files: a tag cannot name a file in a subfolder.
	// and the workers' names the folder lacks, without a path.
	if len(ls) != 2 || ls[0].Name != "onworkers" || ls[0].Path != "" || ls[1].Name != "style" || ls[1].Alias != "style" ||
		ls[1].Path != filepath.Join(loras, "style.safetensors") {
		t.Errorf("loras %+v", ls)
	}
	var emb struct {
		Loaded  map[string]any `json:"loaded"`
		Skipped map[string]any `json:"skipped"`
	}
	get("/sdapi/v1/embeddings", &emb)
	if len(emb.Loaded) != 0 || emb.Skipped["easyneg"] == nil {
		t.Errorf("embeddings %+v", emb)
	}

	// Real files: the LoRA's metadata and training name, the embedding's
	// size, and refresh-loras finding a file added since.
	r := rand.New(rand.NewSource(1))
	lf := &loratest.File{Metadata: map[string]string{"ss_output_name": "Style V2", "ss_tag_frequency": `{"a": {"b": 3}}`},
		Tensors: map[string]*loratest.Tensor{
			"lora_unet_x.lora_down.weight": loratest.Random(r, "F16", 0.1, 2, 4),
			"lora_unet_x.lora_up.weight":   loratest.Random(r, "F16", 0.1, 4, 2)}}
	if err := loratest.Write(filepath.Join(loras, "style.safetensors"), lf, nil); err != nil {
		t.Fatal(err)
	}
	if err := loratest.Write(filepath.Join(embeddings, "easyneg.safetensors"), &loratest.File{Tensors: map[string]*loratest.Tensor{
		"clip_l": loratest.Random(r, "F16", 0.1, 3, 768), "clip_g": loratest.Random(r, "F16", 0.1, 3, 1280)}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := loratest.Write(filepath.Join(loras, "added.safetensors"), lf, nil); err != nil {
		t.Fatal(err)
	}
	if code, _, body := call(t, "POST", hs.URL+"/sdapi/v1/refresh-loras", nil); code != 200 {
		t.Errorf("refresh-loras: %d %s", code, body)
	}
	var full []struct {
		Name, Alias string
		Metadata    map[string]any
	}
	get("/sdapi/v1/loras", &full)
	if len(full) != 3 || full[0].Name != "added" || full[2].Name != "style" || full[2].Alias != "Style V2" ||
		fmt.Sprint(full[2].Metadata["ss_tag_frequency"]) != "map[a:map[b:3]]" {
		t.Errorf("loras %+v", full)
	}
	var emb2 struct {
		Loaded map[string]struct {
			Step           *int
			Shape, Vectors int
		}
	}
	get("/sdapi/v1/embeddings", &emb2)
	if e, ok := emb2.Loaded["easyneg"]; !ok || e.Shape != 768+1280 || e.Vectors != 3 || e.Step != nil {
		t.Errorf("embeddings %+v", emb2)
	}
	if code, _, body := call(t, "POST", hs.URL+"/sdapi/v1/refresh-checkpoints", nil); code != 200 || string(bytes.TrimSpace(body)) != "null" {
		t.Errorf("refresh-checkpoints: %d %s", code, body)
	}
	if code, _, body := call(t, "GET", hs.URL+"/sdapi/v1/nothing-here", nil); code != 404 {
		t.Errorf("unknown endpoint: %d %s", code, body)
	} else {
		decodeError(t, body)
	}
}

// TestPNGInfo: png-info reads back what the server writes.
func TestPNGInfo(t *testing.T) {
	_, hs := startServer(t, Config{Runner: newFakeRunner()})
	p := infotext.Parameters{Prompt: "a cat", Negative: "dog", Steps: 3, Sampler: "Euler a", ScheduleType: "Karras",
		CFGScale: 5.5, Seed: 9, Width: 64, Height: 72, Model: "m", RNG: "CPU"}
	var buf bytes.Buffer
	if err := infotext.EncodePNG(&buf, image.NewNRGBA(image.Rect(0, 0, 8, 8)), map[string]string{"parameters": p.String(), "Comment": "hi"}); err != nil {
		t.Fatal(err)
	}
	code, _, body := call(t, "POST", hs.URL+"/sdapi/v1/png-info", map[string]string{"image": "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())})
	var res struct {
		Info       string            `json:"info"`
		Items      map[string]string `json:"items"`
		Parameters map[string]string `json:"parameters"`
	}
	if code != 200 || json.Unmarshal(body, &res) != nil {
		t.Fatalf("%d %s", code, body)
	}
	if res.Info != p.String() || res.Items["Comment"] != "hi" {
		t.Errorf("info %q items %v", res.Info, res.Items)
	}
	for k, v := range map[string]string{"Prompt": "a cat", "Negative prompt": "dog", "Steps": "3", "Sampler": "Euler a",
		"Schedule type": "Karras", "CFG scale": "5.5", "Seed": "9", "Size-1": "64", "Size-2": "72", "RNG": "CPU"} {
		if res.Parameters[k] != v {
			t.Errorf("parameters[%q] = %q, want %q", k, res.Parameters[k], v)
		}
	}
	var plain bytes.Buffer
	png.Encode(&plain, image.NewNRGBA(image.Rect(0, 0, 8, 8)))
	code, _, body = call(t, "POST", hs.URL+"/sdapi/v1/png-info", map[string]string{"image": base64.StdEncoding.EncodeToString(plain.Bytes())})
	if code != 200 || !bytes.Contains(body, []byte(`"info":""`)) {
		t.Errorf("PNG without parameters: %d %s", code, body)
	}
	if code, _, body := call(t, "POST", hs.URL+"/sdapi/v1/png-info", map[string]string{"image": "bm90IGEgcG5n"}); code != 422 {
		t.Errorf("not a PNG: %d %s", code, body)
	}
}
