package server

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestBadInput sends what a careless or hostile client might: each gets a
// 4xx in A1111's error shape whose detail names the problem, no job runs,
// and the server goes on answering good requests.
func TestBadInput(t *testing.T) {
	f := newFakeRunner()
	limits := DefaultLimits
	limits.MaxBodyBytes = 1 << 20
	_, hs := startServer(t, Config{Runner: f, Limits: limits})
	huge := base64.StdEncoding.EncodeToString(make([]byte, 2<<20))
	longPrompt := strings.Repeat("masterpiece, ", 5000) // 10,000 tokens
	cases := []struct {
		name, path, body string
		status           int
		detail           string // in the error's detail
	}{
		{"malformed JSON", "txt2img", `{"prompt": "a cat",`, 422, "malformed JSON"},
		{"not JSON", "txt2img", `prompt=a+cat`, 422, "malformed JSON"},
		{"empty body", "txt2img", ``, 422, "malformed JSON"},
		{"array body", "txt2img", `[1, 2]`, 422, "JSON object"},
		{"steps as text", "txt2img", `{"prompt": "a", "steps": "many"}`, 422, `field "steps": expected an integer, got string`},
		{"width as float", "txt2img", `{"prompt": "a", "width": 64.5}`, 422, `field "width"`},
		{"prompt as number", "txt2img", `{"prompt": 42}`, 422, `field "prompt": expected a string`},
		{"huge base64", "img2img", `{"prompt": "a", "init_images": ["` + huge + `"]}`, 413, "larger than this server accepts"},
		{"width 100000", "txt2img", `{"prompt": "a", "width": 100000}`, 422, "width 100000: must be a multiple of 8 from 8 to 4096"},
		{"width not multiple of 8", "txt2img", `{"prompt": "a", "width": 100}`, 422, "width 100"},
		{"negative height", "txt2img", `{"prompt": "a", "height": -64}`, 422, "height -64"},
		{"zero steps", "txt2img", `{"prompt": "a", "steps": 0}`, 422, "steps 0"},
		{"too many images", "txt2img", `{"prompt": "a", "batch_size": 8, "n_iter": 8}`, 422, "batch_size 8 × n_iter 8"},
		{"10,000-token prompt", "txt2img", `{"prompt": "` + longPrompt + `"}`, 422, "prompt:"},
		{"2,000-token prompt", "txt2img", `{"prompt": "` + strings.Repeat("a, ", 1000) + `"}`, 422, "chunks of 75 tokens is more than this server accepts (1500 tokens)"},
		{"10,000-token negative", "txt2img", `{"prompt": "a", "negative_prompt": "` + longPrompt + `"}`, 422, "negative_prompt:"},
		{"LoRA path traversal", "txt2img", `{"prompt": "a <lora:../../etc/passwd:1>"}`, 400, "without path separators"},
		{"LoRA absolute path", "txt2img", `{"prompt": "a <lora:/etc/passwd:1>"}`, 400, "without path separators"},
		{"LoRA backslash", "txt2img", `{"prompt": "a <lora:..\\..\\x:1>"}`, 400, "without path separators"},
		{"LoRA in the negative prompt", "txt2img", `{"prompt": "a", "negative_prompt": "<lora:style:0.8>"}`, 422, "read from the prompt only"},
		{"LoRA strength too large", "txt2img", `{"prompt": "a <lora:style:12>"}`, 422, "outside [-10, 10]"},
		{"LoRA strength not a number", "txt2img", `{"prompt": "a <lora:style:x>"}`, 422, `strength "x" is not a number`},
		{"hr_scale below 1", "txt2img", `{"prompt": "a", "enable_hr": true, "hr_scale": 0.5}`, 422, "hr_scale 0.5: must be at least 1"},
		{"unknown hr_upscaler", "txt2img", `{"prompt": "a", "enable_hr": true, "hr_upscaler": "R-ESRGAN 4x+"}`, 422, `hr_upscaler "R-ESRGAN 4x+": not found`},
		{"hires denoising_strength 0", "txt2img", `{"prompt": "a", "enable_hr": true, "denoising_strength": 0}`, 422, "denoising_strength 0: must be in (0, 1]"},
		{"hires denoising_strength above 1", "txt2img", `{"prompt": "a", "enable_hr": true, "denoising_strength": 1.5}`, 422, "denoising_strength 1.5"},
		{"hires size over the limit", "txt2img", `{"prompt": "a", "enable_hr": true, "hr_scale": 16}`, 422, "larger than this server's limit"},
		{"hires size not a multiple of 8", "txt2img", `{"prompt": "a", "enable_hr": true, "hr_resize_x": 700}`, 422, "hr_resize_x 700"},
		{"hires unknown sampler", "txt2img", `{"prompt": "a", "enable_hr": true, "hr_sampler_name": "Euler z"}`, 400, `hr_sampler_name "Euler z"`},
		{"hires prompt differs", "txt2img", `{"prompt": "a", "enable_hr": true, "hr_prompt": "b"}`, 422, "hr_prompt: a second-pass prompt other than prompt is not supported"},
		{"hires on img2img", "img2img", `{"prompt": "a", "init_images": ["` + tinyPNG(t, 64, 64) + `"], "enable_hr": true}`, 422, "enable_hr with init_images[0]: the hires fix is for txt2img only"},
		{"unknown sampler", "txt2img", `{"prompt": "a", "sampler_name": "Euler z"}`, 400, `sampler_name "Euler z": sampler not found`},
		{"unknown scheduler", "txt2img", `{"prompt": "a", "scheduler": "cosine"}`, 400, `scheduler "cosine"`},
		{"sampler without the scheduler", "txt2img", `{"prompt": "a", "sampler_name": "DDIM", "scheduler": "Karras"}`, 422, `sampler_name ddim with scheduler "karras": sampler ddim does not support`},
		{"bad seed", "txt2img", `{"prompt": "a", "seed": -7}`, 422, "seed -7"},
		{"NaN-ish cfg", "txt2img", `{"prompt": "a", "cfg_scale": 1e300}`, 422, "cfg_scale"},
		{"unknown script", "txt2img", `{"prompt": "a", "script_name": "x/y/z plot"}`, 422, "Script 'x/y/z plot' not found"},
		{"img2img without image", "img2img", `{"prompt": "a"}`, 422, "init_images"},
		{"img2img bad base64", "img2img", `{"prompt": "a", "init_images": ["@@@"]}`, 422, "not valid base64"},
		{"img2img not an image", "img2img", `{"prompt": "a", "init_images": ["aGVsbG8="]}`, 422, "not a readable PNG or JPEG"},
		{"img2img URL", "img2img", `{"prompt": "a", "init_images": ["http://127.0.0.1/x.png"]}`, 422, "not fetched"},
		{"mask of another size", "img2img", `{"prompt": "a", "init_images": ["` + tinyPNG(t, 64, 64) + `"], "mask": "` + tinyPNG(t, 32, 64) + `"}`, 422, "mask 32x64 with init_images[0] 64x64: the sizes differ"},
		{"mask not an image", "img2img", `{"prompt": "a", "init_images": ["` + tinyPNG(t, 64, 64) + `"], "mask": "aGVsbG8="}`, 422, "mask: not a readable PNG or JPEG"},
		{"mask bad base64", "img2img", `{"prompt": "a", "init_images": ["` + tinyPNG(t, 64, 64) + `"], "mask": "@@@"}`, 422, "mask: not valid base64"},
		{"mask selects nothing", "img2img", `{"prompt": "a", "init_images": ["` + tinyPNG(t, 64, 64) + `"], "mask": "` + maskPNG(t, 64, 64, 0) + `"}`, 422, "mask: selects nothing"},
		{"whole mask with fill", "img2img", `{"prompt": "a", "init_images": ["` + tinyPNG(t, 64, 64) + `"], "mask": "` + maskPNG(t, 64, 64, 255) + `"}`, 422, "mask: covers the whole image"},
		{"mask inverted to the whole image", "img2img", `{"prompt": "a", "init_images": ["` + tinyPNG(t, 64, 64) + `"], "mask": "` + maskPNG(t, 64, 64, 0) + `", "inpainting_mask_invert": 1, "inpainting_fill": 1}`, 422, "mask: covers the whole image"},
		{"mask blur x and y differ", "img2img", `{"prompt": "a", "init_images": ["` + tinyPNG(t, 64, 64) + `"], "mask": "` + tinyPNG(t, 64, 64) + `", "mask_blur_x": 2, "mask_blur_y": 6}`, 422, "mask_blur_x 2, mask_blur_y 6"},
		{"unknown inpainting_fill", "img2img", `{"prompt": "a", "init_images": ["` + tinyPNG(t, 64, 64) + `"], "mask": "` + tinyPNG(t, 64, 64) + `", "inpainting_fill": 4}`, 422, "inpainting_fill 4"},
		{"inpaint_full_res as text", "img2img", `{"prompt": "a", "init_images": ["` + tinyPNG(t, 64, 64) + `"], "mask": "` + tinyPNG(t, 64, 64) + `", "inpaint_full_res": "yes"}`, 422, `field "inpaint_full_res"`},
		{"img2img denoising_strength 0", "img2img", `{"prompt": "a", "init_images": ["` + tinyPNG(t, 64, 64) + `"], "mask": "` + tinyPNG(t, 64, 64) + `", "denoising_strength": 0}`, 422, "denoising_strength 0: must be in (0, 1]"},
		{"mask bomb", "img2img", `{"prompt": "a", "init_images": ["` + tinyPNG(t, 64, 64) + `"], "mask": "` + pngBomb(200000, 200000) + `"}`, 422, "mask 200000x200000 with init_images[0] 64x64: the sizes differ"},
		{"mask_blur negative", "img2img", `{"prompt": "a", "init_images": ["` + tinyPNG(t, 64, 64) + `"], "mask": "` + tinyPNG(t, 64, 64) + `", "mask_blur": -2}`, 422, "mask_blur -2: must not be negative"},
		{"mask_blur_x and _y negative", "img2img", `{"prompt": "a", "init_images": ["` + tinyPNG(t, 64, 64) + `"], "mask": "` + tinyPNG(t, 64, 64) + `", "mask_blur_x": -2, "mask_blur_y": -2}`, 422, "mask_blur_x -2: must not be negative"},
		{"inpaint_full_res_padding negative", "img2img", `{"prompt": "a", "init_images": ["` + tinyPNG(t, 64, 64) + `"], "mask": "` + tinyPNG(t, 64, 64) + `", "inpaint_full_res_padding": -1}`, 422, "inpaint_full_res_padding -1: must not be negative"},
		{"only masked at an odd size", "img2img", `{"prompt": "a", "init_images": ["` + tinyPNG(t, 64, 64) + `"], "mask": "` + tinyPNG(t, 64, 64) + `", "inpaint_full_res": true, "width": 100}`, 422, "width 100"},
		{"hires steps negative", "txt2img", `{"prompt": "a", "enable_hr": true, "hr_second_pass_steps": -1}`, 422, "hr_second_pass_steps -1: must be from 0 (as the first pass) to 1000"},
		{"hires steps over the limit", "txt2img", `{"prompt": "a", "enable_hr": true, "hr_second_pass_steps": 151}`, 422, "hr_second_pass_steps 151: more than this server's limit of 150"},
		{"hires schedule the sampler lacks", "txt2img", `{"prompt": "a", "sampler_name": "DDIM", "enable_hr": true, "hr_scheduler": "Karras"}`, 422, `sampler_name ddim with hr_scheduler "karras"`},
		{"hires schedule stretched too far", "txt2img", `{"prompt": "a", "steps": 30, "enable_hr": true, "denoising_strength": 0.01}`, 422, "steps 30 with denoising_strength 0.01: the second pass cannot run"},
		{"inpainting odd size", "img2img", `{"prompt": "a", "init_images": ["` + tinyPNG(t, 60, 64) + `"], "mask": "` + maskPNG(t, 60, 64, 255) + `"}`, 422, "size 60x64"},
		{"latent resize mode", "img2img", `{"prompt": "a", "width": 64, "height": 64, "init_images": ["` + tinyPNG(t, 64, 64) + `"], "resize_mode": 3}`, 422, "resize_mode 3"},
		{"resize mode out of range", "img2img", `{"prompt": "a", "width": 64, "height": 64, "init_images": ["` + tinyPNG(t, 64, 64) + `"], "resize_mode": -1}`, 422, "resize_mode -1"},
	}
	good := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, body := call(t, "POST", hs.URL+"/sdapi/v1/"+c.path, c.body)
			if code != c.status {
				t.Fatalf("status %d, want %d: %.300s", code, c.status, body)
			}
			if e := decodeError(t, body); !strings.Contains(e.Detail, c.detail) {
				t.Errorf("detail %q does not say %q", e.Detail, c.detail)
			}
			// Still serving.
			code, _, body = call(t, "POST", hs.URL+"/sdapi/v1/txt2img", `{"prompt": "fine", "steps": 2}`)
			if code != http.StatusOK {
				t.Fatalf("good request after it: %d %s", code, body)
			}
			good++
		})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.ran) != good {
		t.Errorf("%d jobs ran, want only the %d good ones", len(f.ran), good)
	}
}

// TestUnknownFieldsAccepted: fields A1111 does not have (or extensions
// add) are ignored, as A1111 itself ignores them.
func TestUnknownFieldsAccepted(t *testing.T) {
	var log syncBuffer
	logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, hs := startServer(t, Config{Runner: newFakeRunner(), Logger: logger})
	code, _, body := call(t, "POST", hs.URL+"/sdapi/v1/txt2img",
		`{"prompt": "a", "steps": 2, "controlnet_units": [], "my_extension": {"x": 1}, "restore_faces": true}`)
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	for _, want := range []string{`ignoring unknown fields`, `controlnet_units`, `my_extension`, `restore_faces`} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("debug log lacks %q:\n%s", want, log.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
