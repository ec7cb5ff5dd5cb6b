package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gosdxl/gosdxl/internal/infotext"
	"github.com/gosdxl/gosdxl/sampler"
	"github.com/gosdxl/gosdxl/sdxl"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// Runner runs jobs: Engine on the local model, natsqueue's client on
// remote workers.
type Runner interface {
	// Run makes the job's images. It stops between steps when ctx is done
	// (returning context.Cause) and obeys ctl's skip and interrupt.
	Run(ctx context.Context, spec *Spec, ctl *Control, progress func(Progress)) (*Output, error)
}

// Engine holds one resident model and runs one job at a time on it.
type Engine struct {
	Info  ModelInfo
	model *sdxl.Model
	mu    sync.Mutex
	ad    adapterState
	// trimAsked: a release of cached memory was asked for during a job
	// (engine_memory.go).
	trimAsked atomic.Bool
}

// ModelInfo names a checkpoint as /sdapi/v1/sd-models lists it.
type ModelInfo struct {
	Name   string `json:"name"`   // file name without extension
	File   string `json:"file"`   // path as given
	Hash   string `json:"hash"`   // A1111's short hash: 10 hex digits of the SHA-256
	SHA256 string `json:"sha256"` // "" for a diffusers folder
}

// Title is A1111's sd_model_checkpoint value: "name.ext [hash]".
func (m ModelInfo) Title() string {
	if m.Hash == "" {
		return filepath.Base(m.File)
	}
	return fmt.Sprintf("%s [%s]", filepath.Base(m.File), m.Hash)
}

// Describe names a checkpoint and hashes it (cached beside the file, as
// the CLI does).
func Describe(path string) (ModelInfo, error) {
	info := ModelInfo{Name: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), File: path}
	if st, err := os.Stat(path); err != nil {
		return info, err
	} else if st.IsDir() {
		return info, nil
	}
	h, err := weights.FileSHA256(path)
	if err != nil {
		return info, err
	}
	info.SHA256, info.Hash = h, h[:10]
	return info, nil
}

// NewEngine loads the checkpoint at path onto the backend at the backend's
// default precision.
func NewEngine(path string, b tensor.Backend) (*Engine, error) {
	return NewEngineWith(path, b, sdxl.LoadOptions{})
}

// NewEngineWith loads the checkpoint at path onto the backend with opt
// (the precision; gen serve's --vae-precision).
func NewEngineWith(path string, b tensor.Backend, opt sdxl.LoadOptions) (*Engine, error) {
	info, err := Describe(path)
	if err != nil {
		return nil, err
	}
	m, err := sdxl.LoadModelWith(path, b, opt)
	if err != nil {
		return nil, err
	}
	e := &Engine{Info: info, model: m}
	e.UseAdapterDirs("", "", nil)
	return e, nil
}

// Close releases the model.
func (e *Engine) Close() error { return e.model.Close() }

// Run makes the job's images, batch iteration by batch iteration (A1111's
// n_iter): iteration k draws seeds seed+k·batch_size onwards, so the
// images equal one run of batch_size·n_iter.
func (e *Engine) Run(ctx context.Context, spec *Spec, ctl *Control, progress func(Progress)) (*Output, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	defer e.trimIfAsked()
	var initImage image.Image
	if spec.InitImage != nil {
		img, _, err := image.Decode(bytes.NewReader(spec.InitImage))
		if err != nil {
			return nil, fmt.Errorf("init image: %v", err)
		}
		if b := img.Bounds(); spec.Inpaint == nil && (b.Dx() != spec.Width || b.Dy() != spec.Height) {
			if img, err = sdxl.ResizeImage(sdxl.ResizeMode(spec.ResizeMode), img, spec.Width, spec.Height); err != nil {
				return nil, errorf(http.StatusUnprocessableEntity, "init_images[0]: %v", err)
			}
		}
		initImage = img
	}
	if ctl == nil {
		ctl = &Control{}
	}
	text, adapterFields, err := e.prepareAdapters(spec)
	if err != nil {
		return nil, err
	}
	out := &Output{Width: spec.Width, Height: spec.Height, ModelName: e.Info.Name, ModelHash: e.Info.Hash}
	for k := 0; k < spec.NIter; k++ {
		iterCtx, cancel := ctl.Iteration(ctx)
		req := spec.request(text, initImage)
		req.Seed += uint64(k * spec.BatchSize)
		req.Context = iterCtx
		if err := spec.modeRequest(&req, true); err != nil {
			cancel(nil)
			return nil, errorf(http.StatusUnprocessableEntity, "%v", err)
		}
		if progress != nil {
			progress(Progress{Iteration: k, Iterations: spec.NIter, Step: 0, Steps: spec.Steps})
			// A preview comes just before its step's OnStep, and travels
			// with that step's progress.
			var preview string
			if spec.PreviewEvery > 0 {
				req.PreviewEvery = spec.PreviewEvery
				req.OnPreview = func(step, total int, img *image.RGBA) {
					if enc, err := encodePreview(img); err == nil {
						preview = enc
					}
				}
			}
			req.OnStep = func(step, total int) {
				progress(Progress{Iteration: k, Iterations: spec.NIter, Step: step, Steps: total, Preview: preview})
				preview = ""
			}
		}
		// A1111 answers skip and interrupt with the iteration's images as
		// far as they got (its last prediction), so the run keeps them.
		req.KeepPartial = true
		res, err := e.model.Generate(req)
		cause := context.Cause(iterCtx)
		cancel(nil)
		switch {
		case err == nil && res.Stopped == nil: // finished
		case ctx.Err() != nil: // the job itself ended (shutdown, timeout): no answer
			return nil, context.Cause(ctx)
		case err == nil: // skipped or interrupted: its images are kept below
		case errors.Is(cause, ErrSkipped): // stopped before its first step: nothing to keep
			continue
		case errors.Is(cause, ErrInterrupted):
			out.Interrupted = true
			return out, nil
		case errors.Is(err, sdxl.ErrEmptyMask):
			return nil, errorf(http.StatusUnprocessableEntity, "mask: %v", err)
		default:
			return nil, err
		}
		out.Width, out.Height = res.Width, res.Height
		for i, img := range res.Images {
			text := Infotext(spec, res.Seeds[i], res.Width, res.Height, e.Info, adapterFields...)
			var buf bytes.Buffer
			if err := infotext.EncodePNG(&buf, img, map[string]string{"parameters": text}); err != nil {
				return nil, err
			}
			out.Images = append(out.Images, buf.Bytes())
			out.Seeds = append(out.Seeds, res.Seeds[i])
			out.Infotexts = append(out.Infotexts, text)
		}
		if errors.Is(res.Stopped, ErrInterrupted) {
			out.Interrupted = true
			return out, nil
		}
	}
	return out, nil
}

// Infotext is the A1111 "parameters" text of one image, written as
// `gen -n NEGATIVE` writes it (A1111 always encodes its negative prompt,
// the empty one included), so the server's PNG equals the CLI's. The
// prompt keeps its <lora:…> tags; adapterFields are the "Lora hashes" and
// "TI hashes" the engine found.
func Infotext(spec *Spec, seed uint64, width, height int, model ModelInfo, adapterFields ...infotext.Field) string {
	info, _ := sampler.Lookup(spec.Sampler)
	scheduleDisplay, _ := sampler.ScheduleDisplayName(spec.Schedule)
	p := infotext.Parameters{
		Prompt:       spec.Prompt,
		Negative:     spec.Negative,
		Steps:        spec.Steps,
		Sampler:      info.DisplayName,
		ScheduleType: scheduleDisplay,
		CFGScale:     spec.CFGScale,
		Seed:         seed,
		Width:        width,
		Height:       height,
		ModelHash:    model.Hash,
		Model:        model.Name,
		RNG:          "CPU",
	}
	p.Extra = append(p.Extra, adapterFields...)
	if spec.Negative == "" {
		p.Extra = append(p.Extra, infotext.Field{Key: "Empty negative prompt", Value: "encoded"})
	}
	if s, _ := scheduleByA1111(scheduleDisplay); s != spec.Schedule {
		p.Extra = append(p.Extra, infotext.Field{Key: "Schedule name", Value: spec.Schedule})
	}
	if spec.InitImage != nil {
		p.DenoisingStrength = spec.Strength
	}
	spec.modeFields(&p)
	return p.String()
}
