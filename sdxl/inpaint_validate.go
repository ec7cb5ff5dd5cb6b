package sdxl

import (
	"fmt"
	"strings"
)

// validate is the one statement of inpainting's rules (Request.Validate
// calls it): an init image and a mask of its size, the options' ranges,
// and the sizes the pipeline will work at: the padded image (outpainting)
// and the "only masked" processing size. What the mask selects needs the
// decoded mask: the pipeline and callers that have it look (MaskCoverage).
// Its RequestErrors name the inpainting fields (see RequestError).
func (ip *Inpaint) validate(r *Request, l Limits) error {
	if r.InitImage == nil {
		return &RequestError{Field: "mask", Msg: "inpainting needs an init image"}
	}
	if ip.Mask == nil {
		return &RequestError{Field: "mask", Msg: "inpainting needs a mask"}
	}
	ib, mb := r.InitImage.Bounds(), ip.Mask.Bounds()
	if ib.Dx() != mb.Dx() || ib.Dy() != mb.Dy() {
		return &RequestError{Field: "mask", Value: fmt.Sprintf("%dx%d", mb.Dx(), mb.Dy()),
			With: "init_image", WithValue: fmt.Sprintf("%dx%d", ib.Dx(), ib.Dy()), Msg: "the sizes differ"}
	}
	switch {
	case ip.MaskBlur < 0:
		return fieldErr("mask_blur", ip.MaskBlur, "must not be negative")
	case ip.Padding < 0:
		return fieldErr("inpaint_padding", ip.Padding, "must not be negative")
	case ip.Content < ContentOriginal || int(ip.Content) >= len(MaskedContentNames):
		return fieldErr("masked_content", int(ip.Content), "unknown; valid: %s", strings.Join(MaskedContentNames, ", "))
	}
	for i, p := range ip.Pad {
		side := []string{"left", "top", "right", "bottom"}[i]
		switch {
		case p < 0 || p%8 != 0:
			return fieldErr("pad", ip.padText(), "%s must be a multiple of 8, at least 0", side)
		case p > MaxSide:
			return fieldErr("pad", ip.padText(), "%s must be at most %d pixels", side, MaxSide)
		}
	}
	w, h := ib.Dx()+ip.Pad[0]+ip.Pad[2], ib.Dy()+ip.Pad[1]+ip.Pad[3]
	if ip.Pad != [4]int{} {
		if p := sizeProblem(w, h, r.Batch, l); p != "" {
			return fieldErr("pad", ip.padText(), "makes the image %dx%d; %s", w, h, p)
		}
	}
	if ip.FullRes {
		// "Only masked" works at the request's width and height.
		if err := checkSize(r.Width, r.Height); err != nil {
			return err
		}
		return checkMemory(r.Width, r.Height, r.Batch, l)
	}
	return nil
}

// padText is Pad as gen's flag and the infotext write it: "L,T,R,B".
func (ip *Inpaint) padText() string {
	return fmt.Sprintf("%d,%d,%d,%d", ip.Pad[0], ip.Pad[1], ip.Pad[2], ip.Pad[3])
}
