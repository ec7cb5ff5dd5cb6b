package main

import (
	"image"

	"github.com/gosdxl/gosdxl/sdxl"
)

// resizeLanczos resamples img to w×h with Pillow's Lanczos-3 filter, the
// method of A1111's img2img "Just resize" (sdxl.ResizeImage). Alpha is
// resampled like the colours, so `--mask alpha` still finds it.
func resizeLanczos(img image.Image, w, h int) (*image.NRGBA, error) {
	return sdxl.ResizeImage(sdxl.ResizeJust, img, w, h)
}
