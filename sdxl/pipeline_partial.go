package sdxl

import (
	"context"
	"errors"

	"github.com/gosdxl/gosdxl/sampler"
)

// Partial results: A1111 answers an interrupt (and a skip) with what the
// sampler had reached, its last prediction of the clean latents, decoded
// like a finished run's latents. Request.KeepPartial asks for the same.

// stoppedEarly is the error of a sampling pass that Request.KeepPartial
// kept after Context stopped it: the pass's latents are its last
// prediction of the clean latents.
type stoppedEarly struct{ cause error }

func (e *stoppedEarly) Error() string { return "stopped early: " + e.cause.Error() }
func (e *stoppedEarly) Unwrap() error { return e.cause }

// stopCause splits a pass's error: the cause of a kept early stop (the
// pass's latents are usable), or any other error.
func stopCause(err error) (stopped, other error) {
	var s *stoppedEarly
	if errors.As(err, &s) {
		return s.cause, nil
	}
	return nil, err
}

// lastPrediction wraps a pass's denoiser to keep a copy of the whole
// batch's latest x0 when the request keeps partial results.
type lastPrediction struct {
	r  *Request
	x0 []float32
}

func (l *lastPrediction) wrap(den sampler.Denoiser) sampler.Denoiser {
	if !l.r.KeepPartial {
		return den
	}
	return func(x []float32, sigma, t float64) ([]float32, error) {
		x0, err := den(x, sigma, t)
		if err == nil {
			l.x0 = append(l.x0[:0], x0...)
		}
		return x0, err
	}
}

// finish turns a pass that the request's Context stopped into its last
// prediction and a stoppedEarly error, when partial results are kept and a
// step completed; any other outcome passes through.
func (l *lastPrediction) finish(latents []float32, err error) ([]float32, error) {
	ctx := l.r.Context
	if err == nil || !l.r.KeepPartial || l.x0 == nil || ctx == nil || ctx.Err() == nil {
		return latents, err
	}
	cause := context.Cause(ctx)
	if !errors.Is(err, cause) {
		return latents, err
	}
	return l.x0, &stoppedEarly{cause: cause}
}
