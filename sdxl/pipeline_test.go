package sdxl

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/prompt"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// Acceptance tests of the whole pipeline against diffusers'
// StableDiffusionXLPipeline / StableDiffusionXLImg2ImgPipeline on the tiny
// checkpoint (CPU, float32, compat diffusers). Tolerances come from the
// reference README: the float32-vs-float64 spread of the pipeline latents
// is 1.0e-6 relative L2, the smallest plausible mistake 9.4e-3; 1e-4 sits
// between with margin both ways. Images must agree to about ±1 level.
const (
	pipeLatentTol = 1e-4
	pipeMinPSNR   = 45.0
)

// pipeCase is one entry of `pipelines` in tiny-sdxl-a-cases.json.
type pipeCase struct {
	Name          string    `json:"name"`
	Kind          string    `json:"kind"`
	Sched         string    `json:"sched"`
	Steps         int       `json:"steps"`
	Strength      float64   `json:"strength"`
	Seed          uint64    `json:"seed"`
	Prompt        string    `json:"prompt_text"`
	Negative      *string   `json:"negative_prompt_text"`
	Guidance      float64   `json:"guidance_scale"`
	Width         int       `json:"width"`
	Height        int       `json:"height"`
	PNG           string    `json:"png"`
	InputPNG      string    `json:"input_image_png"`
	StepTimesteps []float64 `json:"step_timesteps"`
}

// request is the case as a pipeline request. The golden scheduler names
// are ours except dpmpp_2m_karras, which is sampler + schedule.
func (c *pipeCase) request(t testing.TB) Request {
	t.Helper()
	r := Request{
		Prompt: c.Prompt, Width: c.Width, Height: c.Height, Steps: c.Steps,
		CFGScale: c.Guidance, Sampler: c.Sched, Seed: c.Seed, Batch: 1,
		Compat: CompatDiffusers, Syntax: prompt.SyntaxNone,
	}
	if name, ok := strings.CutSuffix(c.Sched, "_karras"); ok {
		r.Sampler, r.Schedule = name, "karras"
	}
	if c.Negative != nil {
		r.Negative, r.HasNegative = *c.Negative, true
	}
	if c.Kind == "i2i" {
		img, err := LoadImage(refDir + c.InputPNG)
		if err != nil {
			t.Fatal(err)
		}
		r.InitImage, r.Strength = img, c.Strength
	}
	return r
}

var (
	pipeOnce  sync.Once
	pipeModel *Model
	pipeErr   error
)

// pipeFixture returns the tiny model on the CPU (loaded once for all
// pipeline tests), the pipeline cases and the goldens.
func pipeFixture(t testing.TB) (*Model, []pipeCase, map[string]goldenTensor) {
	t.Helper()
	cases := loadReferenceCases(t).Pipelines
	g, err := referenceGoldens()
	if err != nil {
		t.Fatal(err)
	}
	pipeOnce.Do(func() { pipeModel, pipeErr = LoadModel(refdata.TinyCheckpoint(t), cpu.New()) })
	if pipeErr != nil {
		t.Fatal(pipeErr)
	}
	return pipeModel, cases, g
}

func TestPipelineMatchesDiffusers(t *testing.T) {
	m, cases, g := pipeFixture(t)
	if len(cases) != 6 {
		t.Fatalf("%d pipeline cases in the JSON, want 6", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			requireNoLeaks(t, m.Backend())
			dir := t.TempDir()
			r := c.request(t)
			steps := 0
			r.OnStep = func(step, total int) {
				steps++
				if step != steps || total != len(c.StepTimesteps) {
					t.Errorf("OnStep(%d, %d), want (%d, %d)", step, total, steps, len(c.StepTimesteps))
				}
			}
			res, err := generateDumped(m, r, dir)
			if err != nil {
				t.Fatal(err)
			}
			if steps != len(c.StepTimesteps) {
				t.Errorf("%d steps reported, want %d", steps, len(c.StepTimesteps))
			}
			prefix := "pipe/" + c.Name + "/"
			sampling := readGoldens(t, filepath.Join(dir, "sampling.safetensors"))
			unet := readGoldens(t, filepath.Join(dir, "unet.safetensors"))

			// The first UNet call: every input, then the output.
			for _, name := range []string{"sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids", "out"} {
				want := goldenIn(t, g, prefix+"unet_call0/"+name)
				checkPipeTensor(t, "unet_call0/"+name, goldenIn(t, unet, name), want, pipeLatentTol)
			}
			// The noise drawn for the start: rand_00 for txt2img, the
			// second draw (rand_01) for img2img.
			noiseDraw := "rand_00"
			if c.Kind == "i2i" {
				noiseDraw = "rand_01"
			}
			checkPipeTensor(t, "noise", goldenIn(t, sampling, "noise"), goldenIn(t, g, prefix+noiseDraw), 0)
			for i := range c.StepTimesteps {
				name := fmt.Sprintf("latents_step_%02d", i)
				want := goldenIn(t, g, fmt.Sprintf("%sstep_%02d_latents", prefix, i))
				checkPipeTensor(t, name, goldenIn(t, sampling, name), want, pipeLatentTol)
			}
			checkPipeTensor(t, "latents_final", goldenIn(t, sampling, "latents_final"),
				goldenIn(t, g, prefix+"latents_final"), pipeLatentTol)

			if len(res.Images) != 1 || res.Width != c.Width || res.Height != c.Height {
				t.Fatalf("result: %d images of %dx%d, want 1 of %dx%d", len(res.Images), res.Width, res.Height, c.Width, c.Height)
			}
			db, err := psnr8(rgbBytes(res.Images[0]), rgbBytes(loadRefPNG(t, c.PNG)))
			if err != nil {
				t.Fatal(err)
			}
			if db < pipeMinPSNR {
				t.Errorf("image PSNR %.1f dB against %s, want ≥ %.0f dB", db, c.PNG, pipeMinPSNR)
			}
			t.Logf("PSNR %.1f dB", db)
		})
	}
}

// checkPipeTensor compares shapes and values by relative L2 (tol 0: exact).
func checkPipeTensor(t *testing.T, name string, got, want goldenTensor, tol float64) {
	t.Helper()
	if fmt.Sprint(got.shape) != fmt.Sprint(want.shape) {
		t.Errorf("%s: shape %v, want %v", name, got.shape, want.shape)
		return
	}
	checkRel(t, name, relL2(got.data, want.data), tol)
}
