package resample

import (
	"fmt"
	"math"
)

// Filter is a PIL resampling filter.
type Filter int

const (
	FilterNearest Filter = iota // PIL Image.NEAREST
	FilterLanczos               // PIL Image.LANCZOS (Lanczos-3)
)

// Resize8 resizes an interleaved 8-bit image (channels values per pixel,
// row-major) from w×h to outW×outH as PIL's Image.resize does for an "RGB"
// or "L" image (libImaging/Resample.c and Geometry.c):
//
//   - FilterLanczos: the kernel sinc(x)·sinc(x/3) on |x| < 3, stretched by
//     the downscale factor in/out when it is above 1 (so shrinking averages
//     over in/out pixels and does not alias), centred at (o+½)·in/out,
//     normalised, then rounded to 22-bit fixed point; the width is
//     resampled first into an 8-bit intermediate, then the height; each
//     sum is rounded half up and clamped to 0…255.
//   - FilterNearest: the input pixel at floor((o+½)·in/out).
func Resize8(pix []uint8, channels, w, h, outW, outH int, f Filter) ([]uint8, error) {
	switch {
	case channels < 1 || w < 1 || h < 1 || outW < 1 || outH < 1:
		return nil, fmt.Errorf("resample: image sizes %dx%d → %dx%d must be positive", w, h, outW, outH)
	case len(pix) != channels*w*h:
		return nil, fmt.Errorf("resample: %d bytes for a %dx%d image of %d channels", len(pix), w, h, channels)
	}
	if w == outW && h == outH {
		return append([]uint8(nil), pix...), nil
	}
	if f == FilterNearest {
		return nearest8(pix, channels, w, h, outW, outH), nil
	}
	if f != FilterLanczos {
		return nil, fmt.Errorf("resample: unknown filter %d", f)
	}
	return lanczosBox8(pix, channels, w, h, outW, outH, [4]float64{0, 0, float64(w), float64(h)}), nil
}

// ResizeBox8 is Resize8 with Lanczos of the region box = (x0, y0, x1, y1)
// of the image, as PIL's Image.resize(size, LANCZOS, box) computes it:
// output pixel o of an axis is centred at x0 + (o+½)·(x1−x0)/out, and its
// taps may reach past the box up to the image's edges. A box of zero width
// or height is an edge stretched: every output column (row) is the same
// Lanczos mix of the three input columns (rows) nearest that edge (A1111's
// "Resize and fill" pads an image this way).
func ResizeBox8(pix []uint8, channels, w, h, outW, outH int, box [4]float64) ([]uint8, error) {
	switch {
	case channels < 1 || w < 1 || h < 1 || outW < 1 || outH < 1:
		return nil, fmt.Errorf("resample: image sizes %dx%d → %dx%d must be positive", w, h, outW, outH)
	case len(pix) != channels*w*h:
		return nil, fmt.Errorf("resample: %d bytes for a %dx%d image of %d channels", len(pix), w, h, channels)
	case !(0 <= box[0] && box[0] <= box[2] && box[2] <= float64(w) && 0 <= box[1] && box[1] <= box[3] && box[3] <= float64(h)):
		return nil, fmt.Errorf("resample: box %v is not inside the %dx%d image", box, w, h)
	}
	return lanczosBox8(pix, channels, w, h, outW, outH, box), nil
}

// lanczosBox8 resamples the width, then the height, each only when PIL
// would: when the size changes or the box does not span that axis.
func lanczosBox8(pix []uint8, channels, w, h, outW, outH int, box [4]float64) []uint8 {
	cur, cw := pix, w
	if outW != w || box[0] != 0 || box[2] != float64(w) {
		k := pilCoefficients(w, box[0], box[2], outW)
		next := make([]uint8, channels*outW*h)
		for y := 0; y < h; y++ {
			for x := 0; x < outW; x++ {
				for c := 0; c < channels; c++ {
					ss := int32(1 << (pilPrecision - 1))
					for j, kj := range k.w[x] {
						ss += int32(cur[(y*cw+k.lo[x]+j)*channels+c]) * kj
					}
					next[(y*outW+x)*channels+c] = clip8(ss)
				}
			}
		}
		cur, cw = next, outW
	}
	if outH != h || box[1] != 0 || box[3] != float64(h) {
		k := pilCoefficients(h, box[1], box[3], outH)
		next := make([]uint8, channels*cw*outH)
		for y := 0; y < outH; y++ {
			for x := 0; x < cw; x++ {
				for c := 0; c < channels; c++ {
					ss := int32(1 << (pilPrecision - 1))
					for j, kj := range k.w[y] {
						ss += int32(cur[((k.lo[y]+j)*cw+x)*channels+c]) * kj
					}
					next[(y*cw+x)*channels+c] = clip8(ss)
				}
			}
		}
		cur = next
	}
	return cur
}

// pilPrecision is PIL's PRECISION_BITS for 8-bit images (32 − 8 − 2).
const pilPrecision = 22

func clip8(ss int32) uint8 {
	v := ss >> pilPrecision
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return uint8(v)
}

// fixedCoefficients are one axis's taps: output o reads inputs lo[o]… with
// fixed-point weights w[o].
type fixedCoefficients struct {
	lo []int
	w  [][]int32
}

// pilCoefficients is PIL's precompute_coeffs followed by
// normalize_coeffs_8bpc for the Lanczos filter, for the span [in0, in1) of
// an axis of in pixels resampled to out.
func pilCoefficients(in int, in0, in1 float64, out int) fixedCoefficients {
	scale := (in1 - in0) / float64(out)
	filterScale := max(scale, 1)
	support := lanczosSupport * filterScale
	c := fixedCoefficients{lo: make([]int, out), w: make([][]int32, out)}
	for o := 0; o < out; o++ {
		center := in0 + (float64(o)+0.5)*scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), in)
		k := make([]float64, hi-lo)
		var total float64
		for j := range k {
			k[j] = lanczos((float64(j+lo) - center + 0.5) / filterScale)
			total += k[j]
		}
		fixed := make([]int32, len(k))
		for j, v := range k {
			if total != 0 {
				v /= total
			}
			if v < 0 {
				fixed[j] = int32(-0.5 + v*(1<<pilPrecision))
			} else {
				fixed[j] = int32(0.5 + v*(1<<pilPrecision))
			}
		}
		c.lo[o], c.w[o] = lo, fixed
	}
	return c
}

const lanczosSupport = 3

func lanczos(x float64) float64 {
	if -lanczosSupport <= x && x < lanczosSupport {
		return sinc(x) * sinc(x/lanczosSupport)
	}
	return 0
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}

// nearest8 is PIL's nearest resize: an affine transform sampling each
// output pixel's centre, source index floor((o+½)·in/out).
func nearest8(pix []uint8, channels, w, h, outW, outH int) []uint8 {
	out := make([]uint8, channels*outW*outH)
	sx, sy := float64(w)/float64(outW), float64(h)/float64(outH)
	for y := 0; y < outH; y++ {
		iy := min(int((float64(y)+0.5)*sy), h-1)
		for x := 0; x < outW; x++ {
			ix := min(int((float64(x)+0.5)*sx), w-1)
			copy(out[(y*outW+x)*channels:(y*outW+x+1)*channels], pix[(iy*w+ix)*channels:])
		}
	}
	return out
}
