package resample

import "math"

// GaussianBlur8 blurs a one-channel 8-bit image as A1111 blurs an
// inpainting mask: cv2.GaussianBlur along x with σ = sigmaX and a kernel of
// 2·int(2.5σ+0.5)+1 taps, rounded to 8 bits, then the same along y with
// sigmaY (a σ of 0 skips that axis). The kernel is OpenCV's
// getGaussianKernel, exp(−d²/2σ²) normalised; edges reflect without
// repeating the edge pixel (BORDER_REFLECT_101). Sums are computed in
// float64 and rounded half up, where OpenCV uses 16-bit fixed point: a
// result may differ from OpenCV's by one level.
func GaussianBlur8(pix []uint8, w, h int, sigmaX, sigmaY float64) []uint8 {
	out := append([]uint8(nil), pix...)
	if sigmaX > 0 {
		k := gaussianKernel(sigmaX)
		out = blurAxis(out, w, h, k, 1, w)
	}
	if sigmaY > 0 {
		k := gaussianKernel(sigmaY)
		out = blurAxis(out, w, h, k, w, h)
	}
	return out
}

func gaussianKernel(sigma float64) []float64 {
	n := 2*int(2.5*sigma+0.5) + 1
	k := make([]float64, n)
	var total float64
	for i := range k {
		d := float64(i - n/2)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		total += k[i]
	}
	for i := range k {
		k[i] /= total
	}
	return k
}

// blurAxis convolves along the axis with the given stride and length.
func blurAxis(pix []uint8, w, h int, k []float64, stride, length int) []uint8 {
	out := make([]uint8, len(pix))
	r := len(k) / 2
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			pos := x
			if stride != 1 {
				pos = y
			}
			base := i - pos*stride
			var s float64
			for j, kj := range k {
				s += kj * float64(pix[base+reflect101(pos+j-r, length)*stride])
			}
			out[i] = uint8(min(math.Floor(s+0.5), 255))
		}
	}
	return out
}

// reflect101 maps an index outside 0…n−1 back inside: …2 1 | 0 1 2 … n−1 | n−2….
func reflect101(i, n int) int {
	if n == 1 {
		return 0
	}
	for i < 0 || i >= n {
		if i < 0 {
			i = -i
		}
		if i >= n {
			i = 2*(n-1) - i
		}
	}
	return i
}
