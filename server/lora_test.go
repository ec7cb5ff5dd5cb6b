package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/internal/loratest"
	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// TestLoRARequests: on one resident model, a request's LoRA is merged, an
// unknown name or a bad file is a 422 naming it while the model keeps its
// LoRA, the same set is reused, and a request without tags gets the plain
// checkpoint back, bit for bit.
func TestLoRARequests(t *testing.T) {
	ckpt := refdata.TinyCheckpoint(t)
	engine, err := NewEngine(ckpt, cpu.New())
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	dir := t.TempDir()
	write := func(name string, mutate func(*loratest.File)) {
		if _, err := loratest.WriteSmall(ckpt, dir, name, mutate); err != nil {
			t.Fatal(err)
		}
	}
	write("mystyle", nil)
	write("withnan", func(f *loratest.File) {
		f.Tensors["lora_unet_input_blocks_1_0_in_layers_2.lora_up.weight"].V[3] = math.NaN()
	})
	write("wrongshape", func(f *loratest.File) {
		for _, s := range []string{"lora_down.weight", "lora_up.weight", "alpha"} {
			f.Tensors["lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_k."+s] = f.Tensors["lora_unet_input_blocks_1_0_in_layers_2."+s]
		}
	})
	engine.UseAdapterDirs(dir, "", nil)
	_, hs := startServer(t, Config{Runner: engine, Model: engine.Info, LoRADir: dir})

	generate := func(prompt string, wantCode int, want ...string) (png []byte, info string) {
		t.Helper()
		code, _, body := call(t, "POST", hs.URL+"/sdapi/v1/txt2img", map[string]any{"prompt": prompt,
			"width": 64, "height": 64, "steps": 1, "sampler_name": "Euler", "seed": 11})
		if code != wantCode {
			t.Fatalf("%q: %d %s, want %d", prompt, code, body, wantCode)
		}
		for _, w := range want {
			if !bytes.Contains(body, []byte(w)) {
				t.Errorf("%q: the answer lacks %q: %s", prompt, w, body)
			}
		}
		if code != 200 {
			return nil, ""
		}
		var res struct {
			Images []string
			Info   string
		}
		if err := json.Unmarshal(body, &res); err != nil || len(res.Images) != 1 {
			t.Fatalf("%q: %v %s", prompt, err, body)
		}
		png, _ = base64.StdEncoding.DecodeString(res.Images[0])
		return png, res.Info
	}
	merged := func() string {
		var names []string
		for _, u := range engine.model.LoRAs() {
			names = append(names, u.Name)
		}
		return strings.Join(names, ",")
	}

	plain, _ := generate("a cat", 200)
	withLoRA, info := generate("a cat <lora:mystyle:1>", 200)
	if bytes.Equal(plain, withLoRA) {
		t.Error("the LoRA did not change the image")
	}
	if !strings.Contains(info, `Lora hashes: \"mystyle: `) {
		t.Errorf("info lacks the Lora hashes: %s", info)
	}
	generate("a cat <lora:mystyel:1>", 422, `\"mystyel\"`, "did you mean mystyle")
	generate("a cat <lora:withnan:1>", 422, filepath.Join(dir, "withnan.safetensors"), "NaN")
	generate("a cat <lora:wrongshape:1>", 422, filepath.Join(dir, "wrongshape.safetensors"), "does not fit")
	generate("a cat <lora:../mystyle:1>", 400, "without path separators")
	if m := merged(); m != "mystyle" {
		t.Errorf("after the refusals the model holds %q, want mystyle", m)
	}
	again, _ := generate("a cat <lora:mystyle:1>", 200)
	if !bytes.Equal(again, withLoRA) {
		t.Error("the same LoRA request gave another image after the refusals")
	}
	back, _ := generate("a cat", 200)
	if !bytes.Equal(back, plain) || merged() != "" {
		t.Errorf("without tags the checkpoint is not back (merged %q)", merged())
	}

	// A LoRA named like an embedding is refused before anything is merged.
	embDir := t.TempDir()
	r := rand.New(rand.NewSource(1))
	if err := loratest.Write(filepath.Join(embDir, "mystyle.safetensors"), &loratest.File{Tensors: map[string]*loratest.Tensor{
		"clip_l": loratest.Random(r, "F16", 0.1, 1, 64), "clip_g": loratest.Random(r, "F16", 0.1, 1, 128)}}, nil); err != nil {
		t.Fatal(err)
	}
	engine.UseAdapterDirs(dir, embDir, nil)
	generate("a cat <lora:mystyle:1>", 422, "both a LoRA and an embedding")
	if merged() != "" {
		t.Errorf("the refused LoRA was merged: %q", merged())
	}
}
