package tensor

import (
	"testing"
)

func TestEncodeDecodeRoundTripsRepresentableValues(t *testing.T) {
	// Values exactly representable in every type, including a subnormal half.
	in := []float32{0, 1, -2.5, 65504, 6.103515625e-05, -0.0009765625}
	for _, dt := range []DType{F32, F16, BF16} {
		vals := in
		if dt == BF16 {
			vals = []float32{0, 1, -2.5, 65536, 0.0078125}
		}
		raw := EncodeFloat32(dt, vals)
		if len(raw) != len(vals)*dt.Size() {
			t.Fatalf("%v: %d bytes for %d values", dt, len(raw), len(vals))
		}
		got := DecodeFloat32(dt, raw)
		for i := range vals {
			if got[i] != vals[i] {
				t.Errorf("%v: value %d round-tripped to %v, want %v", dt, i, got[i], vals[i])
			}
		}
	}
	// Rounding: 1 + 2^-11 is a half-way case in F16 and rounds to even (1).
	if got := DecodeFloat32(F16, EncodeFloat32(F16, []float32{1 + 1.0/2048})); got[0] != 1 {
		t.Errorf("F16 rounding of 1+2^-11 gave %v", got[0])
	}
}
