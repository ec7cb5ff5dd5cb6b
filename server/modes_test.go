package server

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/gosdxl/gosdxl/sdxl"
)

// TestModeSpecs: enable_hr, hr_* and the inpainting fields become the
// job's Hires and Inpaint with A1111's API defaults and meanings.
func TestModeSpecs(t *testing.T) {
	s, _ := startServer(t, Config{Runner: newFakeRunner()})
	init, mask := tinyPNG(t, 64, 64), tinyPNG(t, 64, 64) // a mask of mixed levels
	cases := []struct {
		name    string
		img2img bool
		body    string
		hires   *HiresSpec
		inpaint *InpaintSpec
	}{
		{"hr fields without enable_hr do nothing", false, `{"prompt": "a", "hr_scale": 3, "hr_upscaler": "Lanczos"}`, nil, nil},
		{"enable_hr defaults", false, `{"prompt": "a", "enable_hr": true}`,
			&HiresSpec{Scale: 2, Upscaler: "Latent", Denoise: 0.75}, nil},
		{"enable_hr, all set", false, `{"prompt": "a", "sampler_name": "Euler", "cfg_scale": 7, "enable_hr": true, "hr_resize_x": 1024,
			"hr_upscaler": "Latent (nearest-exact)", "hr_second_pass_steps": 9, "denoising_strength": 0.4, "hr_cfg": 4,
			"hr_sampler_name": "DPM++ 2M Karras", "hr_prompt": "a", "hr_negative_prompt": ""}`,
			&HiresSpec{Scale: 2, Width: 1024, Upscaler: "Latent (nearest-exact)", Steps: 9, Denoise: 0.4, CFGScale: 4,
				Sampler: "dpmpp_2m", Schedule: "karras"}, nil},
		{"hr sampler and scheduler as the first pass", false, `{"prompt": "a", "sampler_name": "Euler", "enable_hr": true,
			"hr_sampler_name": "Use same sampler", "hr_scheduler": "Automatic", "hr_upscaler": "None"}`,
			&HiresSpec{Scale: 2, Upscaler: "None", Denoise: 0.75}, nil},
		{"mask defaults: only masked at width x height, fill, blur 4", true, `{"prompt": "a", "init_images": ["` + init + `"], "mask": "` + mask + `"}`,
			nil, &InpaintSpec{FullRes: true, MaskBlur: 4, Content: sdxl.ContentFill, Width: 512, Height: 512}},
		{"mask_blur sets x and y; whole picture; latent noise; invert", true, `{"prompt": "a", "init_images": ["` + init + `"], "mask": "` + mask + `",
			"mask_blur_x": 1, "mask_blur_y": 9, "mask_blur": 0, "inpaint_full_res": false, "inpaint_full_res_padding": 16,
			"inpainting_fill": 2, "inpainting_mask_invert": 1}`,
			nil, &InpaintSpec{Invert: true, Padding: 16, Content: sdxl.ContentLatentNoise}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := newRequest(c.img2img)
			if err := json.Unmarshal([]byte(c.body), &req); err != nil {
				t.Fatal(err)
			}
			spec, err := s.toSpec(&req, c.img2img)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(spec.Hires, c.hires) {
				t.Errorf("hires %+v, want %+v", spec.Hires, c.hires)
			}
			if spec.Inpaint != nil {
				if len(spec.Inpaint.Mask) == 0 {
					t.Error("the mask was not kept")
				}
				spec.Inpaint.Mask = nil
			}
			if !reflect.DeepEqual(spec.Inpaint, c.inpaint) {
				t.Errorf("inpaint %+v, want %+v", spec.Inpaint, c.inpaint)
			}
		})
	}
}
