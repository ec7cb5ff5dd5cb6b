package sdxl

import (
	"image"
	"image/color"
	"math/rand/v2"
	"testing"

	"github.com/gosdxl/gosdxl/resample"
)

func noiseImage(w, h int, seed uint64) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	return img
}

// scaledBy is the image Lanczos-resized to w×h by resample directly.
func scaledBy(t *testing.T, img *image.NRGBA, w, h int) *image.NRGBA {
	t.Helper()
	pix, err := resample.Resize8(img.Pix, 4, img.Rect.Dx(), img.Rect.Dy(), w, h, resample.FilterLanczos)
	if err != nil {
		t.Fatal(err)
	}
	return &image.NRGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
}

func regionMatches(t *testing.T, what string, got *image.NRGBA, at image.Point, want *image.NRGBA, from image.Rectangle) {
	t.Helper()
	for y := from.Min.Y; y < from.Max.Y; y++ {
		for x := from.Min.X; x < from.Max.X; x++ {
			if g, w := got.NRGBAAt(at.X+x-from.Min.X, at.Y+y-from.Min.Y), want.NRGBAAt(x, y); g != w {
				t.Fatalf("%s: pixel (%d,%d) is %v, want %v", what, at.X+x-from.Min.X, at.Y+y-from.Min.Y, g, w)
			}
		}
	}
}

// TestResizeImageModes checks A1111's geometry for a 40×20 image on a 16×16
// canvas: "just" stretches; "crop" scales to 32×16 and keeps its middle
// 16 columns; "fill" scales to 16×8 at row 4, and rows 0–3 and 12–15 are
// each the same row, a stretch of the scaled image's edge.
func TestResizeImageModes(t *testing.T) {
	src := noiseImage(40, 20, 1)
	just, err := ResizeImage(ResizeJust, src, 16, 16)
	if err != nil {
		t.Fatal(err)
	}
	regionMatches(t, "just", just, image.Point{}, scaledBy(t, src, 16, 16), image.Rect(0, 0, 16, 16))

	crop, err := ResizeImage(ResizeCrop, src, 16, 16)
	if err != nil {
		t.Fatal(err)
	}
	regionMatches(t, "crop", crop, image.Point{}, scaledBy(t, src, 32, 16), image.Rect(8, 0, 24, 16))

	fill, err := ResizeImage(ResizeFill, src, 16, 16)
	if err != nil {
		t.Fatal(err)
	}
	scaled := scaledBy(t, src, 16, 8)
	regionMatches(t, "fill, the image", fill, image.Pt(0, 4), scaled, scaled.Rect)
	for _, band := range [][2]int{{0, 4}, {12, 16}} {
		for y := band[0] + 1; y < band[1]; y++ {
			regionMatches(t, "fill, a band's rows", fill, image.Pt(0, y), fill, image.Rect(0, band[0], 16, band[0]+1))
		}
	}
}

// TestResizeImageFillsTheCanvas: a flat image stays flat whatever the mode
// and aspect (no black gap, no seam), and a tall image fills left and right.
func TestResizeImageFillsTheCanvas(t *testing.T) {
	flat := image.NewNRGBA(image.Rect(0, 0, 24, 40))
	for i := range flat.Pix {
		flat.Pix[i] = []uint8{200, 100, 50, 255}[i%4]
	}
	for _, m := range []ResizeMode{ResizeJust, ResizeCrop, ResizeFill} {
		for _, sz := range [][2]int{{32, 16}, {16, 32}, {24, 40}, {8, 64}} {
			out, err := ResizeImage(m, flat, sz[0], sz[1])
			if err != nil {
				t.Fatal(err)
			}
			for y := range sz[1] {
				for x := range sz[0] {
					if c := out.NRGBAAt(x, y); c != (color.NRGBA{200, 100, 50, 255}) {
						t.Fatalf("%v to %v: pixel (%d,%d) is %v", m, sz, x, y, c)
					}
				}
			}
		}
	}
	if _, err := ResizeImage(ResizeMode(3), flat, 8, 8); err == nil {
		t.Error("resize mode 3 accepted")
	}
}
