package server

import (
	"bytes"
	"fmt"
	"image"

	"github.com/gosdxl/gosdxl/internal/infotext"
	"github.com/gosdxl/gosdxl/sdxl"
)

// HiresSpec is a txt2img job's hires fix (A1111's enable_hr and hr_*),
// read by checkHires and checked by checkRequest. Zero Steps, CFGScale, Sampler and Schedule mean
// the first pass's.
type HiresSpec struct {
	Scale    float64 `json:"scale"`
	Width    int     `json:"width,omitempty"` // A1111's hr_resize_x
	Height   int     `json:"height,omitempty"`
	Upscaler string  `json:"upscaler"` // A1111's name: "Latent", "Lanczos", ...
	Steps    int     `json:"steps,omitempty"`
	Denoise  float64 `json:"denoise"`
	CFGScale float64 `json:"cfg_scale,omitempty"`
	Sampler  string  `json:"sampler,omitempty"`
	Schedule string  `json:"schedule,omitempty"`
}

// InpaintSpec is an img2img job's mask and A1111's inpainting options,
// read by checkInpaint and checked by checkRequest.
type InpaintSpec struct {
	Mask     []byte             `json:"mask"` // encoded PNG or JPEG, the init image's size
	Invert   bool               `json:"invert,omitempty"`
	MaskBlur int                `json:"mask_blur,omitempty"`
	FullRes  bool               `json:"full_res,omitempty"` // "Only masked", at Width×Height
	Padding  int                `json:"padding,omitempty"`
	Content  sdxl.MaskedContent `json:"content"`
	Width    int                `json:"width,omitempty"`
	Height   int                `json:"height,omitempty"`
}

// maskName is the "Mask" value of the infotext: the mask came in the
// request, not from a file, and gen --from asks for it again by this name.
const maskName = "mask.png"

// hires is the pipeline's form of h.
func (h *HiresSpec) hires() (*sdxl.Hires, error) {
	if h == nil {
		return nil, nil
	}
	u, ok := sdxl.LookupHiresUpscaler(h.Upscaler)
	if !ok {
		return nil, fmt.Errorf("hires upscaler %q: unknown", h.Upscaler)
	}
	return &sdxl.Hires{Scale: h.Scale, Width: h.Width, Height: h.Height, Upscaler: u, Steps: h.Steps,
		Denoise: h.Denoise, CFGScale: h.CFGScale, Sampler: h.Sampler, Schedule: h.Schedule}, nil
}

// inpaint is the pipeline's form of ip; the mask is decoded (and
// inverted) only when decode is set, the infotext needs the rest only.
func (ip *InpaintSpec) inpaint(decode bool) (*sdxl.Inpaint, error) {
	if ip == nil {
		return nil, nil
	}
	out := &sdxl.Inpaint{MaskBlur: ip.MaskBlur, FullRes: ip.FullRes, Padding: ip.Padding, Content: ip.Content}
	if decode {
		mask, _, err := image.Decode(bytes.NewReader(ip.Mask))
		if err != nil {
			return nil, fmt.Errorf("mask: %v", err)
		}
		if ip.Invert {
			mask = sdxl.InvertMask(mask)
		}
		out.Mask = mask
	}
	return out, nil
}

// modeRequest adds spec's hires fix and inpainting to r, at the sizes the
// pipeline runs them.
func (spec *Spec) modeRequest(r *sdxl.Request, decodeMask bool) error {
	var err error
	if r.Hires, err = spec.Hires.hires(); err != nil {
		return err
	}
	if r.Inpaint, err = spec.Inpaint.inpaint(decodeMask); err != nil {
		return err
	}
	if ip := spec.Inpaint; ip != nil && ip.FullRes {
		r.Width, r.Height = ip.Width, ip.Height
	}
	return nil
}

// modeFields adds the infotext fields of spec's hires fix and inpainting,
// as gen writes them for the same request.
func (spec *Spec) modeFields(p *infotext.Parameters) {
	r := sdxl.Request{Width: spec.Width, Height: spec.Height, Sampler: spec.Sampler, Schedule: spec.Schedule, CFGScale: spec.CFGScale}
	if err := spec.modeRequest(&r, false); err != nil {
		return // checked when the job was made
	}
	p.AddModeFields(&r, maskName, false)
	if spec.Inpaint != nil && spec.Inpaint.Invert {
		p.Extra = append(p.Extra, infotext.Field{Key: "Mask mode", Value: "Inpaint not masked"})
	}
}
