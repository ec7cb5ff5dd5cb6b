package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/sdxl"
	"github.com/gosdxl/gosdxl/server"
)

// refuseRunner fails any job: every request of these tests must be
// refused before one runs.
type refuseRunner struct{ t *testing.T }

func (r refuseRunner) Run(context.Context, *server.Spec, *server.Control, func(server.Progress)) (*server.Output, error) {
	r.t.Error("a job ran")
	return nil, errors.New("refused")
}

// TestModeRulesDefinedOnce: a bad hires or inpainting setting, given as
// gen's flags and as the same request to the server, is refused by both
// with the same rule (the text after the name: sdxl's RequestError.Msg),
// each naming it by its own flag or JSON field.
func TestModeRulesDefinedOnce(t *testing.T) {
	initFile := refDir + "tiny-sdxl-a-i2i-input.png" // 192x128
	data, err := os.ReadFile(initFile)
	if err != nil {
		t.Fatal(err)
	}
	initB64 := base64.StdEncoding.EncodeToString(data)
	srv, err := server.New(server.Config{Runner: refuseRunner{t}, Model: server.ModelInfo{Name: "m", File: "m.safetensors"}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	txt2img := []string{"-p", "x", "--device", "cpu", "--width", "512", "--height", "512"}
	inpaint := func(flags ...string) []string {
		return append([]string{"--init-image", initFile, "--mask", initFile}, flags...)
	}
	cases := []struct {
		name     string
		args     []string // gen's, after txt2img's
		endpoint string
		body     map[string]any // besides prompt (and the init image and mask for img2img)
		gen, api string         // how each names the problem
		rule     string
	}{
		{"hires scale below 1", []string{"--hires-scale", "0.5"}, "txt2img", map[string]any{"enable_hr": true, "hr_scale": 0.5},
			"--hires-scale 0.5", "hr_scale 0.5", "must be at least 1"},
		{"hires width makes an odd height", []string{"--hires-width", "700"}, "txt2img", map[string]any{"enable_hr": true, "hr_resize_x": 700},
			"--hires-width 700", "hr_resize_x 700", "makes the hires size 700x700 from 512x512; width and height must be multiples of 8"},
		{"hires denoise 0", []string{"--hires-scale", "2", "--hires-denoise", "0"}, "txt2img", map[string]any{"enable_hr": true, "denoising_strength": 0},
			"--hires-denoise 0", "denoising_strength 0", "must be in (0, 1]"},
		{"hires steps negative", []string{"--hires-scale", "2", "--hires-steps", "-1"}, "txt2img", map[string]any{"enable_hr": true, "hr_second_pass_steps": -1},
			"--hires-steps -1", "hr_second_pass_steps -1", "must be from 0 (as the first pass) to 1000"},
		{"hires schedule stretched past the training steps", []string{"--steps", "30", "--hires-scale", "2", "--hires-denoise", "0.01"}, "txt2img",
			map[string]any{"steps": 30, "enable_hr": true, "denoising_strength": 0.01},
			"--steps 30 with --hires-denoise 0.01", "steps 30 with denoising_strength 0.01", "the second pass cannot run: sampler: 3000 steps, want 1 to 1000"},
		{"hires fix on img2img", []string{"--hires-scale", "2", "--init-image", initFile}, "img2img", map[string]any{"enable_hr": true},
			"--hires-scale with --init-image", "enable_hr with init_images[0]", "the hires fix is for txt2img only"},
		{"mask blur negative", inpaint("--mask-blur", "-1"), "img2img", map[string]any{"mask": initB64, "mask_blur": -1},
			"--mask-blur -1", "mask_blur -1", "must not be negative"},
		{"masked area padding negative", inpaint("--inpaint-padding", "-3"), "img2img", map[string]any{"mask": initB64, "inpaint_full_res_padding": -3},
			"--inpaint-padding -3", "inpaint_full_res_padding -3", "must not be negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append(append([]string{}, txt2img...), c.args...)
			body := map[string]any{"prompt": "x", "width": 512, "height": 512}
			if c.endpoint == "img2img" {
				body["init_images"] = []string{initB64}
			}
			for k, v := range c.body {
				body[k] = v
			}
			_, err := parseOptions(args, io.Discard)
			if err == nil || err.Error() != c.gen+": "+c.rule {
				t.Errorf("gen %v: %v, want %q", c.args, err, c.gen+": "+c.rule)
			}
			j, _ := json.Marshal(body)
			resp, err := http.Post(hs.URL+"/sdapi/v1/"+c.endpoint, "application/json", strings.NewReader(string(j)))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct{ Detail string }
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("server: status %d, %v", resp.StatusCode, err)
			}
			if e.Detail != c.api+": "+c.rule {
				t.Errorf("server %v: %q, want %q", c.body, e.Detail, c.api+": "+c.rule)
			}
		})
	}
}

// Every field the pipeline's rules may name is one of gen's flags.
func TestRequestFieldsAreFlags(t *testing.T) {
	o := &options{set: map[string]bool{}, spelled: map[string]string{}, fromField: map[string]string{}}
	fs := newFlagSet(o, io.Discard)
	for _, field := range sdxl.RequestFields {
		if field == "size" { // both --width and --height (checkRequest)
			continue
		}
		name := strings.TrimPrefix(o.fieldFlag(field, ""), "--")
		if fs.Lookup(name) == nil {
			t.Errorf("sdxl field %q is named --%s, which gen does not have", field, name)
		}
	}
}
