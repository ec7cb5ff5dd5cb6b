package main

import (
	"image"
	"image/color"
	"testing"
)

// A flat image stays flat at any size (the weights are normalised), and a
// same-size resize of a smooth gradient changes nothing.
func TestResizeLanczos(t *testing.T) {
	flat := image.NewNRGBA(image.Rect(0, 0, 13, 7))
	for y := 0; y < 7; y++ {
		for x := 0; x < 13; x++ {
			flat.SetNRGBA(x, y, color.NRGBA{200, 100, 50, 255})
		}
	}
	for _, sz := range [][2]int{{8, 8}, {40, 16}, {16, 8}} {
		out, err := resizeLanczos(flat, sz[0], sz[1])
		if err != nil {
			t.Fatal(err)
		}
		if out.Bounds().Dx() != sz[0] || out.Bounds().Dy() != sz[1] {
			t.Fatalf("size %v, want %v", out.Bounds(), sz)
		}
		for i := 0; i < len(out.Pix); i += 4 {
			if c := out.Pix[i : i+4]; c[0] != 200 || c[1] != 100 || c[2] != 50 || c[3] != 255 {
				t.Fatalf("%v: pixel %d is %v", sz, i/4, c)
			}
		}
	}
	grad := image.NewNRGBA(image.Rect(0, 0, 16, 8))
	for y := 0; y < 8; y++ {
		for x := 0; x < 16; x++ {
			grad.SetNRGBA(x, y, color.NRGBA{uint8(x * 16), uint8(y * 32), 7, 255})
		}
	}
	same, err := resizeLanczos(grad, 16, 8)
	if err != nil {
		t.Fatal(err)
	}
	for i := range same.Pix {
		if same.Pix[i] != grad.Pix[i] {
			t.Fatalf("same-size resize changed byte %d: %d → %d", i, grad.Pix[i], same.Pix[i])
		}
	}
}
