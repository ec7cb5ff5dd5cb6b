package server

import (
	"bytes"
	"encoding/base64"
	"image"
	_ "image/jpeg" // init images may be JPEG
	_ "image/png"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/gosdxl/gosdxl/prompt"
)

// toSpec checks an A1111 request against the limits and turns it into a
// job. Every problem is a 4xx error naming the field.
func (s *Server) toSpec(req *GenerationRequest, img2img bool) (*Spec, error) {
	lim := s.cfg.Limits
	if err := checkUnsupported(req, img2img); err != nil {
		return nil, err
	}
	spec := &Spec{
		Model:        s.cfg.Model.Name,
		Prompt:       req.Prompt,
		Negative:     req.NegativePrompt,
		Width:        req.Width,
		Height:       req.Height,
		Steps:        req.Steps,
		CFGScale:     req.CFGScale,
		BatchSize:    req.BatchSize,
		NIter:        req.NIter,
		PreviewEvery: s.previews.period(),
	}
	for _, d := range []struct {
		name string
		v    int
	}{{"width", req.Width}, {"height", req.Height}} {
		if d.v < 8 || d.v > lim.MaxSide || d.v%8 != 0 {
			return nil, errorf(http.StatusUnprocessableEntity, "%s %d: must be a multiple of 8 from 8 to %d", d.name, d.v, lim.MaxSide)
		}
	}
	if req.Steps < 1 || req.Steps > lim.MaxSteps {
		return nil, errorf(http.StatusUnprocessableEntity, "steps %d: must be from 1 to %d", req.Steps, lim.MaxSteps)
	}
	if math.IsNaN(req.CFGScale) || math.IsInf(req.CFGScale, 0) || math.Abs(req.CFGScale) > 100 {
		return nil, errorf(http.StatusUnprocessableEntity, "cfg_scale %v: must be a number from -100 to 100", req.CFGScale)
	}
	if req.BatchSize < 1 || req.NIter < 1 || req.BatchSize*req.NIter > lim.MaxImages {
		return nil, errorf(http.StatusUnprocessableEntity, "batch_size %d × n_iter %d: both must be at least 1 and make at most %d images",
			req.BatchSize, req.NIter, lim.MaxImages)
	}
	switch {
	case req.Seed == -1:
		spec.Seed = uint64(rand.Uint32()) // A1111 draws seeds below 2³²
	case req.Seed < -1:
		return nil, errorf(http.StatusUnprocessableEntity, "seed %d: must be -1 (random) or a whole number from 0", req.Seed)
	default:
		spec.Seed = uint64(req.Seed)
	}
	if err := s.checkSampler(req, spec); err != nil {
		return nil, err
	}
	for _, p := range []struct{ name, text string }{{"prompt", req.Prompt}, {"negative_prompt", req.NegativePrompt}} {
		if err := s.checkPrompt(p.name, p.text); err != nil {
			return nil, err
		}
	}
	if img2img {
		if err := s.checkInitImage(req, spec); err != nil {
			return nil, err
		}
		if err := s.checkInpaint(req, spec); err != nil {
			return nil, err
		}
	}
	if err := s.checkHires(req, spec); err != nil {
		return nil, err
	}
	// The pipeline's rules, hires fix and inpainting included, then this
	// server's limits on what they make and the mask's coverage.
	if err := checkRequest(spec, req); err != nil {
		return nil, err
	}
	if err := s.checkHiresLimits(spec); err != nil {
		return nil, err
	}
	if err := checkMaskCoverage(spec); err != nil {
		return nil, err
	}
	return spec, nil
}

func (s *Server) checkSampler(req *GenerationRequest, spec *Spec) error {
	name := req.SamplerName
	field := "sampler_name"
	if name == "" {
		name, field = req.SamplerIndex, "sampler_index"
	}
	ours, folded, ok := samplerByA1111(name)
	if !ok {
		return errorf(http.StatusBadRequest, "%s %q: sampler not found; this server has %s", field, name, samplerDisplayList())
	}
	spec.Sampler, spec.Schedule = ours, folded
	if req.Scheduler != "" && !(folded != "" && strings.EqualFold(req.Scheduler, "automatic")) {
		sched, ok := scheduleByA1111(req.Scheduler)
		if !ok {
			return errorf(http.StatusBadRequest, "scheduler %q: not found; this server has %s", req.Scheduler, scheduleLabelList())
		}
		spec.Schedule = sched
	}
	// Whether the sampler has that schedule is the pipeline's rule
	// (checkRequest).
	return nil
}

// checkPrompt bounds a prompt's size: bytes first (cheap), then tokens
// as the pipeline will count them.
func (s *Server) checkPrompt(field, text string) error {
	lim := s.cfg.Limits.MaxPromptTokens
	if len(text) > 16*lim {
		return errorf(http.StatusUnprocessableEntity, "%s: %d bytes is longer than this server accepts (%d tokens)", field, len(text), lim)
	}
	tp, err := s.tokenizer.Tokenize(text, prompt.SyntaxA1111)
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "%s: %v", field, err)
	}
	if n := tp.Chunks() * 75; n > lim {
		return errorf(http.StatusUnprocessableEntity, "%s: %d chunks of 75 tokens is more than this server accepts (%d tokens)", field, tp.Chunks(), lim)
	}
	return nil
}

func (s *Server) checkInitImage(req *GenerationRequest, spec *Spec) error {
	if len(req.InitImages) == 0 {
		return errorf(http.StatusUnprocessableEntity, "init_images: img2img needs one image")
	}
	if len(req.InitImages) > 1 {
		return errorf(http.StatusUnprocessableEntity, "init_images: %d images given; this server uses one", len(req.InitImages))
	}
	data, err := decodeBase64Image(req.InitImages[0])
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "init_images[0]: %v", err)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "init_images[0]: not a readable PNG or JPEG image: %v", err)
	}
	lim := s.cfg.Limits.MaxSide
	if req.Mask != "" {
		// Inpainting works at the image's own size (the mask's too; with
		// inpaint_full_res, width × height is the masked region's size).
		if cfg.Width < 8 || cfg.Height < 8 || cfg.Width > lim || cfg.Height > lim || cfg.Width%8 != 0 || cfg.Height%8 != 0 {
			return errorf(http.StatusUnprocessableEntity, "init_images[0]: size %dx%d: for inpainting, width and height must be multiples of 8 from 8 to %d",
				cfg.Width, cfg.Height, lim)
		}
		spec.Width, spec.Height = cfg.Width, cfg.Height
	} else {
		// img2img makes width × height: an image of another size is
		// resized as resize_mode says (sdxl.ResizeImage), by the engine.
		if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > lim || cfg.Height > lim {
			return errorf(http.StatusUnprocessableEntity, "init_images[0]: size %dx%d: width and height must be from 1 to %d",
				cfg.Width, cfg.Height, lim)
		}
		if req.ResizeMode < 0 || req.ResizeMode > 2 {
			return errorf(http.StatusUnprocessableEntity, "resize_mode %d: must be 0 (just resize), 1 (crop and resize) or 2 (resize and fill); 3 (latent upscale) is not supported",
				req.ResizeMode)
		}
		spec.ResizeMode = req.ResizeMode
	}
	strength := 0.75
	if req.DenoisingStrength != nil {
		strength = *req.DenoisingStrength
	}
	// Its range and the steps it leaves are the pipeline's rules
	// (checkRequest).
	spec.InitImage, spec.Strength = data, strength
	return nil
}

// decodeBase64Image accepts raw base64 or a data: URL, as A1111 does.
// URLs are refused: the server fetches nothing on a client's behalf.
func decodeBase64Image(s string) ([]byte, error) {
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		return nil, errorf(http.StatusUnprocessableEntity, "image URLs are not fetched; send the image as base64")
	}
	if strings.HasPrefix(s, "data:") {
		_, after, ok := strings.Cut(s, ",")
		if !ok {
			return nil, errorf(http.StatusUnprocessableEntity, "data URL without a comma")
		}
		s = after
	}
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		// Some clients drop the padding.
		if d, err2 := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err2 == nil {
			return d, nil
		}
		return nil, errorf(http.StatusUnprocessableEntity, "not valid base64: %v", err)
	}
	return data, nil
}

func samplerDisplayList() string {
	var names []string
	for _, it := range samplerItems() {
		names = append(names, it.Name)
	}
	return strings.Join(names, ", ")
}

func scheduleLabelList() string {
	var names []string
	for _, it := range scheduleItems() {
		names = append(names, it.Label)
	}
	return strings.Join(names, ", ")
}
