package tensor

import (
	"math"
	"testing"
)

// halfValue computes a binary16 pattern's value from the IEEE definition in
// float64, independently of F16ToF32.
func halfValue(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	switch {
	case exp == 0x1f && mant == 0:
		return math.Inf(int(sign))
	case exp == 0x1f:
		return math.NaN()
	case exp == 0:
		return sign * mant * math.Pow(2, -24)
	}
	return sign * (1 + mant/1024) * math.Pow(2, float64(exp-15))
}

func TestF16AllValuesBothWays(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := F16ToF32(h)
		want := halfValue(h)
		if math.IsNaN(want) {
			if !math.IsNaN(float64(f)) {
				t.Fatalf("%#04x: want NaN, got %v", h, f)
			}
			if back := F32ToF16(f); back&0x7c00 != 0x7c00 || back&0x3ff == 0 {
				t.Fatalf("%#04x: NaN came back as %#04x", h, back)
			}
			continue
		}
		if float64(f) != want || math.Signbit(float64(f)) != (h&0x8000 != 0) {
			t.Fatalf("%#04x: F16ToF32 = %v, want %v", h, f, want)
		}
		if back := F32ToF16(f); back != h {
			t.Fatalf("%#04x: round trip gave %#04x", h, back)
		}
	}
}

// TestF16RoundingBoundaries checks every midpoint between neighbouring
// finite halves: the midpoint ties to the even neighbour, one float32 ulp
// either side goes to the nearer one.
func TestF16RoundingBoundaries(t *testing.T) {
	for i := 0; i < 0x7c00; i++ { // positive finite halves; the next one up may be Inf
		lo, hi := uint16(i), uint16(i+1)
		a, b := halfValue(lo), halfValue(hi)
		if hi == 0x7c00 {
			b = 65536 // where Inf "would be" for rounding purposes
		}
		mid := float32((a + b) / 2) // exact: needs at most 12 significant bits
		if float64(mid) != (a+b)/2 {
			t.Fatalf("midpoint of %#04x not exact in float32", lo)
		}
		even := lo
		if lo&1 == 1 {
			even = hi
		}
		for _, s := range []float32{1, -1} {
			sign := uint16(0)
			if s < 0 {
				sign = 0x8000
			}
			if got := F32ToF16(s * mid); got != even|sign {
				t.Fatalf("midpoint %v of %#04x/%#04x: got %#04x want %#04x", s*mid, lo, hi, got, even|sign)
			}
			below := s * math.Nextafter32(mid, 0)
			above := s * math.Nextafter32(mid, float32(math.Inf(1)))
			if got := F32ToF16(below); got != lo|sign {
				t.Fatalf("just below midpoint of %#04x: got %#04x", lo, got)
			}
			if got := F32ToF16(above); got != hi|sign {
				t.Fatalf("just above midpoint of %#04x: got %#04x", lo, got)
			}
		}
	}
}

func TestF16Specials(t *testing.T) {
	cases := []struct {
		f    float32
		want uint16
	}{
		{0, 0},
		{float32(math.Copysign(0, -1)), 0x8000},
		{float32(math.Inf(1)), 0x7c00},
		{float32(math.Inf(-1)), 0xfc00},
		{65504, 0x7bff},
		{65519.99, 0x7bff}, // below the midpoint to "65536": stays finite
		{65520, 0x7c00},    // the midpoint ties to even: Inf
		{1e10, 0x7c00},
		{-1e10, 0xfc00},
		{5.9604645e-8, 0x0001},        // smallest subnormal
		{2.9802322e-8, 0x0000},        // half of it: ties to even (zero)
		{2.9802326e-8, 0x0001},        // just above half: rounds up
		{6.097555e-5, 0x03ff},         // largest subnormal
		{6.1035156e-5, 0x0400},        // smallest normal
		{1e-10, 0},                    // underflow
		{float32(math.NaN()), 0x7e00}, // the default quiet NaN
	}
	for _, c := range cases {
		if got := F32ToF16(c.f); got != c.want {
			t.Errorf("F32ToF16(%v) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
}

func TestBF16AllValuesAndRounding(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := BF16ToF32(h)
		if math.IsNaN(float64(f)) {
			if back := F32ToBF16(f); back&0x7f80 != 0x7f80 || back&0x7f == 0 {
				t.Fatalf("%#04x: NaN came back as %#04x", h, back)
			}
			continue
		}
		if back := F32ToBF16(f); back != h {
			t.Fatalf("%#04x: round trip gave %#04x", h, back)
		}
		if h&0x7f80 == 0x7f80 || h == 0x7f7f || h == 0xff7f {
			continue // Inf or the largest finite value: no upper neighbour to test against
		}
		// Midpoint to the next pattern (away from zero): ties to even.
		bits := math.Float32bits(f)
		mid := math.Float32frombits(bits + 0x8000)
		even := h
		if h&1 == 1 {
			even = h + 1
		}
		if got := F32ToBF16(mid); got != even {
			t.Fatalf("midpoint above %#04x: got %#04x want %#04x", h, got, even)
		}
		if got := F32ToBF16(math.Float32frombits(bits + 0x7fff)); got != h {
			t.Fatalf("just below midpoint above %#04x: got %#04x", h, got)
		}
		if got := F32ToBF16(math.Float32frombits(bits + 0x8001)); got != h+1 {
			t.Fatalf("just above midpoint above %#04x: got %#04x", h, got)
		}
	}
	if got := F32ToBF16(math.MaxFloat32); got != 0x7f80 {
		t.Errorf("MaxFloat32 should round to Inf in bfloat16, got %#04x", got)
	}
}
