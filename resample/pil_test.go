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
	return refLanczosBox8(pix, ch, w, h, outW, outH, [4]float64{0, 0, float64(w), float64(h)})
}

// refLanczosBox8 is refLanczos8 of the region box (x0, y0, x1, y1): the
// output centres are x0 + (o+½)·(x1−x0)/out, the taps anywhere in the
// image, and an axis is resampled when its size changes or the box does
// not span it.
func refLanczosBox8(pix []uint8, ch, w, h, outW, outH int, box [4]float64) []uint8 {
	axis := func(in int, in0, in1 float64, out int) [][]float64 {
		scale := (in1 - in0) / float64(out)
		s := math.Max(scale, 1)
		rows := make([][]float64, out)
		for o := range rows {
			c := in0 + (float64(o)+0.5)*scale
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
	if outW != w || box[0] != 0 || box[2] != float64(w) {
		wx := axis(w, box[0], box[2], outW)
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
	if outH == h && box[1] == 0 && box[3] == float64(h) {
		return tmp
	}
	wy := axis(h, box[1], box[3], outH)
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

// TestResizeBox8MatchesReference: regions inside the image, and the
// zero-height and zero-width boxes at the edges that A1111's "Resize and
// fill" stretches.
func TestResizeBox8MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const w, h = 20, 14
	pix := make([]uint8, 3*w*h)
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	for _, c := range []struct {
		outW, outH int
		box        [4]float64
	}{
		{10, 7, [4]float64{2, 3, 17, 12}},
		{20, 5, [4]float64{0, 0, 20, 0}},   // top edge stretched
		{20, 6, [4]float64{0, 14, 20, 14}}, // bottom edge
		{4, 14, [4]float64{0, 0, 0, 14}},   // left edge
		{3, 14, [4]float64{20, 0, 20, 14}}, // right edge
		{20, 14, [4]float64{0, 0, 20, 14}}, // the whole image: unchanged
	} {
		got, err := ResizeBox8(pix, 3, w, h, c.outW, c.outH, c.box)
		if err != nil {
			t.Fatal(err)
		}
		want := refLanczosBox8(pix, 3, w, h, c.outW, c.outH, c.box)
		for i := range want {
			if d := int(got[i]) - int(want[i]); d < -1 || d > 1 {
				t.Fatalf("box %v → %dx%d: [%d] = %d, reference %d", c.box, c.outW, c.outH, i, got[i], want[i])
			}
		}
	}
	// A stretched edge is the same mix of the edge's three rows on every
	// output row: rows of a zero-height box are identical.
	got, _ := ResizeBox8(pix, 3, w, h, w, 4, [4]float64{0, 0, w, 0})
	for y := 1; y < 4; y++ {
		if string(got[y*3*w:(y+1)*3*w]) != string(got[:3*w]) {
			t.Fatalf("row %d of a stretched top edge differs from row 0", y)
		}
	}
	for _, bad := range [][4]float64{{-1, 0, 5, 5}, {0, 0, 21, 5}, {5, 0, 4, 5}} {
		if _, err := ResizeBox8(pix, 3, w, h, 4, 4, bad); err == nil {
			t.Errorf("box %v accepted", bad)
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
