package main

import (
	"image"
	"image/draw"
	"math"
)

// resizeLanczos resamples img to w×h with a Lanczos-3 filter, one axis at
// a time, the filter widened by the scale when shrinking so that it also
// low-passes (the method of A1111's img2img "Just resize", which uses
// Pillow's LANCZOS).
func resizeLanczos(img image.Image, w, h int) *image.NRGBA {
	b := img.Bounds()
	src := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(src, src.Rect, img, b.Min, draw.Src)
	sw, sh := b.Dx(), b.Dy()
	// Horizontal pass into float rows, then vertical into 8-bit pixels.
	tmp := make([]float32, sh*w*4)
	wx := lanczosWeights(sw, w)
	for y := 0; y < sh; y++ {
		row := src.Pix[y*src.Stride:]
		for x, tw := range wx {
			var acc [4]float32
			for k, wt := range tw.w {
				p := row[(tw.first+k)*4:]
				for c := 0; c < 4; c++ {
					acc[c] += wt * float32(p[c])
				}
			}
			copy(tmp[(y*w+x)*4:], acc[:])
		}
	}
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	wy := lanczosWeights(sh, h)
	for y, tw := range wy {
		for x := 0; x < w; x++ {
			var acc [4]float32
			for k, wt := range tw.w {
				p := tmp[((tw.first+k)*w+x)*4:]
				for c := 0; c < 4; c++ {
					acc[c] += wt * p[c]
				}
			}
			for c := 0; c < 4; c++ {
				dst.Pix[y*dst.Stride+x*4+c] = uint8(math.Round(float64(min(255, max(0, acc[c])))))
			}
		}
	}
	return dst
}

// tapWeights are the normalised filter weights of one output sample over
// the source samples first, first+1, ….
type tapWeights struct {
	first int
	w     []float32
}

func lanczosWeights(in, out int) []tapWeights {
	const a = 3.0
	scale := float64(in) / float64(out)
	support := a * max(1, scale)
	filterScale := max(1, scale)
	taps := make([]tapWeights, out)
	for i := range taps {
		center := (float64(i) + 0.5) * scale
		lo := max(0, int(math.Floor(center-support)))
		hi := min(in, int(math.Ceil(center+support)))
		var ws []float32
		sum := 0.0
		for j := lo; j < hi; j++ {
			v := lanczos((float64(j)+0.5-center)/filterScale, a)
			ws = append(ws, float32(v))
			sum += v
		}
		if sum != 0 {
			for k := range ws {
				ws[k] = float32(float64(ws[k]) / sum)
			}
		}
		taps[i] = tapWeights{first: lo, w: ws}
	}
	return taps
}

func lanczos(x, a float64) float64 {
	if x == 0 {
		return 1
	}
	if x <= -a || x >= a {
		return 0
	}
	px := math.Pi * x
	return a * math.Sin(px) * math.Sin(px/a) / (px * px)
}
