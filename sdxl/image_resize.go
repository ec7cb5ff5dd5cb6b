package sdxl

import (
	"fmt"
	"image"
	"image/draw"

	"github.com/gosdxl/gosdxl/resample"
)

// ResizeMode is how an img2img start image of another size is brought to
// the output size: A1111's resize_mode (images.resize_image), every
// resampling Pillow's Lanczos (package resample).
type ResizeMode int

const (
	// ResizeJust stretches the image to the size ("Just resize").
	ResizeJust ResizeMode = 0
	// ResizeCrop scales it to cover the size, keeping its aspect, and cuts
	// the overflow evenly from both sides ("Crop and resize").
	ResizeCrop ResizeMode = 1
	// ResizeFill scales it to fit inside, keeping its aspect, centres it,
	// and fills the bands left over by stretching its edges ("Resize and
	// fill").
	ResizeFill ResizeMode = 2
)

func (m ResizeMode) String() string {
	switch m {
	case ResizeJust:
		return "just resize"
	case ResizeCrop:
		return "crop and resize"
	case ResizeFill:
		return "resize and fill"
	}
	return fmt.Sprintf("resize mode %d", int(m))
}

// ResizeImage brings img to w×h by mode, with A1111's integer geometry.
// Alpha is resampled like the colours; pixels no part of the image covers
// are opaque black, as on A1111's RGB canvas.
func ResizeImage(mode ResizeMode, img image.Image, w, h int) (*image.NRGBA, error) {
	if w < 1 || h < 1 {
		return nil, fmt.Errorf("resize to %dx%d: sides must be positive", w, h)
	}
	src := toNRGBA(img)
	iw, ih := src.Rect.Dx(), src.Rect.Dy()
	if mode == ResizeJust {
		return lanczos(src, w, h, [4]float64{0, 0, float64(iw), float64(ih)})
	}
	if mode != ResizeCrop && mode != ResizeFill {
		return nil, fmt.Errorf("%v: not one of 0 (just resize), 1 (crop and resize), 2 (resize and fill)", mode)
	}
	ratio, srcRatio := float64(w)/float64(h), float64(iw)/float64(ih)
	// The scaled image: crop covers the canvas, fill fits inside it.
	fitWidth := ratio > srcRatio // crop: the width decides
	if mode == ResizeFill {
		fitWidth = ratio < srcRatio
	}
	sw, sh := iw*h/ih, h
	if fitWidth {
		sw, sh = w, ih*w/iw
	}
	scaled, err := lanczos(src, sw, sh, [4]float64{0, 0, float64(iw), float64(ih)})
	if err != nil {
		return nil, err
	}
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Rect, image.Black, image.Point{}, draw.Src)
	paste := func(part *image.NRGBA, x, y int) {
		draw.Draw(out, part.Rect.Add(image.Pt(x, y)), part, image.Point{}, draw.Src)
	}
	paste(scaled, w/2-sw/2, h/2-sh/2)
	if mode == ResizeCrop {
		return out, nil
	}
	fs, fh := float64(sw), float64(sh)
	switch {
	case ratio < srcRatio: // bands above and below
		if band := h/2 - sh/2; band > 0 {
			top, err := lanczos(scaled, w, band, [4]float64{0, 0, fs, 0})
			if err != nil {
				return nil, err
			}
			bottom, err := lanczos(scaled, w, band, [4]float64{0, fh, fs, fh})
			if err != nil {
				return nil, err
			}
			paste(top, 0, 0)
			paste(bottom, 0, band+sh)
		}
	case ratio > srcRatio: // bands left and right
		if band := w/2 - sw/2; band > 0 {
			left, err := lanczos(scaled, band, h, [4]float64{0, 0, 0, fh})
			if err != nil {
				return nil, err
			}
			right, err := lanczos(scaled, band, h, [4]float64{fs, 0, fs, fh})
			if err != nil {
				return nil, err
			}
			paste(left, 0, 0)
			paste(right, band+sw, 0)
		}
	}
	return out, nil
}

// lanczos resamples the box of src to w×h (resample.ResizeBox8).
func lanczos(src *image.NRGBA, w, h int, box [4]float64) (*image.NRGBA, error) {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	pix := src.Pix
	if src.Stride != 4*sw || len(pix) != 4*sw*sh { // a sub-image: rows with gaps
		pix = make([]uint8, 0, 4*sw*sh)
		for y := range sh {
			pix = append(pix, src.Pix[y*src.Stride:y*src.Stride+4*sw]...)
		}
	}
	pix, err := resample.ResizeBox8(pix, 4, sw, sh, w, h, box)
	if err != nil {
		return nil, err
	}
	return &image.NRGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}, nil
}
