package resample

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refInterpolate is an independent float64 statement of
// torch.nn.functional.interpolate(align_corners=False): for each output
// pixel, the two-dimensional sum of input pixels times the product of the
// continuous kernel evaluated at each axis's distance. The source
// coordinates (scale·(o+½)−½ and the like) are rounded to float32 as torch
// computes them for float32 tensors: at o ≈ 50 their rounding moves a
// bilinear weight by ~4e-6, and the floor of a coordinate that lands on an
// integer depends on it.
func refInterpolate(src []float32, planes, inH, inW, outH, outW int, mode Mode, aa bool) []float64 {
	wy := refAxis(inH, outH, mode, aa)
	wx := refAxis(inW, outW, mode, aa)
	out := make([]float64, planes*outH*outW)
	for p := 0; p < planes; p++ {
		for oy := 0; oy < outH; oy++ {
			for ox := 0; ox < outW; ox++ {
				var s float64
				for iy, a := range wy[oy] {
					for ix, b := range wx[ox] {
						if a != 0 && b != 0 {
							s += a * b * float64(src[(p*inH+iy)*inW+ix])
						}
					}
				}
				out[(p*outH+oy)*outW+ox] = s
			}
		}
	}
	return out
}

// refAxis returns, per output index, a weight for every input index.
func refAxis(in, out int, mode Mode, aa bool) [][]float64 {
	scale := float64(in) / float64(out)
	s32 := float32(in) / float32(out)
	f32 := func(x float32) float64 { return float64(x) }
	w := make([][]float64, out)
	for o := range w {
		row := make([]float64, in)
		w[o] = row
		switch {
		case aa:
			// The kernel stretched by the downscale factor (never shrunk),
			// centred on the output pixel's centre, renormalised over the
			// input pixels it reaches.
			stretch := max(scale, 1)
			radius := 1.0
			k := func(x float64) float64 { return math.Max(0, 1-math.Abs(x)) }
			if mode == Bicubic {
				radius, k = 2, func(x float64) float64 { return keys64(x, -0.5) }
			}
			center := f32(s32 * (float32(o) + 0.5))
			var total float64
			for i := range row {
				// Pixels whose centre is within the support, PIL's bounds.
				if float64(i)+0.5 > center-radius*stretch-0.5 && float64(i)+0.5 < center+radius*stretch+0.5 {
					if int(center-radius*stretch+0.5) <= i && i < int(center+radius*stretch+0.5) {
						row[i] = k((float64(i) + 0.5 - center) / stretch)
						total += row[i]
					}
				}
			}
			for i := range row {
				row[i] /= total
			}
		case mode == Nearest:
			row[min(int(math.Floor(f32(s32*float32(o)))), in-1)] = 1
		case mode == NearestExact:
			row[min(int(math.Floor(f32(s32*(float32(o)+0.5)))), in-1)] = 1
		case mode == Bilinear:
			src := math.Max(f32(s32*(float32(o)+0.5)-0.5), 0)
			for i := range row {
				row[i] = math.Max(0, 1-math.Abs(src-float64(i)))
			}
			if src > float64(in-1) { // past the last centre: the last pixel
				clear(row)
				row[in-1] = 1
			}
		case mode == Bicubic:
			// Taps at floor(src)−1 … floor(src)+2, indices clamped to the edge.
			src := f32(s32*(float32(o)+0.5) - 0.5)
			f := math.Floor(src)
			for k := -1; k <= 2; k++ {
				i := min(max(int(f)+k, 0), in-1)
				row[i] += keys64(src-(f+float64(k)), cubicA)
			}
		}
	}
	return w
}

func keys64(x, a float64) float64 {
	x = math.Abs(x)
	switch {
	case x < 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return ((a*x-5*a)*x+8*a)*x - 4*a
	}
	return 0
}

func TestInterpolateMatchesFloat64Reference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := [][4]int{
		{5, 7, 10, 14}, // ×2
		{5, 7, 7, 10},  // ×1.4..
		{13, 9, 20, 13},
		{16, 12, 8, 6},       // ÷2
		{15, 11, 7, 4},       // odd downscale
		{6, 6, 6, 9},         // one axis only
		{104, 152, 156, 228}, // an 832×1216 latent ×1.5, scaled down 8×
	}
	type variant struct {
		mode Mode
		aa   bool
	}
	variants := []variant{{Nearest, false}, {NearestExact, false}, {Bilinear, false}, {Bicubic, false}, {Bilinear, true}, {Bicubic, true}}
	for _, sz := range sizes {
		if sz[0] > 32 { // keep the float64 double sum small
			sz = [4]int{26, 38, 39, 57}
		}
		planes := 2
		src := make([]float32, planes*sz[0]*sz[1])
		for i := range src {
			src[i] = float32(rng.NormFloat64())
		}
		for _, v := range variants {
			name := fmt.Sprintf("%v/aa=%v/%dx%d→%dx%d", v.mode, v.aa, sz[0], sz[1], sz[2], sz[3])
			got, err := Interpolate(src, planes, sz[0], sz[1], sz[2], sz[3], v.mode, v.aa)
			if err != nil {
				t.Fatal(name, err)
			}
			want := refInterpolate(src, planes, sz[0], sz[1], sz[2], sz[3], v.mode, v.aa)
			// float32 arithmetic over at most 4×4 (aa: ~8×8) taps of unit
			// normal values: a few ulps of the magnitude.
			for i := range want {
				if d := math.Abs(float64(got[i]) - want[i]); d > 2e-6*(1+math.Abs(want[i])) {
					t.Fatalf("%s: [%d] = %v, float64 reference %v (diff %.2g)", name, i, got[i], want[i], d)
				}
			}
		}
	}
}

// Values worked out by hand from torch's definitions.
func TestInterpolateKnownValues(t *testing.T) {
	cases := []struct {
		name string
		in   []float32
		out  int
		mode Mode
		aa   bool
		want []float32
	}{
		{"bilinear 2→4", []float32{0, 1}, 4, Bilinear, false, []float32{0, 0.25, 0.75, 1}},
		{"nearest 3→2", []float32{0, 1, 2}, 2, Nearest, false, []float32{0, 1}},
		{"nearest-exact 3→2", []float32{0, 1, 2}, 2, NearestExact, false, []float32{0, 2}},
		// src = −0.25: taps x[0],x[0],x[0],x[1] with weight c2(1.25) on x[1].
		{"bicubic 2→4", []float32{0, 1}, 4, Bicubic, false, []float32{-0.10546875, 0.2265625, 0.7734375, 1.10546875}},
		// ÷2 antialiased bilinear: a triangle of half-width 2 centred at 1 and
		// 3 reaches pixels 0–2 (weights .75 .75 .25) and 1–3 (.25 .75 .75).
		{"bilinear aa 4→2", []float32{0, 0, 8, 8}, 2, Bilinear, true, []float32{8.0 / 7, 48.0 / 7}},
	}
	for _, c := range cases {
		got, err := Interpolate(c.in, 1, 1, len(c.in), 1, c.out, c.mode, c.aa)
		if err != nil {
			t.Fatal(c.name, err)
		}
		for i := range c.want {
			if math.Abs(float64(got[i]-c.want[i])) > 2e-6 {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
				break
			}
		}
	}
}

func TestInterpolateRejects(t *testing.T) {
	if _, err := Interpolate(make([]float32, 5), 1, 2, 2, 4, 4, Bilinear, false); err == nil {
		t.Error("wrong length accepted")
	}
	if _, err := Interpolate(make([]float32, 4), 1, 2, 2, 4, 4, Nearest, true); err == nil {
		t.Error("antialiased nearest accepted")
	}
	if _, err := Interpolate(make([]float32, 4), 1, 2, 2, 0, 4, Nearest, false); err == nil {
		t.Error("zero size accepted")
	}
}
