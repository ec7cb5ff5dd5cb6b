package sdxl

import (
	"fmt"
	"image"
	_ "image/jpeg" // init images may be JPEG as well as PNG
	_ "image/png"
	"math"
	"os"
)

// Pixels8 converts one decoded image, float32 [3, H, W] in [0, 1] (already
// clamped), to 8-bit RGB as diffusers does: round(x·255) with NumPy's round
// half to even, the product computed in float32.
func Pixels8(chw []float32, h, w int) *image.NRGBA {
	if len(chw) != 3*h*w {
		panic(fmt.Sprintf("sdxl: Pixels8 got %d values for 3x%dx%d", len(chw), h, w))
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	plane := h * w
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			o := img.PixOffset(x, y)
			for c := 0; c < 3; c++ {
				img.Pix[o+c] = to8(chw[c*plane+i])
			}
			img.Pix[o+3] = 255
		}
	}
	return img
}

func to8(v float32) uint8 {
	s := v * 255 // float32 product, as NumPy computes it on a float32 array
	r := math.RoundToEven(float64(s))
	switch {
	case r <= 0 || math.IsNaN(r):
		return 0
	case r >= 255:
		return 255
	}
	return uint8(r)
}

// ImageToSigned converts an image to float32 [3, H, W] in [-1, 1] the way
// the img2img pipeline feeds the VAE encoder: x/255·2 − 1 in float32.
// Alpha is ignored (the image is taken as RGB, like PIL's convert("RGB")
// for an opaque image).
func ImageToSigned(img image.Image) []float32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]float32, 3*h*w)
	plane := h * w
	rgba := toNRGBA(img)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := rgba.PixOffset(x, y)
			for c := 0; c < 3; c++ {
				v := float32(rgba.Pix[o+c]) / 255
				out[c*plane+y*w+x] = 2*v - 1
			}
		}
	}
	return out
}

// toNRGBA returns img as an *image.NRGBA with origin (0, 0), converting
// other colour models through the standard library.
func toNRGBA(img image.Image) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) {
		return n
	}
	b := img.Bounds()
	n := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			n.Set(x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return n
}

// LoadImage reads a PNG or JPEG file; errors name the file.
func LoadImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable PNG or JPEG image: %v", path, err)
	}
	return img, nil
}
