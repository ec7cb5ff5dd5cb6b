package sdxl

import (
	"image"
	"math"

	"github.com/gosdxl/gosdxl/resample"
)

// gray8 is a one-channel 8-bit image (masks), row-major.
type gray8 struct {
	pix  []uint8
	w, h int
}

// rgb8 is an interleaved 8-bit RGB image.
type rgb8 struct {
	pix  []uint8
	w, h int
}

// binaryMask is A1111's create_binary_mask: a mask with any transparency
// is its alpha channel, otherwise its PIL "L" luminance; either is then
// thresholded, 255 above 128 and 0 otherwise. White means repaint.
func binaryMask(img image.Image) gray8 {
	n := toNRGBA(img)
	w, h := n.Rect.Dx(), n.Rect.Dy()
	useAlpha := false
	for i := 3; i < len(n.Pix); i += 4 {
		if n.Pix[i] != 255 {
			useAlpha = true
			break
		}
	}
	m := gray8{make([]uint8, w*h), w, h}
	for i := range m.pix {
		p := n.Pix[4*i : 4*i+4]
		v := p[3]
		if !useAlpha {
			// PIL's ITU-R 601-2 luma: (R·19595 + G·38470 + B·7471 + 2¹⁵) >> 16.
			v = uint8((uint32(p[0])*19595 + uint32(p[1])*38470 + uint32(p[2])*7471 + 1<<15) >> 16)
		}
		if v > 128 {
			m.pix[i] = 255
		}
	}
	return m
}

// TransparencyMask is the mask of an init image's transparent pixels
// (alpha ≤ 128 repaints), for images whose alpha channel marks the area to
// fill; nil when the image is fully opaque.
func TransparencyMask(img image.Image) image.Image {
	n := toNRGBA(img)
	g := image.NewGray(n.Rect)
	found := false
	for i := 0; i < len(n.Pix)/4; i++ {
		if n.Pix[4*i+3] <= 128 {
			g.Pix[i] = 255
			found = true
		}
	}
	if !found {
		return nil
	}
	return g
}

func (m gray8) count() (set int) {
	for _, v := range m.pix {
		if v != 0 {
			set++
		}
	}
	return set
}

func rgbOf(img image.Image) rgb8 {
	n := toNRGBA(img)
	w, h := n.Rect.Dx(), n.Rect.Dy()
	out := rgb8{make([]uint8, 3*w*h), w, h}
	for i := 0; i < w*h; i++ {
		copy(out.pix[3*i:3*i+3], n.Pix[4*i:4*i+3])
	}
	return out
}

func (p rgb8) nrgba() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, p.w, p.h))
	for i := 0; i < p.w*p.h; i++ {
		copy(img.Pix[4*i:4*i+3], p.pix[3*i:3*i+3])
		img.Pix[4*i+3] = 255
	}
	return img
}

// padImage extends an image by l, t, r, b pixels, repeating its edge
// pixels outward, and its mask with 255 (repaint) there: outpainting.
func padImage(img rgb8, mask gray8, l, t, r, b int) (rgb8, gray8) {
	w, h := img.w+l+r, img.h+t+b
	oi := rgb8{make([]uint8, 3*w*h), w, h}
	om := gray8{make([]uint8, w*h), w, h}
	for y := 0; y < h; y++ {
		sy := min(max(y-t, 0), img.h-1)
		for x := 0; x < w; x++ {
			sx := min(max(x-l, 0), img.w-1)
			copy(oi.pix[3*(y*w+x):3*(y*w+x)+3], img.pix[3*(sy*img.w+sx):])
			if y-t == sy && x-l == sx {
				om.pix[y*w+x] = mask.pix[sy*img.w+sx]
			} else {
				om.pix[y*w+x] = 255
			}
		}
	}
	return oi, om
}

// cropRegion is A1111's get_crop_region_v2 followed by expand_crop_region:
// the mask's bounding box grown by pad pixels and clamped to the image,
// then grown along one axis (centred, shifted back inside the image) to
// the processing size's aspect ratio. ok is false for an empty mask.
func cropRegion(m gray8, pad, procW, procH int) (x1, y1, x2, y2 int, ok bool) {
	x1, y1, x2, y2 = m.w, m.h, -1, -1
	for y := 0; y < m.h; y++ {
		for x := 0; x < m.w; x++ {
			if m.pix[y*m.w+x] != 0 {
				x1, y1, x2, y2 = min(x1, x), min(y1, y), max(x2, x), max(y2, y)
			}
		}
	}
	if x2 < 0 {
		return 0, 0, 0, 0, false
	}
	x1, y1 = max(x1-pad, 0), max(y1-pad, 0)
	x2, y2 = min(x2+1+pad, m.w), min(y2+1+pad, m.h)

	grow := func(a1, a2, want, limit int) (int, int) {
		diff := want - (a2 - a1)
		a1 -= diff / 2
		a2 += diff - diff/2
		if a2 >= limit {
			a1 -= a2 - limit
			a2 = limit
		}
		if a1 < 0 {
			a2 -= a1
			a1 = 0
		}
		return a1, min(a2, limit)
	}
	ratioCrop := float64(x2-x1) / float64(y2-y1)
	ratioProc := float64(procW) / float64(procH)
	if ratioCrop > ratioProc {
		y1, y2 = grow(y1, y2, int(float64(x2-x1)/ratioProc), m.h)
	} else {
		x1, x2 = grow(x1, x2, int(float64(y2-y1)*ratioProc), m.w)
	}
	return x1, y1, x2, y2, true
}

func (p rgb8) crop(x1, y1, x2, y2 int) rgb8 {
	out := rgb8{make([]uint8, 0, 3*(x2-x1)*(y2-y1)), x2 - x1, y2 - y1}
	for y := y1; y < y2; y++ {
		out.pix = append(out.pix, p.pix[3*(y*p.w+x1):3*(y*p.w+x2)]...)
	}
	return out
}

func (m gray8) crop(x1, y1, x2, y2 int) gray8 {
	out := gray8{make([]uint8, 0, (x2-x1)*(y2-y1)), x2 - x1, y2 - y1}
	for y := y1; y < y2; y++ {
		out.pix = append(out.pix, m.pix[y*m.w+x1:y*m.w+x2]...)
	}
	return out
}

func (p rgb8) resize(w, h int) (rgb8, error) {
	pix, err := resample.Resize8(p.pix, 3, p.w, p.h, w, h, resample.FilterLanczos)
	return rgb8{pix, w, h}, err
}

func (m gray8) resize(w, h int) (gray8, error) {
	pix, err := resample.Resize8(m.pix, 1, m.w, m.h, w, h, resample.FilterLanczos)
	return gray8{pix, w, h}, err
}

// fillMasked is A1111's masking.fill ("Masked content: fill"): the
// unmasked pixels, as a premultiplied image with alpha 255 − mask, are
// blurred with radii 256, 64, 16, 4, 2, 0 (repeated 1, 1, 2, 4, 2, 1
// times) and each blur is composited over the previous ones, so the masked
// area takes the colours around it and the unmasked pixels end as they
// were. PIL's GaussianBlur is three box blurs of the radius its paper
// gives; this computes them in float64 without PIL's 8-bit rounding
// between passes, so masked pixels may differ from A1111's by a level or so.
func fillMasked(img rgb8, mask gray8) rgb8 {
	n := img.w * img.h
	// Premultiplied RGBa in [0, 1].
	base := make([]float64, 4*n)
	for i := 0; i < n; i++ {
		a := float64(255-mask.pix[i]) / 255
		for c := 0; c < 3; c++ {
			base[4*i+c] = float64(img.pix[3*i+c]) / 255 * a
		}
		base[4*i+3] = a
	}
	acc := make([]float64, 4*n) // composited so far, premultiplied
	for _, step := range []struct{ radius, repeats int }{{256, 1}, {64, 1}, {16, 2}, {4, 4}, {2, 2}, {0, 1}} {
		layer := base
		if step.radius > 0 {
			layer = boxGaussian(base, img.w, img.h, float64(step.radius))
		}
		for r := 0; r < step.repeats; r++ {
			for i := 0; i < n; i++ {
				a := layer[4*i+3]
				for c := 0; c < 4; c++ {
					acc[4*i+c] = layer[4*i+c] + acc[4*i+c]*(1-a)
				}
			}
		}
	}
	out := rgb8{make([]uint8, 3*n), img.w, img.h}
	for i := 0; i < n; i++ {
		a := acc[4*i+3]
		for c := 0; c < 3; c++ {
			v := 0.0
			if a > 0 {
				v = acc[4*i+c] / a
			}
			out.pix[3*i+c] = uint8(math.Min(math.Floor(v*255+0.5), 255))
		}
	}
	return out
}

// boxGaussian approximates a Gaussian of standard deviation radius with
// three box blurs (PIL's _gaussian_blur_radius: an extended box of
// fractional radius), edges extended.
func boxGaussian(src []float64, w, h int, radius float64) []float64 {
	const passes = 3
	s2 := radius * radius / passes
	L := math.Sqrt(12*s2 + 1)
	l := math.Floor((L - 1) / 2)
	a := (2*l + 1) * (l*(l+1) - 3*s2) / (6 * (s2 - (l+1)*(l+1)))
	box := l + a
	out := append([]float64(nil), src...)
	for p := 0; p < passes; p++ {
		out = boxAxis(out, w, h, box, true)
	}
	for p := 0; p < passes; p++ {
		out = boxAxis(out, w, h, box, false)
	}
	return out
}

// boxAxis averages 4-channel pixels over a box of fractional radius r
// along rows (horizontal) or columns: whole pixels within int(r), the two
// next ones weighted by the fraction.
func boxAxis(src []float64, w, h int, r float64, horizontal bool) []float64 {
	n, m := w, h // along, across
	if !horizontal {
		n, m = h, w
	}
	ri := int(r)
	frac := r - float64(ri)
	norm := 1 / (2*r + 1)
	out := make([]float64, len(src))
	at := func(line, i int) int {
		i = min(max(i, 0), n-1)
		if horizontal {
			return 4 * (line*w + i)
		}
		return 4 * (i*w + line)
	}
	for line := 0; line < m; line++ {
		for c := 0; c < 4; c++ {
			var sum float64
			for k := -ri; k <= ri; k++ {
				sum += src[at(line, k)+c]
			}
			for i := 0; i < n; i++ {
				out[at(line, i)+c] = (sum + frac*(src[at(line, i-ri-1)+c]+src[at(line, i+ri+1)+c])) * norm
				sum += src[at(line, i+ri+1)+c] - src[at(line, i-ri)+c]
			}
		}
	}
	return out
}

// composite is A1111's overlay of the original over the result: where the
// overlay mask m is 0 the original pixel is kept exactly, where it is 255
// the generated one, and in between round((orig·(255−m) + gen·m)/255).
func composite(orig, gen rgb8, m gray8) rgb8 {
	out := rgb8{make([]uint8, len(orig.pix)), orig.w, orig.h}
	for i := 0; i < orig.w*orig.h; i++ {
		a := int(m.pix[i])
		for c := 0; c < 3; c++ {
			o, g := int(orig.pix[3*i+c]), int(gen.pix[3*i+c])
			out.pix[3*i+c] = uint8((o*(255-a) + g*a + 127) / 255)
		}
	}
	return out
}

// paste returns base with img placed at x, y.
func (p rgb8) paste(img rgb8, x, y int) rgb8 {
	out := rgb8{append([]uint8(nil), p.pix...), p.w, p.h}
	for r := 0; r < img.h; r++ {
		copy(out.pix[3*((y+r)*p.w+x):], img.pix[3*r*img.w:3*(r+1)*img.w])
	}
	return out
}

// MaskCoverage counts the pixels a mask selects for repainting (A1111's
// binary mask rule, as Inpaint.Mask is read) and all its pixels.
func MaskCoverage(mask image.Image) (selected, total int) {
	m := binaryMask(mask)
	return m.count(), len(m.pix)
}
