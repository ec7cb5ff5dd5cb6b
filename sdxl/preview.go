package sdxl

import (
	"image"
	"image/color"

	"github.com/gosdxl/gosdxl/sampler"
)

// Live previews: while a run samples, a client can be shown what the
// latents are becoming without a VAE decode. previewFactors is a linear map
// from SDXL's four latent channels (in the scaled space the sampler works
// in) to RGB in [-1, 1]: A1111's "Approx cheap" live preview for SDXL, a
// least-squares fit of the VAE's output colour to its input latents. The
// preview has the latents' resolution (1/8 of the image's sides).
var previewFactors = [4][3]float32{
	{0.3448, 0.4168, 0.4395},
	{-0.1953, -0.0290, 0.0250},
	{0.1074, 0.0886, -0.0163},
	{-0.3730, -0.2499, -0.2088},
}

// LatentPreview maps the first image of latents [B, 4, h, w] (NCHW, at
// least one image) to a w×h RGB preview: each pixel's RGB is
// previewFactors applied to its four channels, then (v+1)/2 clamped to
// [0, 1] and scaled to 8 bits, rounding down as A1111 does.
func LatentPreview(latents []float32, h, w int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	plane := h * w
	for y := range h {
		for x := range w {
			var rgb [3]float32
			for c := range 4 {
				v := latents[c*plane+y*w+x]
				for k := range 3 {
					rgb[k] += v * previewFactors[c][k]
				}
			}
			var px [3]uint8
			for k, v := range rgb {
				px[k] = uint8(255 * clamp01(v*0.5+0.5))
			}
			img.SetRGBA(x, y, color.RGBA{R: px[0], G: px[1], B: px[2], A: 255})
		}
	}
	return img
}

// previewer wraps a pass's denoiser for Request.OnPreview: it keeps the
// first image of the latest prediction of the clean latents (x0, A1111's
// default "Prediction" preview content) and, after every r.PreviewEvery-th
// step, hands its preview to r.OnPreview. Without OnPreview it is inert.
type previewer struct {
	r     *Request
	shape latentShape
	x0    []float32 // the first image's latest prediction
}

// wrap returns den, recording its predictions when previews are asked for.
func (p *previewer) wrap(den sampler.Denoiser) sampler.Denoiser {
	if p.r.OnPreview == nil || p.r.PreviewEvery <= 0 {
		return den
	}
	first := p.shape.c * p.shape.h * p.shape.w
	return func(x []float32, sigma, t float64) ([]float32, error) {
		x0, err := den(x, sigma, t)
		if err == nil && len(x0) >= first {
			p.x0 = append(p.x0[:0], x0[:first]...)
		}
		return x0, err
	}
}

// stepDone shows the preview after step (1-based) of total when it is due.
func (p *previewer) stepDone(step, total int) {
	if p.r.OnPreview == nil || p.r.PreviewEvery <= 0 || p.x0 == nil || step%p.r.PreviewEvery != 0 {
		return
	}
	p.r.OnPreview(step, total, LatentPreview(p.x0, p.shape.h, p.shape.w))
}
