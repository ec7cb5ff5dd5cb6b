package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

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
	srv, err := server.New(server.Config{Runner: engine, Model: engine.Info})
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
	cases := []struct {
		name string
		api  map[string]any
		cli  []string
		path string
	}{
		{"euler a", map[string]any{"prompt": "1girl, (smile:1.2), upper body", "negative_prompt": "lowres",
			"width": 64, "height": 64, "steps": 3, "cfg_scale": 5, "sampler_name": "Euler a", "seed": 42},
			[]string{"-p", "1girl, (smile:1.2), upper body", "-n", "lowres", "--width", "64", "--height", "64",
				"--steps", "3", "--cfg", "5", "--sampler", "euler_a", "--seed", "42"}, "txt2img"},
		{"dpm++ 2m karras, empty negative, batch", map[string]any{"prompt": "a cat", "negative_prompt": "",
			"width": 72, "height": 64, "steps": 2, "cfg_scale": 7, "sampler_name": "DPM++ 2M", "scheduler": "Karras",
			"seed": 7, "batch_size": 2},
			[]string{"-p", "a cat", "-n", "", "--width", "72", "--height", "64", "--steps", "2", "--cfg", "7",
				"--sampler", "dpmpp_2m", "--schedule", "karras", "--seed", "7", "--batch", "2"}, "txt2img"},
		{"img2img", map[string]any{"prompt": "a dog", "negative_prompt": "blurry", "init_images": []string{initB64()},
			"denoising_strength": 0.6, "steps": 5, "cfg_scale": 6, "sampler_name": "Euler", "seed": 3},
			[]string{"-p", "a dog", "-n", "blurry", "--init-image", initImage, "--strength", "0.6", "--steps", "5",
				"--cfg", "6", "--sampler", "euler", "--seed", "3"}, "img2img"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append(c.cli, "--model", model, "--device", "cpu", "-q", "--out", filepath.Join(dir, "cli.png"))
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
				if !bytes.Equal(png, files[i]) {
					t.Errorf("image %d: the server's PNG (%d bytes) differs from gen's (%d bytes)", i, len(png), len(files[i]))
				}
			}
		})
	}
}
