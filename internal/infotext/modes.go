package infotext

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gosdxl/gosdxl/sampler"
	"github.com/gosdxl/gosdxl/sdxl"
)

// Our own infotext fields for inpainting and the tiled VAE, beside A1111's.
const (
	FieldMask      = "Mask"         // the mask's file name, "alpha", or "none"
	FieldPad       = "Outpaint pad" // L,T,R,B
	FieldVAETiling = "VAE tile size"
)

// AddModeFields adds the infotext fields of r's hires fix and inpainting,
// A1111's in A1111's order and ours, as gen and gen serve write them.
// Size stays the first pass's for a hires fix, as A1111 writes; for
// "Only masked" it is the processing size. maskName is the "Mask" value;
// padGiven says that outpainting padding was asked for (even all zero).
func (p *Parameters) AddModeFields(r *sdxl.Request, maskName string, padGiven bool) {
	if h := r.Hires; h != nil {
		p.Width, p.Height = r.Width, r.Height
		p.DenoisingStrength = h.Denoise
		if h.Sampler != "" && h.Sampler != r.Sampler {
			info, _ := sampler.Lookup(h.Sampler)
			p.Extra = append(p.Extra, Field{Key: "Hires sampler", Value: info.DisplayName})
		}
		if h.Schedule != "" && h.Schedule != r.Schedule {
			s, _ := sampler.ScheduleDisplayName(h.Schedule)
			p.Extra = append(p.Extra, Field{Key: "Hires schedule type", Value: s},
				Field{Key: "Hires schedule name", Value: h.Schedule})
		}
		if h.CFGScale != 0 && h.CFGScale != r.CFGScale {
			p.Extra = append(p.Extra, Field{Key: "Hires CFG Scale", Value: strconv.FormatFloat(h.CFGScale, 'f', -1, 64)})
		}
		if h.Width == 0 && h.Height == 0 {
			p.Extra = append(p.Extra, Field{Key: "Hires upscale", Value: strconv.FormatFloat(h.Scale, 'f', -1, 64)})
		} else {
			p.Extra = append(p.Extra, Field{Key: "Hires resize", Value: fmt.Sprintf("%dx%d", h.Width, h.Height)})
		}
		if h.Steps != 0 {
			p.Extra = append(p.Extra, Field{Key: "Hires steps", Value: strconv.Itoa(h.Steps)})
		}
		p.Extra = append(p.Extra, Field{Key: "Hires upscaler", Value: h.Upscaler.A1111})
	}
	if ip := r.Inpaint; ip != nil {
		if ip.MaskBlur > 0 {
			p.Extra = append(p.Extra, Field{Key: "Mask blur", Value: strconv.Itoa(ip.MaskBlur)})
		}
		if ip.FullRes {
			p.Width, p.Height = r.Width, r.Height // A1111's Size is the processing size
			p.Extra = append(p.Extra, Field{Key: "Inpaint area", Value: "Only masked"},
				Field{Key: "Masked area padding", Value: strconv.Itoa(ip.Padding)})
		}
		if ip.Content != sdxl.ContentOriginal {
			p.Extra = append(p.Extra, Field{Key: "Masked content", Value: ip.Content.String()})
		}
		p.Extra = append(p.Extra, Field{Key: FieldMask, Value: maskName})
		if padGiven {
			p.Extra = append(p.Extra, Field{Key: FieldPad, Value: strings.Trim(strings.Join(strings.Fields(fmt.Sprint(ip.Pad)), ","), "[]")})
		}
	}
	if r.VAETileUsed != nil && *r.VAETileUsed > 0 {
		p.Extra = append(p.Extra, Field{Key: FieldVAETiling, Value: strconv.Itoa(*r.VAETileUsed)})
	}
}
