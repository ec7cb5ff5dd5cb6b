package sdxl

import (
	"fmt"
	"math"

	"github.com/gosdxl/gosdxl/resample"
	"github.com/gosdxl/gosdxl/sampler"
)

// Hires is A1111's "hires fix": after the first pass, the latents are
// upscaled (in latent space, or decoded, resized as pixels and encoded
// again) and refined by an img2img pass at the larger size.
type Hires struct {
	// Scale multiplies the first pass's size (A1111's "Upscale by"); used
	// when Width and Height are both 0. Width or Height ("Resize width/
	// height to") give the size instead; one of them 0 keeps the aspect.
	Scale         float64
	Width, Height int
	Upscaler      HiresUpscaler
	// Steps run in the second pass; 0 = the first pass's Steps.
	Steps int
	// Denoise is A1111's "Denoising strength" of the second pass, in (0, 1].
	Denoise float64
	// CFGScale, Sampler and Schedule of the second pass; zero values mean
	// the first pass's (A1111's "Hires CFG Scale", "Hires sampler", "Hires
	// schedule type").
	CFGScale float64
	Sampler  string
	Schedule string
}

// HiresUpscaler is one of A1111's hires upscalers.
type HiresUpscaler struct {
	Name      string        // our flag name: latent, latent-bicubic, lanczos, ...
	A1111     string        // A1111's name, written to the PNG: "Latent", "Lanczos", ...
	Latent    bool          // upscale the latents (true) or the decoded pixels
	Mode      resample.Mode // latent modes: torch interpolate mode
	Antialias bool
	Filter    resample.Filter // pixel modes: PIL filter
	// Direct: no upscaler, one Lanczos resize to the target (A1111's
	// "None": resize_image skips the upscaler chain).
	Direct bool
}

// HiresUpscalers lists the upscalers, A1111's shared.latent_upscale_modes
// ("Latent" is bilinear there, not nearest) and its two built-in pixel
// upscalers.
var HiresUpscalers = []HiresUpscaler{
	{Name: "latent", A1111: "Latent", Latent: true, Mode: resample.Bilinear},
	{Name: "latent-antialiased", A1111: "Latent (antialiased)", Latent: true, Mode: resample.Bilinear, Antialias: true},
	{Name: "latent-bicubic", A1111: "Latent (bicubic)", Latent: true, Mode: resample.Bicubic},
	{Name: "latent-bicubic-antialiased", A1111: "Latent (bicubic antialiased)", Latent: true, Mode: resample.Bicubic, Antialias: true},
	{Name: "latent-nearest", A1111: "Latent (nearest)", Latent: true, Mode: resample.Nearest},
	{Name: "latent-nearest-exact", A1111: "Latent (nearest-exact)", Latent: true, Mode: resample.NearestExact},
	{Name: "lanczos", A1111: "Lanczos", Filter: resample.FilterLanczos},
	{Name: "nearest", A1111: "Nearest", Filter: resample.FilterNearest},
	{Name: "none", A1111: "None", Filter: resample.FilterLanczos, Direct: true},
}

// LookupHiresUpscaler finds an upscaler by our name or A1111's.
func LookupHiresUpscaler(name string) (HiresUpscaler, bool) {
	for _, u := range HiresUpscalers {
		if u.Name == name || u.A1111 == name {
			return u, true
		}
	}
	return HiresUpscaler{}, false
}

// HiresSize is A1111's calculate_target_resolution: the size the first
// pass is upscaled to, and the size kept after cropping (they differ when
// Width and Height both change the aspect ratio: A1111 upscales to cover
// and crops the latents evenly). Its errors are RequestErrors naming the
// field the size came from (hires_scale, hires_width, hires_height).
func HiresSize(h *Hires, width, height int) (upW, upH, outW, outH int, err error) {
	switch {
	case h.Width < 0:
		return 0, 0, 0, 0, fieldErr("hires_width", h.Width, "must not be negative")
	case h.Height < 0:
		return 0, 0, 0, 0, fieldErr("hires_height", h.Height, "must not be negative")
	case h.Width > MaxSide:
		return 0, 0, 0, 0, fieldErr("hires_width", h.Width, "at most %d pixels", MaxSide)
	case h.Height > MaxSide:
		return 0, 0, 0, 0, fieldErr("hires_height", h.Height, "at most %d pixels", MaxSide)
	case h.Width == 0 && h.Height == 0:
		if !(h.Scale >= 1) {
			return 0, 0, 0, 0, fieldErr("hires_scale", h.Scale, "must be at least 1")
		}
		// Bounded before the conversion to int, which a huge scale
		// would overflow.
		if float64(max(width, height))*h.Scale > MaxSide {
			return 0, 0, 0, 0, h.sizeErr("makes the hires size %.0fx%.0f from %dx%d; at most %d pixels a side",
				float64(width)*h.Scale, float64(height)*h.Scale, width, height, MaxSide)
		}
		upW, upH = int(float64(width)*h.Scale), int(float64(height)*h.Scale)
		outW, outH = upW, upH
	case h.Height == 0:
		upW, upH = h.Width, h.Width*height/width
		outW, outH = upW, upH
	case h.Width == 0:
		upW, upH = h.Height*width/height, h.Height
		outW, outH = upW, upH
	default:
		outW, outH = h.Width, h.Height
		if float64(width)/float64(height) < float64(h.Width)/float64(h.Height) {
			upW, upH = h.Width, h.Width*height/width
		} else {
			upW, upH = h.Height*width/height, h.Height
		}
	}
	if upW%8 != 0 || upH%8 != 0 || outW%8 != 0 || outH%8 != 0 {
		return 0, 0, 0, 0, h.sizeErr("makes the hires size %dx%d from %dx%d; width and height must be multiples of 8", upW, upH, width, height)
	}
	if upW < width || upH < height {
		return 0, 0, 0, 0, h.sizeErr("makes the hires size %dx%d, smaller than the first pass's %dx%d", upW, upH, width, height)
	}
	return upW, upH, outW, outH, nil
}

// sizeErr is a problem of the hires size, naming the fields it came from:
// the scale, or the width and/or height asked for.
func (h *Hires) sizeErr(format string, args ...any) error {
	switch {
	case h.Width == 0 && h.Height == 0:
		return fieldErr("hires_scale", h.Scale, format, args...)
	case h.Height == 0:
		return fieldErr("hires_width", h.Width, format, args...)
	case h.Width == 0:
		return fieldErr("hires_height", h.Height, format, args...)
	}
	return &RequestError{Field: "hires_width", Value: fmt.Sprint(h.Width), With: "hires_height", WithValue: fmt.Sprint(h.Height),
		Msg: fmt.Sprintf(format, args...)}
}

// hiresSchedule builds the second pass's schedule. A1111's rule
// (sd_samplers_common.setup_img2img_steps with explicit steps, which the
// hires pass always passes): a schedule of int(steps / min(denoise, 0.999))
// steps of which the last `steps` run, so the second pass makes exactly
// the steps asked for (A1111 reads "Hires steps" that way, and a PNG's
// value then means the same UNet calls here). Under CompatDiffusers the
// img2img pipeline's strength rule applies instead: a schedule of `steps`
// of which the last int(steps·denoise) run.
func hiresSchedule(r *Request, info *sampler.Info, steps int) (*sampler.Schedule, error) {
	h := r.Hires
	if r.Compat == CompatDiffusers {
		full, err := info.Schedule(h.Schedule, steps)
		if err != nil {
			return nil, err
		}
		return full.Img2Img(h.Denoise)
	}
	total := int(float64(steps) / min(h.Denoise, 0.999))
	full, err := info.Schedule(h.Schedule, total)
	if err != nil {
		return nil, err
	}
	return full.Tail(steps)
}

// hiresRequest is the second pass's request: the first pass's with the
// hires sampler, schedule, steps and CFG.
func hiresRequest(r *Request) Request {
	hr := *r
	h := *r.Hires
	if h.Steps == 0 {
		h.Steps = r.Steps
	}
	if h.Sampler == "" {
		h.Sampler = r.Sampler
	}
	if h.Schedule == "" { // A1111: hr_scheduler defaults to the first pass's
		h.Schedule = r.Schedule
	}
	if h.CFGScale == 0 {
		h.CFGScale = r.CFGScale
	}
	hr.Hires = &h
	hr.Steps, hr.Sampler, hr.Schedule, hr.CFGScale = h.Steps, h.Sampler, h.Schedule, h.CFGScale
	return hr
}

// hiresPass upscales the first pass's final latents and refines them. The
// noise comes from fresh generators seeded as the first pass's (A1111
// makes a new ImageRNG from the same seeds), drawn at the upscaled latent
// size; ancestral samplers continue from those generators.
func (m *Model) hiresPass(r *Request, latents []float32, s latentShape) ([]float32, latentShape, error) {
	hr := hiresRequest(r)
	f := m.vae.Factor()
	upW, upH, outW, outH, err := HiresSize(hr.Hires, s.w*f, s.h*f)
	if err != nil {
		return nil, s, err
	}
	up, err := m.hiresUpscale(&hr, latents, s, upW, upH)
	if err != nil {
		return nil, s, err
	}
	us := latentShape{b: s.b, c: s.c, h: upH / f, w: upW / f}
	up, us = cropLatents(up, us, (upH-outH)/f, (upW-outW)/f)

	info, err := sampler.Lookup(hr.Sampler)
	if err != nil {
		return nil, s, err
	}
	sched, err := hiresSchedule(&hr, info, hr.Steps)
	if err != nil {
		return nil, s, err
	}
	hr.logf("hires: %dx%d → %dx%d with %s, %d steps at denoising strength %v",
		s.w*f, s.h*f, us.w*f, us.h*f, hr.Hires.Upscaler.A1111, sched.Steps(), hr.Hires.Denoise)
	// A1111 encodes the hires prompts at the upscaled (uncropped) size.
	cond, err := m.conditioning(&hr, upW, upH)
	if err != nil {
		return nil, s, err
	}
	_, randn, err := noiseSource(hr)
	if err != nil {
		return nil, s, err
	}
	noise := randn(us.size())
	r.observe("hires", "upscaled", us.dims(), up)
	r.observe("hires", "noise", us.dims(), noise)
	x, err := sched.Img2ImgStart(up, noise)
	if err != nil {
		return nil, s, err
	}
	out, err := m.sampleLatents(&hr, info, sched, x, cond, us, randn, nil, nil, "hires")
	if stopped, _ := stopCause(err); err != nil && stopped == nil {
		return nil, s, err
	}
	return out, us, err // err: a kept early stop, out its last prediction
}

// hiresUpscale resizes latents [B,4,h,w] to the latents of an upW×upH
// image: torch's interpolate for the latent upscalers; for the pixel ones,
// A1111's way: decode, clamp, convert to 8 bits by truncation, resize
// (images.resize_image), and encode again, taking the posterior's mean
// (A1111 samples it from torch's global generator, which no seed
// reproduces).
func (m *Model) hiresUpscale(r *Request, latents []float32, s latentShape, upW, upH int) ([]float32, error) {
	u := r.Hires.Upscaler
	f := m.vae.Factor()
	if u.Latent {
		return resample.Interpolate(latents, s.b*s.c, s.h, s.w, upH/f, upW/f, u.Mode, u.Antialias)
	}
	decoded, err := m.decodeLatents(r, latents, s)
	if err != nil {
		return nil, err
	}
	w, h := s.w*f, s.h*f
	per := 3 * h * w
	var out []float32
	for i := 0; i < s.b; i++ {
		rgb := make([]uint8, per)
		img := decoded[i*per : (i+1)*per]
		for c := 0; c < 3; c++ {
			for j := 0; j < h*w; j++ {
				// 255·clamp((x+1)/2) then astype(uint8): truncation.
				rgb[j*3+c] = uint8(255 * clamp01((img[c*h*w+j]+1)/2))
			}
		}
		var big []uint8
		var err error
		if u.Direct {
			big, err = resample.Resize8(rgb, 3, w, h, upW, upH, resample.FilterLanczos)
		} else {
			big, err = UpscaleA1111(rgb, w, h, upW, upH, u.Filter)
		}
		if err != nil {
			return nil, err
		}
		signed := make([]float32, 3*upW*upH)
		for c := 0; c < 3; c++ {
			for j := 0; j < upW*upH; j++ {
				signed[c*upW*upH+j] = 2*(float32(big[j*3+c])/255) - 1
			}
		}
		mean, _, err := m.encodeImage(r, signed, upH, upW)
		if err != nil {
			return nil, err
		}
		for j := range mean {
			mean[j] *= VAEScale
		}
		out = append(out, mean...)
	}
	return out, nil
}

// UpscaleA1111 is A1111's images.resize_image(0, …) with a built-in
// upscaler, on 8-bit RGB: the upscaler resizes by scale = max(tw/w, th/h)
// (to int(w·scale)×int(h·scale), at most three times while still smaller
// than the upscaler's destination (size·scale rounded down to a multiple
// of 8)), then Lanczos resizes whatever differs from the target.
func UpscaleA1111(rgb []uint8, w, h, tw, th int, filter resample.Filter) ([]uint8, error) {
	scale := max(float64(tw)/float64(w), float64(th)/float64(h))
	var err error
	if scale > 1 {
		destW, destH := int(math.Floor(float64(w)*scale/8)*8), int(math.Floor(float64(h)*scale/8)*8)
		for i := 0; i < 3 && (w < destW || h < destH); i++ {
			nw, nh := int(float64(w)*scale), int(float64(h)*scale)
			if nw == w && nh == h {
				break
			}
			if rgb, err = resample.Resize8(rgb, 3, w, h, nw, nh, filter); err != nil {
				return nil, err
			}
			w, h = nw, nh
		}
		if w != destW || h != destH {
			if rgb, err = resample.Resize8(rgb, 3, w, h, destW, destH, resample.FilterLanczos); err != nil {
				return nil, err
			}
			w, h = destW, destH
		}
	}
	if w != tw || h != th {
		return resample.Resize8(rgb, 3, w, h, tw, th, resample.FilterLanczos)
	}
	return rgb, nil
}

// cropLatents drops dy rows and dx columns, half from each side (the
// first half rounded down), as A1111 truncates hires latents.
func cropLatents(x []float32, s latentShape, dy, dx int) ([]float32, latentShape) {
	if dy == 0 && dx == 0 {
		return x, s
	}
	out := latentShape{b: s.b, c: s.c, h: s.h - dy, w: s.w - dx}
	data := make([]float32, 0, out.size())
	for p := 0; p < s.b*s.c; p++ {
		for y := dy / 2; y < dy/2+out.h; y++ {
			row := (p*s.h + y) * s.w
			data = append(data, x[row+dx/2:row+dx/2+out.w]...)
		}
	}
	return data, out
}
