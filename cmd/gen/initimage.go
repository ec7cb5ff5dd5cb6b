package main

import (
	"fmt"
	"image"
	"io"
	"os"

	"github.com/gosdxl/gosdxl/sdxl"
)

// readInitImageSize reads the --init-image's header only (image.DecodeConfig)
// and bounds its size before anything decodes it: a small file may declare
// a huge image. It settles the output size: --width and --height when
// given (the image is resized to them, as A1111's "Just resize"), otherwise
// the image's own size rounded down to multiples of 8 (resized, with a
// warning, when that changes it).
func (o *options) readInitImageSize(warn io.Writer) error {
	if err := checkReadable(o.initImage, false); err != nil {
		return usagef("%s: %v", o.flagName("init-image"), err)
	}
	f, err := os.Open(o.initImage)
	if err != nil {
		return usagef("%s: %v", o.flagName("init-image"), err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return usagef("%s %s: not a readable PNG or JPEG image: %v", o.flagName("init-image"), o.initImage, err)
	}
	w, h := cfg.Width, cfg.Height
	if w < 1 || h < 1 || w > sdxl.MaxSide || h > sdxl.MaxSide || int64(w)*int64(h) > sdxl.MaxPixels {
		return usagef("%s %s: the image is %dx%d; at most %d pixels a side and %.1f megapixels",
			o.flagName("init-image"), o.initImage, w, h, sdxl.MaxSide, sdxl.MaxPixels/1e6)
	}
	o.initWidth, o.initHeight = w, h
	// Inpainting keeps the image's size: --width and --height are then
	// the "only masked" processing size.
	inpaint := o.hires.mask != "" || o.hires.pad != ""
	if !o.set["width"] || inpaint {
		o.width = max(8, w/8*8)
	}
	if !o.set["height"] || inpaint {
		o.height = max(8, h/8*8)
	}
	if (o.width != w || o.height != h) && (inpaint || !o.set["width"] && !o.set["height"]) {
		fmt.Fprintf(warn, "gen: warning: %s is %dx%d; resizing it to %dx%d (sides must be multiples of 8)\n",
			o.initImage, w, h, o.width, o.height)
	}
	return nil
}

// loadInitImage decodes the --init-image and resizes it to the output size
// settled by readInitImageSize.
func (o *options) loadInitImage() (image.Image, error) {
	img, err := sdxl.LoadImage(o.initImage)
	if err != nil {
		return nil, usagef("%s: %v", o.flagName("init-image"), err)
	}
	b := img.Bounds()
	if b.Dx() == o.width && b.Dy() == o.height {
		return img, nil
	}
	out, err := resizeLanczos(img, o.width, o.height)
	if err != nil {
		return nil, usagef("%s: resizing to %dx%d: %v", o.flagName("init-image"), o.width, o.height, err)
	}
	return out, nil
}
