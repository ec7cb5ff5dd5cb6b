package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

var errTimeout = errors.New("request timeout")

// handleGenerate is POST /sdapi/v1/txt2img and /img2img.
func (s *Server) handleGenerate(img2img bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req := newRequest(img2img)
		unknown, err := decodeJSON(r, s.cfg.Limits.MaxBodyBytes, &req)
		if err != nil {
			writeError(w, err)
			return
		}
		if len(unknown) > 0 {
			s.log.Debug("ignoring unknown fields", "path", r.URL.Path, "fields", fieldList(unknown))
		}
		if ignored := ignoredSettings(&req); len(ignored) > 0 {
			s.log.Debug("ignoring settings this server does not use", "path", r.URL.Path, "fields", fieldList(ignored))
		}
		spec, err := s.toSpec(&req, img2img)
		if err != nil {
			writeError(w, err)
			return
		}
		spec.ID = newJobID()
		ctx := r.Context() // done when the client goes away
		if s.cfg.Timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeoutCause(ctx, s.cfg.Timeout, errTimeout)
			defer cancel()
		}
		j, err := s.q.submit(ctx, spec)
		if err != nil {
			writeError(w, err)
			return
		}
		res := <-j.done
		if res.err != nil {
			s.answerFailure(w, r, spec, res.err)
			return
		}
		if s.cfg.OutputsDir != "" {
			if err := saveOutputs(s.cfg.OutputsDir, res.out); err != nil {
				s.log.Error("saving to --outputs", "err", err)
			}
		}
		writeJSON(w, http.StatusOK, s.response(&req, spec, res.out, img2img))
	}
}

func (s *Server) answerFailure(w http.ResponseWriter, r *http.Request, spec *Spec, err error) {
	switch {
	case errors.Is(err, errTimeout):
		writeError(w, errorf(http.StatusGatewayTimeout, "the request took longer than the server's limit (--timeout %v)", s.cfg.Timeout))
	case r.Context().Err() != nil:
		// The client is gone: nobody reads this.
		s.log.Info("client went away; job stopped", "job", spec.ID)
		writeError(w, errorf(499, "client closed the request"))
	case errors.Is(err, ErrShuttingDown):
		writeError(w, &httpError{status: http.StatusServiceUnavailable, detail: err.Error(), retryAfter: 10})
	default:
		var he *httpError
		if errors.As(err, &he) {
			writeError(w, he)
			return
		}
		s.log.Error("generation failed", "job", spec.ID, "err", err)
		writeError(w, errorf(http.StatusInternalServerError, "generation failed: %v", err))
	}
}

// response is A1111's answer: base64 PNGs, the request as processed, and
// the info JSON.
func (s *Server) response(req *GenerationRequest, spec *Spec, out *Output, img2img bool) *GenerationResponse {
	images := []string{}
	if req.SendImages {
		for _, png := range out.Images {
			images = append(images, base64.StdEncoding.EncodeToString(png))
		}
	}
	params := *req // as sent, seed -1 included, as A1111 echoes it; info has the seeds used
	if img2img && !req.IncludeInitImages {
		params.InitImages, params.Mask = nil, ""
	}
	n := len(out.Seeds)
	info := generationInfo{
		Prompt: spec.Prompt, NegativePrompt: spec.Negative,
		AllPrompts: repeat(spec.Prompt, n), AllNegativePrompts: repeat(spec.Negative, n),
		Seed: spec.Seed, AllSeeds: out.Seeds, Subseed: req.Subseed, AllSubseeds: make([]int64, n),
		SubseedStrength: req.SubseedStrength,
		Width:           out.Width, Height: out.Height,
		SamplerName: displaySampler(spec.Sampler), CFGScale: spec.CFGScale, Steps: spec.Steps,
		BatchSize: spec.BatchSize, SDModelName: out.ModelName, SDModelHash: out.ModelHash,
		SeedResizeFromW: req.SeedResizeFromW, SeedResizeFromH: req.SeedResizeFromH,
		ExtraGenerationParams: map[string]any{}, Infotexts: out.Infotexts, Styles: req.Styles,
		JobTimestamp: time.Now().Format("20060102150405"), ClipSkip: 1, Version: "gosdxl",
	}
	if info.AllSeeds == nil {
		info.AllSeeds, info.Infotexts = []uint64{}, []string{}
	}
	if info.Styles == nil {
		info.Styles = []string{}
	}
	for i := range info.AllSubseeds {
		info.AllSubseeds[i] = req.Subseed
	}
	if img2img {
		info.DenoisingStrength = &spec.Strength
	}
	if spec.Hires != nil {
		info.DenoisingStrength = &spec.Hires.Denoise
	}
	b, _ := json.Marshal(info)
	return &GenerationResponse{Images: images, Parameters: &params, Info: string(b)}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func newJobID() string {
	return fmt.Sprintf("task(%d-%s)", time.Now().UnixNano(), randomHex(4))
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
