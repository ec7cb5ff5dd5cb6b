package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"testing"
)

// TestImg2imgResizesTheStartImage: a 40×24 start image becomes the
// requested 64×48 output in every A1111 resize mode, and the modes give
// different images (the start image is placed differently).
func TestImg2imgResizesTheStartImage(t *testing.T) {
	e := tinyEngine(t)
	_, hs := startServer(t, Config{Runner: e, Model: e.Info})
	seen := map[string]int{}
	for mode := range 3 {
		code, _, body := call(t, "POST", hs.URL+"/sdapi/v1/img2img", map[string]any{
			"prompt": "a cat", "init_images": []string{tinyPNG(t, 40, 24)}, "width": 64, "height": 48,
			"resize_mode": mode, "steps": 2, "denoising_strength": 0.5, "seed": 1,
		})
		if code != 200 {
			t.Fatalf("resize_mode %d: %d %s", mode, code, body)
		}
		var res struct{ Images []string }
		if err := json.Unmarshal(body, &res); err != nil || len(res.Images) != 1 {
			t.Fatalf("resize_mode %d: %v, %d images", mode, err, len(res.Images))
		}
		raw, _ := base64.StdEncoding.DecodeString(res.Images[0])
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != 64 || b.Dy() != 48 {
			t.Errorf("resize_mode %d: output %dx%d, want 64x48", mode, b.Dx(), b.Dy())
		}
		if prev, dup := seen[res.Images[0]]; dup {
			t.Errorf("resize_mode %d gave the same image as %d", mode, prev)
		}
		seen[res.Images[0]] = mode
	}
}
