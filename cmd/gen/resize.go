package main

import (
	"image"
	"image/draw"

	"github.com/gosdxl/gosdxl/resample"
)

// resizeLanczos resamples img to w×h with Pillow's Lanczos-3 filter
// (package resample), the method of A1111's img2img "Just resize". Alpha is
// resampled like the colours, so `--mask alpha` still finds it.
func resizeLanczos(img image.Image, w, h int) (*image.NRGBA, error) {
	b := img.Bounds()
	src := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(src, src.Rect, img, b.Min, draw.Src)
	pix, err := resample.Resize8(src.Pix, 4, b.Dx(), b.Dy(), w, h, resample.FilterLanczos)
	if err != nil {
		return nil, err
	}
	return &image.NRGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}, nil
}
