package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/gosdxl/gosdxl/internal/loratest"
	"github.com/gosdxl/gosdxl/server"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// TestServePNGEqualsCLI: for the same parameters, the PNG that gen serve
// returns (over the A1111 API) is byte for byte the file gen writes.
func TestServePNGEqualsCLI(t *testing.T) {
	model := tinyModel(t)
	engine, err := server.NewEngine(model, cpu.New())
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	loraDir, embDir := t.TempDir(), t.TempDir()
	writeTestLoRA(t, loraDir, "mystyle", nil)
	writeTestLoRA(t, loraDir, "other", func(f *loratest.File) {
		for _, x := range f.Tensors {
			for i := range x.V {
				x.V[i] *= -0.5
			}
		}
	})
	r := rand.New(rand.NewSource(1))
	if err := loratest.Write(filepath.Join(embDir, "badhands.safetensors"), &loratest.File{Tensors: map[string]*loratest.Tensor{
		"clip_l": loratest.Random(r, "F16", 0.1, 2, 64), "clip_g": loratest.Random(r, "F16", 0.1, 2, 128),
	}}, nil); err != nil {
		t.Fatal(err)
	}
	engine.UseAdapterDirs(loraDir, embDir, nil)
	adapterFlags := []string{"--lora-dir", loraDir, "--embedding-dir", embDir}
	srv, err := server.New(server.Config{Runner: engine, Model: engine.Info, LoRADir: loraDir, EmbeddingDir: embDir})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	initImage := refDir + "tiny-sdxl-a-i2i-input.png"
	initB64 := func() string {
		b, err := os.ReadFile(initImage)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	// A mask for inpainting: a white rectangle on the init image's size.
	maskFile := filepath.Join(t.TempDir(), "mask.png")
	{
		mask := image.NewGray(image.Rect(0, 0, 192, 128))
		for y := 40; y < 90; y++ {
			for x := 60; x < 130; x++ {
				mask.Pix[y*mask.Stride+x] = 255
			}
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, mask); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(maskFile, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	maskB64 := func() string {
		b, err := os.ReadFile(maskFile)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	cases := []struct {
		name string
		api  map[string]any
		cli  []string
		path string
		want []string // in the parameters
	}{
		{"euler a", map[string]any{"prompt": "1girl, (smile:1.2), upper body", "negative_prompt": "lowres",
			"width": 64, "height": 64, "steps": 3, "cfg_scale": 5, "sampler_name": "Euler a", "seed": 42},
			[]string{"-p", "1girl, (smile:1.2), upper body", "-n", "lowres", "--width", "64", "--height", "64",
				"--steps", "3", "--cfg", "5", "--sampler", "euler_a", "--seed", "42"}, "txt2img", nil},
		// A LoRA tag and an embedding: merged on the resident model, the
		// tag kept in the parameters with Lora hashes and TI hashes.
		{"lora and embedding", map[string]any{"prompt": "1girl, solo<lora:mystyle:0.7>", "negative_prompt": "badhands, lowres",
			"width": 64, "height": 64, "steps": 2, "cfg_scale": 5, "sampler_name": "Euler", "seed": 5},
			[]string{"-p", "1girl, solo<lora:mystyle:0.7>", "-n", "badhands, lowres", "--width", "64", "--height", "64",
				"--steps", "2", "--cfg", "5", "--sampler", "euler", "--seed", "5"}, "txt2img",
			[]string{"<lora:mystyle:0.7>", `Lora hashes: "mystyle: `, `TI hashes: "badhands: `}},
		// Another set: the first is taken out, two merged with their own
		// text-encoder and UNet strengths.
		{"two loras, te and unet strengths", map[string]any{"prompt": "<lora:other:0.5:-1>a cat, <lora:mystyle:1.2>", "negative_prompt": "",
			"width": 64, "height": 64, "steps": 2, "cfg_scale": 5, "sampler_name": "Euler", "seed": 6},
			[]string{"-p", "<lora:other:0.5:-1>a cat, <lora:mystyle:1.2>", "-n", "", "--width", "64", "--height", "64",
				"--steps", "2", "--cfg", "5", "--sampler", "euler", "--seed", "6"}, "txt2img",
			[]string{`Lora hashes: "other: `}},
		// The cases after this one have no LoRA: the checkpoint is back.
		{"dpm++ 2m karras, empty negative, batch", map[string]any{"prompt": "a cat", "negative_prompt": "",
			"width": 72, "height": 64, "steps": 2, "cfg_scale": 7, "sampler_name": "DPM++ 2M", "scheduler": "Karras",
			"seed": 7, "batch_size": 2},
			[]string{"-p", "a cat", "-n", "", "--width", "72", "--height", "64", "--steps", "2", "--cfg", "7",
				"--sampler", "dpmpp_2m", "--schedule", "karras", "--seed", "7", "--batch", "2"}, "txt2img", nil},
		{"img2img", map[string]any{"prompt": "a dog", "negative_prompt": "blurry", "init_images": []string{initB64()},
			"width": 192, "height": 128, "denoising_strength": 0.6, "steps": 5, "cfg_scale": 6, "sampler_name": "Euler", "seed": 3},
			[]string{"-p", "a dog", "-n", "blurry", "--init-image", initImage, "--strength", "0.6", "--steps", "5",
				"--cfg", "6", "--sampler", "euler", "--seed", "3"}, "img2img", nil},
		// The 192×128 start image resized to 128×96 ("Just resize", A1111's
		// resize_mode 0), as gen does with --width and --height.
		{"img2img resized", map[string]any{"prompt": "a dog", "negative_prompt": "", "init_images": []string{initB64()},
			"width": 128, "height": 96, "resize_mode": 0, "denoising_strength": 0.5, "steps": 4, "cfg_scale": 6,
			"sampler_name": "Euler", "seed": 9},
			[]string{"-p", "a dog", "-n", "", "--init-image", initImage, "--width", "128", "--height", "96",
				"--strength", "0.5", "--steps", "4", "--cfg", "6", "--sampler", "euler", "--seed", "9"}, "img2img", nil},
		// Hires fix with its own sampler and schedule for the second pass.
		{"hires fix", map[string]any{"prompt": "a cat", "negative_prompt": "", "width": 64, "height": 64, "steps": 2,
			"cfg_scale": 5, "sampler_name": "Euler", "seed": 11, "enable_hr": true, "hr_scale": 1.5,
			"hr_upscaler": "Latent (bicubic)", "hr_second_pass_steps": 2, "denoising_strength": 0.5,
			"hr_sampler_name": "DPM++ 2M", "hr_scheduler": "Karras"},
			[]string{"-p", "a cat", "-n", "", "--width", "64", "--height", "64", "--steps", "2", "--cfg", "5",
				"--sampler", "euler", "--seed", "11", "--hires-scale", "1.5", "--hires-upscaler", "latent-bicubic",
				"--hires-steps", "2", "--hires-denoise", "0.5", "--hires-sampler", "dpmpp_2m", "--hires-schedule", "karras"},
			"txt2img", []string{"Size: 64x64", "Hires upscale: 1.5", "Hires upscaler: Latent (bicubic)", "Hires sampler: DPM++ 2M"}},
		// Inpainting with A1111's API defaults: "Only masked" at width ×
		// height, no padding, masked content "fill", mask blur 4.
		{"inpainting, defaults", map[string]any{"prompt": "a dog", "negative_prompt": "", "init_images": []string{initB64()},
			"mask": maskB64(), "width": 64, "height": 64, "steps": 3, "cfg_scale": 6, "sampler_name": "Euler", "seed": 4},
			[]string{"-p", "a dog", "-n", "", "--init-image", initImage, "--mask", maskFile, "--inpaint-full-res",
				"--inpaint-padding", "0", "--masked-content", "fill", "--width", "64", "--height", "64",
				"--steps", "3", "--cfg", "6", "--sampler", "euler", "--seed", "4"},
			"img2img", []string{"Size: 64x64", "Mask blur: 4", "Inpaint area: Only masked", "Masked content: fill", "Mask: mask.png"}},
		// Inpainting of the whole picture, inpaint_full_res as the web
		// UI sends it (0), inpainting_fill 1 ("original").
		{"inpainting", map[string]any{"prompt": "a dog", "negative_prompt": "", "init_images": []string{initB64()},
			"mask": maskB64(), "inpaint_full_res": 0, "inpainting_fill": 1, "mask_blur": 2,
			"steps": 3, "cfg_scale": 6, "sampler_name": "Euler", "seed": 4},
			[]string{"-p", "a dog", "-n", "", "--init-image", initImage, "--mask", maskFile, "--mask-blur", "2",
				"--strength", "0.75", "--steps", "3", "--cfg", "6", "--sampler", "euler", "--seed", "4"},
			"img2img", []string{"Mask blur: 2", "Mask: mask.png", "Denoising strength: 0.75"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append(append(c.cli, adapterFlags...), "--model", model, "--device", "cpu", "-q", "--out", filepath.Join(dir, "cli.png"))
			var out, errOut bytes.Buffer
			stdout, stderr = &out, &errOut
			defer func() { stdout, stderr = os.Stdout, os.Stderr }()
			if code := run(args); code != 0 {
				t.Fatalf("gen: exit %d: %s", code, errOut.String())
			}
			var files [][]byte
			for _, name := range bytes.Fields(out.Bytes()) {
				b, err := os.ReadFile(string(name))
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, b)
			}
			body, _ := json.Marshal(c.api)
			resp, err := http.Post(hs.URL+"/sdapi/v1/"+c.path, "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, raw)
			}
			var res struct{ Images []string }
			if err := json.Unmarshal(raw, &res); err != nil {
				t.Fatal(err)
			}
			if len(res.Images) != len(files) {
				t.Fatalf("server made %d images, gen %d", len(res.Images), len(files))
			}
			for i, s := range res.Images {
				png, _ := base64.StdEncoding.DecodeString(s)
				for _, want := range c.want {
					if !bytes.Contains(png, []byte(want)) {
						t.Errorf("image %d: the parameters lack %q", i, want)
					}
				}
				if !bytes.Equal(png, files[i]) {
					t.Errorf("image %d: the server's PNG (%d bytes) differs from gen's (%d bytes)", i, len(png), len(files[i]))
				}
			}
		})
	}
}
