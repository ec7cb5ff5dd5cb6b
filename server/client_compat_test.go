package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"github.com/gosdxl/gosdxl/internal/infotext"
	"image/png"
	"net/http"
	"testing"
)

// webuiapiTxt2Img is the body the `webuiapi` Python package
// (WebUIApi.txt2img, sdwebuiapi) sends: every argument with its default,
// here with prompt, negative_prompt, seed, steps, size and sampler given.
func webuiapiTxt2Img(prompt, negative string, seed int64, steps, width, height int, samplerName string) map[string]any {
	return map[string]any{
		"enable_hr": false, "hr_scale": 2, "hr_upscaler": "Latent", "hr_second_pass_steps": 0,
		"hr_resize_x": 0, "hr_resize_y": 0, "denoising_strength": 0.7,
		"firstphase_width": 0, "firstphase_height": 0,
		"prompt": prompt, "styles": []string{}, "seed": seed, "subseed": -1, "subseed_strength": 0.0,
		"seed_resize_from_h": 0, "seed_resize_from_w": 0,
		"batch_size": 1, "n_iter": 1, "steps": steps, "cfg_scale": 7.0, "width": width, "height": height,
		"restore_faces": false, "tiling": false, "do_not_save_samples": false, "do_not_save_grid": false,
		"negative_prompt": negative, "eta": 1.0, "s_churn": 0, "s_tmax": 0, "s_tmin": 0, "s_noise": 1,
		"override_settings": map[string]any{}, "override_settings_restore_afterwards": true,
		"sampler_name": samplerName, "sampler_index": samplerName,
		"script_name": nil, "script_args": []any{}, "send_images": true, "save_images": false,
		"alwayson_scripts": map[string]any{},
	}
}

// webuiapiResult is how webuiapi reads an answer (_to_api_result): the
// images base64-decoded and opened, info parsed as JSON, parameters as is.
type webuiapiResult struct {
	images     [][]byte
	info       map[string]any
	parameters map[string]any
}

func readWebuiapiResult(t *testing.T, status int, body []byte) webuiapiResult {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var r map[string]any
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	var res webuiapiResult
	for _, s := range r["images"].([]any) {
		b, err := base64.StdEncoding.DecodeString(s.(string))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Fatalf("image is not a PNG: %v", err)
		}
		res.images = append(res.images, b)
	}
	if err := json.Unmarshal([]byte(r["info"].(string)), &res.info); err != nil {
		t.Fatalf("info is not JSON: %v", err)
	}
	res.parameters = r["parameters"].(map[string]any)
	return res
}

// TestWebuiapiClient drives the server as the webuiapi package does, on
// the tiny model, and checks what that client reads back.
func TestWebuiapiClient(t *testing.T) {
	e := tinyEngine(t)
	_, hs := startServer(t, Config{Runner: e, Model: e.Info})

	// WebUIApi() asks for the scripts list first.
	if code, _, body := call(t, "GET", hs.URL+"/sdapi/v1/scripts", nil); code != 200 {
		t.Fatalf("scripts: %d %s", code, body)
	}
	code, _, body := call(t, "POST", hs.URL+"/sdapi/v1/txt2img",
		webuiapiTxt2Img("1girl, (smile:1.2)", "lowres", 1234, 2, 64, 64, "Euler a"))
	res := readWebuiapiResult(t, code, body)
	if len(res.images) != 1 {
		t.Fatalf("%d images, want 1", len(res.images))
	}
	if res.info["seed"].(float64) != 1234 || len(res.info["all_seeds"].([]any)) != 1 {
		t.Errorf("info seed %v all_seeds %v", res.info["seed"], res.info["all_seeds"])
	}
	infotexts := res.info["infotexts"].([]any)
	text, err := infotext.ReadPNGText(bytes.NewReader(res.images[0]))
	if err != nil {
		t.Fatal(err)
	}
	if len(infotexts) != 1 || infotexts[0] != text["parameters"] {
		t.Errorf("infotexts %q, PNG parameters %q", infotexts, text["parameters"])
	}
	p, err := infotext.Parse(text["parameters"])
	if err != nil {
		t.Fatal(err)
	}
	if p.Prompt != "1girl, (smile:1.2)" || p.Negative != "lowres" || p.Steps != 2 || p.Sampler != "Euler a" ||
		p.CFGScale != 7 || p.Seed != 1234 || p.Width != 64 || p.Height != 64 || p.Model != e.Info.Name || p.ModelHash != e.Info.Hash {
		t.Errorf("PNG parameters %+v", p)
	}
	if res.parameters["prompt"] != "1girl, (smile:1.2)" || res.parameters["steps"].(float64) != 2 {
		t.Errorf("parameters %v", res.parameters)
	}
}

// TestOpenWebUIClient follows Open WebUI's AUTOMATIC1111 image client
// (backend/open_webui/routers/images.py): it reads options, lists models,
// posts the options back with sd_model_checkpoint set to the model's
// title, then sends a minimal txt2img, all with HTTP Basic credentials
// (its AUTOMATIC1111_API_AUTH "user:password").
func TestOpenWebUIClient(t *testing.T) {
	e := tinyEngine(t)
	_, hs := startServer(t, Config{Runner: e, Model: e.Info, APIKey: "s3cret"})
	auth := []string{"authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("webui:s3cret"))}

	code, _, body := call(t, "GET", hs.URL+"/sdapi/v1/options", nil, auth...)
	var options map[string]any
	if code != 200 || json.Unmarshal(body, &options) != nil {
		t.Fatalf("options: %d %s", code, body)
	}
	code, _, body = call(t, "GET", hs.URL+"/sdapi/v1/sd-models", nil, auth...)
	var models []map[string]any
	if code != 200 || json.Unmarshal(body, &models) != nil || len(models) != 1 {
		t.Fatalf("sd-models: %d %s", code, body)
	}
	title, name := models[0]["title"].(string), models[0]["model_name"].(string)
	if title != options["sd_model_checkpoint"] || name != e.Info.Name {
		t.Errorf("model title %q name %q, options say %q", title, name, options["sd_model_checkpoint"])
	}
	options["sd_model_checkpoint"] = title
	if code, _, body := call(t, "POST", hs.URL+"/sdapi/v1/options", options, auth...); code != 200 {
		t.Fatalf("set options: %d %s", code, body)
	}
	options["sd_model_checkpoint"] = "some-other-model.safetensors"
	if code, _, body := call(t, "POST", hs.URL+"/sdapi/v1/options", options, auth...); code != 400 {
		t.Errorf("another model: %d %s, want 400", code, body)
	}

	data := map[string]any{"prompt": "a cat", "batch_size": 2, "width": 64, "height": 64, "steps": 2, "negative_prompt": ""}
	code, _, body = call(t, "POST", hs.URL+"/sdapi/v1/txt2img", data, auth...)
	if code != 200 {
		t.Fatalf("txt2img: %d %s", code, body)
	}
	var res struct {
		Images []string `json:"images"`
		Info   string   `json:"info"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 2 {
		t.Fatalf("%d images for batch_size 2", len(res.Images))
	}
	var info struct {
		Seed     uint64   `json:"seed"`
		AllSeeds []uint64 `json:"all_seeds"`
	}
	if err := json.Unmarshal([]byte(res.Info), &info); err != nil {
		t.Fatal(err)
	}
	if len(info.AllSeeds) != 2 || info.AllSeeds[1] != info.Seed+1 {
		t.Errorf("all_seeds %v for seed %d", info.AllSeeds, info.Seed)
	}
	for i, s := range res.Images {
		b, _ := base64.StdEncoding.DecodeString(s)
		text, err := infotext.ReadPNGText(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		p, _ := infotext.Parse(text["parameters"])
		// A1111's API default sampler is Euler, 512×512 is overridden.
		if p.Seed != info.AllSeeds[i] || p.Sampler != "Euler" || p.Width != 64 {
			t.Errorf("image %d parameters %+v", i, p)
		}
	}
}
