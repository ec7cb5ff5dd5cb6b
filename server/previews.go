package server

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"math"
	"net/http"
	"sync"
)

// Live previews (A1111's "live previews"): while a job samples, GET
// /sdapi/v1/progress answers current_image, a PNG of the first image's
// current prediction made without a VAE decode (sdxl.LatentPreview, A1111's
// "Approx cheap"), refreshed every show_progress_every_n_steps steps. The
// two A1111 options that control it are settable with POST
// /sdapi/v1/options; each job takes the period in force when it is queued
// (Spec.PreviewEvery), so a remote worker makes the same previews.

// defaultPreviewEvery is A1111's default show_progress_every_n_steps.
const defaultPreviewEvery = 10

// previewSettings are the live-preview options.
type previewSettings struct {
	mu      sync.Mutex
	enabled bool // live_previews_enable
	every   int  // show_progress_every_n_steps; -1 or 0: none while sampling
}

// period is the Spec.PreviewEvery of a job queued now: 0 for none.
func (p *previewSettings) period() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.enabled || p.every <= 0 {
		return 0
	}
	return p.every
}

// options adds the settings to GET /sdapi/v1/options' answer.
func (p *previewSettings) options(into map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	into["live_previews_enable"] = p.enabled
	into["show_progress_every_n_steps"] = p.every
	into["show_progress_type"] = "Approx cheap"
	into["live_previews_image_format"] = "png"
}

// set applies the preview options present in opts (POST /sdapi/v1/options),
// checking all of them before changing any.
func (p *previewSettings) set(opts map[string]any) error {
	enabled, every := p.current()
	if v, ok := opts["live_previews_enable"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return errorf(http.StatusUnprocessableEntity, "live_previews_enable: expected true or false, got %v", v)
		}
		enabled = b
	}
	if v, ok := opts["show_progress_every_n_steps"]; ok {
		f, isNumber := v.(float64)
		if !isNumber || f != math.Trunc(f) || f < -1 || f > 1000 {
			return errorf(http.StatusUnprocessableEntity, "show_progress_every_n_steps: expected a whole number from -1 to 1000, got %v", v)
		}
		every = int(f)
	}
	p.mu.Lock()
	p.enabled, p.every = enabled, every
	p.mu.Unlock()
	return nil
}

func (p *previewSettings) current() (bool, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.enabled, p.every
}

// encodePreview is a preview as current_image carries it: base64 PNG.
func encodePreview(img image.Image) (string, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed} // small image, made while the job runs
	if err := enc.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("live preview: %v", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}
