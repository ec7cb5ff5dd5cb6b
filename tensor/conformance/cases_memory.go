package conformance

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// specials are values whose rounding is easy to get wrong: ties, subnormals,
// overflow to Inf, signed zeros, NaN.
var specials = []float32{
	0, float32(math.Copysign(0, -1)), 1, -1, 65504, 65520, 70000, -1e6,
	float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
	6e-8, 3e-8, -1e-7, 1e-40, 1.0009765625, 1.00048828125, 1.00146484375,
	3.3895314e38, 1.0078125, 1.00390625, 1.01171875, 2049, 4097,
}

// roundTo rounds float32 values to dt the exact way tensor.F32ToF16 /
// F32ToBF16 specify, and widens back.
func roundTo(dt tensor.DType, x []float32) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		switch dt {
		case tensor.F16:
			out[i] = tensor.F16ToF32(tensor.F32ToF16(v))
		case tensor.BF16:
			out[i] = tensor.BF16ToF32(tensor.F32ToBF16(v))
		default:
			out[i] = v
		}
	}
	return out
}

var floatTypes = []tensor.DType{tensor.F32, tensor.F16, tensor.BF16}

// memory covers Alloc, FromFloat32, FromRaw and ToFloat32.
func (s *suite) memory(t *testing.T) {
	for _, dt := range floatTypes {
		t.Run("Alloc/"+dt.String(), func(t *testing.T) {
			x := s.b.Alloc(dt, 2, 3, 5)
			if x.DType() != dt || !x.Shape().Equal(tensor.Shape{2, 3, 5}) || x.Backend() == nil {
				t.Fatalf("Alloc(%v, 2, 3, 5) = %v", dt, x)
			}
			if n := len(s.b.ToFloat32(x)); n != 30 {
				t.Fatalf("ToFloat32 of an allocated [2 3 5] returned %d values", n)
			}
			s.b.Free(x)
		})
		t.Run("FromFloat32/"+dt.String(), func(t *testing.T) {
			data := append(normals(rng(t), 1000, 3), specials...)
			x := s.b.FromFloat32(dt, tensor.Shape{len(data)}, data)
			s.checkExact(t, s.read(t, x), roundTo(dt, data))
		})
		t.Run("FromRaw/"+dt.String(), func(t *testing.T) {
			data := roundTo(dt, append(normals(rng(t), 999, 3), specials...))
			raw := encode(dt, data)
			x := s.b.FromRaw(dt, tensor.Shape{3, len(data) / 3}, raw)
			s.checkExact(t, s.read(t, x), data)
			// Misaligned bytes (as inside a buffer at an odd offset) must
			// work too; a backend may copy them.
			odd := append([]byte{0}, raw...)[1:]
			y := s.b.FromRaw(dt, tensor.Shape{len(data)}, odd)
			s.checkExact(t, s.read(t, y), data)
		})
	}
	t.Run("ReshapeView", func(t *testing.T) {
		data := normals(rng(t), 24, 1)
		x := s.b.FromFloat32(tensor.F32, tensor.Shape{2, 3, 4}, data)
		s.checkExact(t, s.b.ToFloat32(x.Reshape(6, 4)), data)
	})
}

// encode writes values in dt's little-endian layout, as safetensors does.
func encode(dt tensor.DType, x []float32) []byte {
	raw := make([]byte, len(x)*dt.Size())
	for i, v := range x {
		switch dt {
		case tensor.F32:
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		case tensor.F16:
			binary.LittleEndian.PutUint16(raw[2*i:], tensor.F32ToF16(v))
		case tensor.BF16:
			binary.LittleEndian.PutUint16(raw[2*i:], tensor.F32ToBF16(v))
		}
	}
	return raw
}

// cast converts between every pair of float types, specials included.
func (s *suite) cast(t *testing.T) {
	for _, from := range floatTypes {
		for _, to := range floatTypes {
			t.Run(from.String()+"_to_"+to.String(), func(t *testing.T) {
				data := append(normals(rng(t), 3000, 100), specials...)
				x := s.b.FromFloat32(from, tensor.Shape{len(data)}, data)
				dst := s.poisoned(to, len(data))
				s.b.Cast(dst, x)
				s.checkExact(t, s.read(t, dst), roundTo(to, roundTo(from, data)))
			})
		}
	}
}
