package resample

import (
	"fmt"
	"math"
)

// Mode is a torch.nn.functional.interpolate mode.
type Mode int

const (
	Nearest      Mode = iota // torch "nearest": src = floor(dst·in/out)
	NearestExact             // torch "nearest-exact": src = floor((dst+0.5)·in/out)
	Bilinear                 // torch "bilinear", align_corners=False
	Bicubic                  // torch "bicubic", align_corners=False, A = −0.75
)

func (m Mode) String() string {
	switch m {
	case Nearest:
		return "nearest"
	case NearestExact:
		return "nearest-exact"
	case Bilinear:
		return "bilinear"
	case Bicubic:
		return "bicubic"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// taps are the input indices and weights that make one output sample
// along one axis.
type taps struct {
	idx []int
	w   []float32
}

// Interpolate resizes planes float32 [planes, inH, inW] (NCHW with N·C
// planes) to [planes, outH, outW] with torch's semantics for float32
// tensors on the CPU: coordinates and weights are computed in float32 as
// torch does, and the width is resampled before the height.
// Antialias applies to Bilinear and Bicubic only, as in torch.
func Interpolate(src []float32, planes, inH, inW, outH, outW int, mode Mode, antialias bool) ([]float32, error) {
	switch {
	case planes < 1 || inH < 1 || inW < 1 || outH < 1 || outW < 1:
		return nil, fmt.Errorf("resample: sizes %dx%dx%d → %dx%d must be positive", planes, inH, inW, outH, outW)
	case len(src) != planes*inH*inW:
		return nil, fmt.Errorf("resample: %d values for %d planes of %dx%d", len(src), planes, inH, inW)
	case antialias && mode != Bilinear && mode != Bicubic:
		return nil, fmt.Errorf("resample: antialias applies to bilinear and bicubic only, not %v", mode)
	}
	if inH == outH && inW == outW {
		return append([]float32(nil), src...), nil
	}
	tx := axisTaps(inW, outW, mode, antialias)
	ty := axisTaps(inH, outH, mode, antialias)
	// Width first, then height: torch's separable order.
	tmp := make([]float32, planes*inH*outW)
	for p := 0; p < planes*inH; p++ {
		row := src[p*inW : (p+1)*inW]
		out := tmp[p*outW : (p+1)*outW]
		for o, t := range tx {
			out[o] = dot(row, 1, t)
		}
	}
	dst := make([]float32, planes*outH*outW)
	for p := 0; p < planes; p++ {
		plane := tmp[p*inH*outW : (p+1)*inH*outW]
		out := dst[p*outH*outW : (p+1)*outH*outW]
		for o, t := range ty {
			for x := 0; x < outW; x++ {
				out[o*outW+x] = dot(plane[x:], outW, t)
			}
		}
	}
	return dst, nil
}

// dot sums v[idx·stride]·w over the taps in float32.
func dot(v []float32, stride int, t taps) float32 {
	var s float32
	for k, i := range t.idx {
		s += float32(v[i*stride] * t.w[k])
	}
	return s
}

// axisTaps computes one axis's taps as torch's upsample kernels do
// (UpSampleKernel.cpp): the scale in/out and every source coordinate in
// float32.
func axisTaps(in, out int, mode Mode, antialias bool) []taps {
	scale := float32(in) / float32(out)
	t := make([]taps, out)
	if antialias {
		size, filter := 2, linearFilter
		if mode == Bicubic {
			size, filter = 4, keysFilter
		}
		for o := range t {
			t[o] = aaTaps(in, o, scale, size, filter)
		}
		return t
	}
	for o := range t {
		switch mode {
		case Nearest:
			// area_pixel_compute_source_index with align_corners=true: scale·o.
			i := int(math.Floor(float64(float32(scale * float32(o)))))
			t[o] = taps{[]int{min(i, in-1)}, []float32{1}}
		case NearestExact:
			src := float32(float32(scale*(float32(o)+0.5)) - 0.5)
			i := int(math.Floor(float64(float32(src + 0.5))))
			t[o] = taps{[]int{min(i, in-1)}, []float32{1}}
		case Bilinear:
			src := max(float32(float32(scale*(float32(o)+0.5))-0.5), 0)
			i0 := int(src) // src ≥ 0: truncation is floor
			i1 := i0
			if i0 < in-1 {
				i1++
			}
			l1 := src - float32(i0)
			t[o] = taps{[]int{i0, i1}, []float32{1 - l1, l1}}
		case Bicubic:
			src := float32(float32(scale*(float32(o)+0.5)) - 0.5)
			i := min(int(math.Floor(float64(src))), in-1)
			l := min(max(src-float32(i), 0), 1)
			w := cubicCoefficients(l)
			idx := make([]int, 4)
			for k := range idx {
				idx[k] = min(max(i-1+k, 0), in-1)
			}
			t[o] = taps{idx, w[:]}
		}
	}
	return t
}

// cubicA is torch's (and OpenCV's) bicubic constant without antialiasing.
const cubicA = -0.75

// cubicCoefficients are torch's get_cubic_upsample_coefficients for the
// fraction t of the source coordinate, in float32.
func cubicCoefficients(t float32) [4]float32 {
	const a = float32(cubicA)
	c1 := func(x float32) float32 { return float32(float32(float32((a+2)*x)-(a+3))*x*x) + 1 }
	c2 := func(x float32) float32 {
		return float32(float32(float32(float32(float32(a*x)-5*a)*x)+8*a)*x) - 4*a
	}
	return [4]float32{c2(t + 1), c1(t), c1(1 - t), c2(2 - t)}
}

// aaTaps are torch's _compute_index_ranges_weights (the PIL filter
// scheme): the filter is stretched by the downscale factor, centred at
// scale·(o+0.5), cut to the input, and its weights normalised.
func aaTaps(in, o int, scale float32, size int, filter func(float32) float32) taps {
	support := float32(size) * 0.5
	invScale := float32(1)
	if scale >= 1 {
		support = float32(float32(size)*0.5) * scale
		invScale = 1 / scale
	}
	center := float32(scale * (float32(o) + 0.5))
	lo := max(int(center-support+0.5), 0)
	hi := min(int(center+support+0.5), in)
	t := taps{}
	var total float32
	for j := lo; j < hi; j++ {
		w := filter(float32(float32(float32(j)-center+0.5) * invScale))
		t.idx = append(t.idx, j)
		t.w = append(t.w, w)
		total += w
	}
	if total != 0 {
		for k := range t.w {
			t.w[k] /= total
		}
	}
	return t
}

func linearFilter(x float32) float32 {
	x = float32(math.Abs(float64(x)))
	if x < 1 {
		return 1 - x
	}
	return 0
}

// keysFilter is the antialiased bicubic filter, A = −0.5 (R. Keys; PIL's
// value, which torch uses when antialias=True).
func keysFilter(x float32) float32 {
	const a = float32(-0.5)
	x = float32(math.Abs(float64(x)))
	switch {
	case x < 1:
		return float32(float32(float32((a+2)*x)-(a+3))*x*x) + 1
	case x < 2:
		return float32(float32(float32(float32(float32(a*x)-5*a)*x)+8*a)*x) - 4*a
	}
	return 0
}
