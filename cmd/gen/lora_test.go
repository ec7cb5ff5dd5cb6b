package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/internal/loratest"
	"github.com/gosdxl/gosdxl/internal/refdata"
)

// writeTestLoRA stores a small kohya LoRA for the tiny model (an attention
// projection, a conv, a text-encoder projection) as dir/name.safetensors.
func writeTestLoRA(t *testing.T, dir, name string, mutate func(*loratest.File)) string {
	t.Helper()
	path, err := loratest.WriteSmall(refdata.TinyCheckpoint(t), dir, name, mutate)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// addnetHash is kohya's hash, computed here on its own: SHA-256 of the file
// after the 8-byte length and the header.
func addnetHash(t *testing.T, path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(raw[:8])
	s := sha256.Sum256(raw[8+n:])
	return hex.EncodeToString(s[:])[:12]
}

func TestLoRAFlagTagAndFrom(t *testing.T) {
	model := tinyModel(t)
	loraDir, out := t.TempDir(), t.TempDir()
	path := writeTestLoRA(t, loraDir, "mystyle", nil)
	common := []string{"--model", model, "--width", "64", "--height", "64", "--steps", "2", "--seed", "5",
		"--sampler", "euler", "--device", "cpu", "-q", "-n", "lowres"}
	gen := func(name string, args ...string) string {
		t.Helper()
		png := filepath.Join(out, name+".png")
		code, _, errOut := runCapture(t, append(append(append([]string(nil), common...), args...), "--out", png)...)
		if code != 0 {
			t.Fatalf("gen %v: exit %d: %s", args, code, errOut)
		}
		return png
	}
	flagPNG := gen("flag", "-p", "1girl, solo", "--lora", path+":0.7")
	tagPNG := gen("tag", "-p", "1girl, solo<lora:mystyle:0.7>", "--lora-dir", loraDir)
	plainPNG := gen("plain", "-p", "1girl, solo")
	if string(readRGB(t, flagPNG)) != string(readRGB(t, tagPNG)) {
		t.Error("--lora FILE:0.7 and <lora:mystyle:0.7> gave different pixels")
	}
	if db := psnr(readRGB(t, flagPNG), readRGB(t, plainPNG)); db > 60 {
		t.Errorf("the LoRA barely changed the image (PSNR %.1f dB against no LoRA)", db)
	}

	p, raw, err := readParameters(flagPNG)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, "1girl, solo<lora:mystyle:0.7>\n") {
		t.Errorf("the prompt line does not carry the tag: %q", raw)
	}
	if v, _ := p.Get("Lora hashes"); v != "mystyle: "+addnetHash(t, path) {
		t.Errorf("Lora hashes %q, want %q", v, "mystyle: "+addnetHash(t, path))
	}
	if !strings.Contains(raw, `Lora hashes: "mystyle: `) {
		t.Errorf("Lora hashes not quoted as A1111 writes them: %q", raw)
	}

	// --from finds the tag's LoRA in --lora-dir and gives the same pixels.
	again := filepath.Join(out, "again.png")
	code, _, errOut := runCapture(t, "--from", flagPNG, "--model", model, "--device", "cpu", "--lora-dir", loraDir, "--out", again, "-q")
	if code != 0 {
		t.Fatalf("gen --from: exit %d: %s", code, errOut)
	}
	if string(readRGB(t, again)) != string(readRGB(t, flagPNG)) {
		t.Error("gen --from gave different pixels")
	}
	// Or --lora says where the tag's file is.
	again2 := filepath.Join(out, "again2.png")
	code, _, errOut = runCapture(t, "--from", flagPNG, "--model", model, "--device", "cpu", "--lora", path, "--lora-dir", t.TempDir(), "--out", again2, "-q")
	if code != 0 {
		t.Fatalf("gen --from --lora: exit %d: %s", code, errOut)
	}
	if string(readRGB(t, again2)) != string(readRGB(t, flagPNG)) {
		t.Error("gen --from --lora gave different pixels")
	}
}

// Every bad adapter input is one clear error before anything is generated.
func TestLoRABadInput(t *testing.T) {
	model := tinyModel(t)
	dir := t.TempDir()
	good := writeTestLoRA(t, dir, "mystyle", nil)
	writeTestLoRA(t, dir, "withnan", func(f *loratest.File) {
		f.Tensors["lora_unet_input_blocks_1_0_in_layers_2.lora_up.weight"].V[3] = math.NaN()
	})
	writeTestLoRA(t, dir, "sd15", func(f *loratest.File) {
		f.Tensors["lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight"] =
			f.Tensors["lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight"]
	})
	writeTestLoRA(t, dir, "sd15meta", func(f *loratest.File) {
		f.Metadata["ss_base_model_version"] = "sd_v1"
	})
	writeTestLoRA(t, dir, "wrongshape", func(f *loratest.File) {
		// the conv module's matrices put onto a linear layer
		for _, s := range []string{"lora_down.weight", "lora_up.weight", "alpha"} {
			f.Tensors["lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_k."+s] = f.Tensors["lora_unet_input_blocks_1_0_in_layers_2."+s]
		}
	})
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.safetensors")
	if err := os.WriteFile(truncated, data[:len(data)-100], 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown name lists close matches", []string{"-p", "x <lora:mystyel:1>"}, "did you mean mystyle"},
		{"path in a tag", []string{"-p", "x <lora:../mystyle:1>"}, "path separators"},
		{"strength too large", []string{"-p", "x <lora:mystyle:11>"}, "outside [-10, 10]"},
		{"flag strength too large", []string{"-p", "x", "--lora", good + ":-12"}, "outside [-10, 10]"},
		{"NaN", []string{"-p", "x <lora:withnan:1>"}, "NaN"},
		{"SD 1.5 by names", []string{"-p", "x <lora:sd15:1>"}, "Stable Diffusion 1.x/2.x LoRA"},
		{"SD 1.5 by metadata", []string{"-p", "x <lora:sd15meta:1>"}, "sd_v1"},
		{"shape mismatch", []string{"-p", "x <lora:wrongshape:1>"}, "does not fit"},
		{"truncated", []string{"-p", "x", "--lora", truncated}, "truncated"},
		{"used twice", []string{"-p", "x <lora:mystyle:1> <lora:mystyle:0.5>"}, "used twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "x.png")
			args := append([]string{"--model", model, "--width", "64", "--height", "64", "--steps", "1",
				"--device", "cpu", "-q", "--lora-dir", dir, "--out", out}, c.args...)
			code, _, errOut := runCapture(t, args...)
			if code != 2 || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, errOut, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("an image was written")
			}
		})
	}
}

func TestInspectAdapterAndEmbedding(t *testing.T) {
	dir := t.TempDir()
	path := writeTestLoRA(t, dir, "mystyle", func(f *loratest.File) {
		f.Tensors["lora_unet_something_else.weight"] = &loratest.Tensor{DType: "F32", Shape: []int{1}, V: []float64{1}}
	})
	code, out, errOut := runCapture(t, "inspect", path)
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, errOut)
	}
	var d struct {
		Format, Naming string
		Base           string `json:"base_model_guess"`
		Hash           string `json:"lora_hash"`
		Modules        int
		Families       []struct {
			Name   string
			Ranks  []int
			Alphas []float64
		}
		Unused []string
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if d.Format != "LoCon+LoRA" || d.Naming != "kohya" || d.Modules != 3 || d.Hash != addnetHash(t, path) ||
		!strings.HasPrefix(d.Base, "sdxl_base_v1-0") || len(d.Unused) != 1 || d.Unused[0] != "lora_unet_something_else.weight" {
		t.Errorf("inspect: %s", out)
	}
	for _, f := range d.Families {
		if len(f.Ranks) != 1 || f.Ranks[0] != 4 || len(f.Alphas) != 1 || f.Alphas[0] != 4 {
			t.Errorf("family %+v: want rank 4, alpha 4", f)
		}
	}

	emb := filepath.Join(dir, "badhands.safetensors")
	r := rand.New(rand.NewSource(1))
	if err := loratest.Write(emb, &loratest.File{Tensors: map[string]*loratest.Tensor{
		"clip_l": loratest.Random(r, "F16", 0.1, 2, 768), "clip_g": loratest.Random(r, "F16", 0.1, 2, 1280),
	}}, nil); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCapture(t, "inspect", emb)
	if code != 0 || !strings.Contains(out, `"vectors": 2`) || !strings.Contains(out, `"clip_g_width": 1280`) {
		t.Errorf("inspect embedding: exit %d, %s %s", code, out, errOut)
	}
}

// An embedding used in a prompt is listed as A1111 does ("TI hashes").
func TestEmbeddingHashInPNG(t *testing.T) {
	model := tinyModel(t)
	dir, out := t.TempDir(), filepath.Join(t.TempDir(), "e.png")
	emb := filepath.Join(dir, "badhands.safetensors")
	r := rand.New(rand.NewSource(1))
	if err := loratest.Write(emb, &loratest.File{Tensors: map[string]*loratest.Tensor{
		"clip_l": loratest.Random(r, "F16", 0.1, 2, 64), "clip_g": loratest.Random(r, "F16", 0.1, 2, 128),
	}}, nil); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCapture(t, "--model", model, "--width", "64", "--height", "64", "--steps", "1",
		"--device", "cpu", "-q", "-p", "1girl", "-n", "badhands, lowres", "--embedding-dir", dir, "--out", out)
	if code != 0 {
		t.Fatalf("gen: exit %d: %s", code, errOut)
	}
	p, _, err := readParameters(out)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(emb)
	sum := sha256.Sum256(raw)
	if v, _ := p.Get("TI hashes"); v != "badhands: "+hex.EncodeToString(sum[:])[:12] {
		t.Errorf("TI hashes %q", v)
	}
}
