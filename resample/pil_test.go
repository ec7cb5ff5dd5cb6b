package resample

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refLanczos8 states PIL's Lanczos resize in float64: per axis, weights
// lanczos3((i+½−c)/s) for the input pixel centres within 3·s of the output
// centre c = (o+½)·in/out, s = max(in/out, 1), normalised; the width pass
// is rounded to 8 bits before the height pass.
func refLanczos8(pix []uint8, ch, w, h, outW, outH int) []uint8 {
	axis := func(in, out int) [][]float64 {
		scale := float64(in) / float64(out)
		s := math.Max(scale, 1)
		rows := make([][]float64, out)
		for o := range rows {
			c := (float64(o) + 0.5) * scale
			row := make([]float64, in)
			var total float64
			for i := range row {
				d := (float64(i) + 0.5 - c) / s
				if int(c-3*s+0.5) <= i && i < int(c+3*s+0.5) && math.Abs(d) < 3 {
					row[i] = sinc64(d) * sinc64(d/3)
					total += row[i]
				}
			}
			for i := range row {
				row[i] /= total
			}
			rows[o] = row
		}
		return rows
	}
	round8 := func(v float64) uint8 { return uint8(math.Min(math.Max(math.Floor(v+0.5), 0), 255)) }
	tmp := pix
	if outW != w {
		wx := axis(w, outW)
		tmp = make([]uint8, ch*outW*h)
		for y := 0; y < h; y++ {
			for x := 0; x < outW; x++ {
				for c := 0; c < ch; c++ {
					var s float64
					for i, wi := range wx[x] {
						s += wi * float64(pix[(y*w+i)*ch+c])
					}
					tmp[(y*outW+x)*ch+c] = round8(s)
				}
			}
		}
	}
	if outH == h {
		return tmp
	}
	wy := axis(h, outH)
	out := make([]uint8, ch*outW*outH)
	for y := 0; y < outH; y++ {
		for x := 0; x < outW; x++ {
			for c := 0; c < ch; c++ {
				var s float64
				for i, wi := range wy[y] {
					s += wi * float64(tmp[(i*outW+x)*ch+c])
				}
				out[(y*outW+x)*ch+c] = round8(s)
			}
		}
	}
	return out
}

func sinc64(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

func TestResize8LanczosMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][4]int{{16, 12, 24, 18}, {20, 20, 30, 30}, {24, 16, 11, 7}, {9, 13, 9, 26}, {40, 8, 13, 8}} {
		pix := make([]uint8, 3*sz[0]*sz[1])
		for i := range pix {
			pix[i] = uint8(rng.IntN(256))
		}
		got, err := Resize8(pix, 3, sz[0], sz[1], sz[2], sz[3], FilterLanczos)
		if err != nil {
			t.Fatal(err)
		}
		want := refLanczos8(pix, 3, sz[0], sz[1], sz[2], sz[3])
		// PIL's 22-bit coefficients move a sum by < 2⁻¹² of a level, which
		// can flip a rounding, and the flip can carry through the second pass.
		off := 0
		for i := range want {
			d := int(got[i]) - int(want[i])
			if d < -1 || d > 1 {
				t.Fatalf("%v: [%d] = %d, reference %d", sz, i, got[i], want[i])
			}
			if d != 0 {
				off++
			}
		}
		if off*100 > len(want) {
			t.Errorf("%v: %d of %d values off by one", sz, off, len(want))
		}
	}
}

func TestResize8Exact(t *testing.T) {
	// A constant image stays constant under every filter and size.
	flat := make([]uint8, 3*10*6)
	for i := range flat {
		flat[i] = 77
	}
	for _, f := range []Filter{FilterLanczos, FilterNearest} {
		for _, sz := range [][2]int{{15, 9}, {5, 3}, {10, 12}} {
			got, err := Resize8(flat, 3, 10, 6, sz[0], sz[1], f)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range got {
				if v != 77 {
					t.Fatalf("filter %d to %v: constant 77 became %d", f, sz, v)
				}
			}
		}
	}
	// Nearest samples the pixel under each output centre.
	row := []uint8{0, 10, 20, 30, 40, 50}
	got, _ := Resize8(row, 1, 6, 1, 4, 1, FilterNearest) // centres 0.75, 2.25, 3.75, 5.25
	if fmt.Sprint(got) != "[0 20 30 50]" {
		t.Errorf("nearest 6→4 = %v, want [0 20 30 50]", got)
	}
	got, _ = Resize8(row[:2], 1, 2, 1, 4, 1, FilterNearest)
	if fmt.Sprint(got) != "[0 0 10 10]" {
		t.Errorf("nearest 2→4 = %v, want [0 0 10 10]", got)
	}
}

func TestGaussianBlur8(t *testing.T) {
	// One white pixel: the blur is the normalised kernel (outer product),
	// symmetric, and sums to about 255.
	const n = 21
	pix := make([]uint8, n*n)
	pix[10*n+10] = 255
	out := GaussianBlur8(pix, n, n, 2, 2)
	k := gaussianKernel(2)
	if len(k) != 11 { // 2·int(5.5)+1
		t.Fatalf("σ=2 kernel has %d taps, want 11", len(k))
	}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if out[y*n+x] != out[x*n+y] || out[y*n+x] != out[(n-1-y)*n+(n-1-x)] {
				t.Fatalf("blur not symmetric at %d,%d", x, y)
			}
		}
	}
	// The centre value: round(round(255·k0)·k0) from the two 8-bit passes.
	c := math.Floor(math.Floor(255*k[5]+0.5)*k[5] + 0.5)
	if float64(out[10*n+10]) != c {
		t.Errorf("centre %d, want %v", out[10*n+10], c)
	}
	if reflect101(-1, 5) != 1 || reflect101(5, 5) != 3 || reflect101(-6, 5) != 2 {
		t.Error("reflect101 is not gfedcb|abcdefgh|gfedcba")
	}
}
