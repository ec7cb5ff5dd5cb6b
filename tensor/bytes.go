package tensor

import (
	"encoding/binary"
	"fmt"
	"math"
)

// EncodeFloat32 lays data out as little-endian elements of dt, rounding to
// nearest even for the half types (the exact conversions of half.go).
func EncodeFloat32(dt DType, data []float32) []byte {
	out := make([]byte, len(data)*dt.Size())
	switch dt {
	case F32:
		for i, v := range data {
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(v))
		}
	case F16:
		for i, v := range data {
			binary.LittleEndian.PutUint16(out[2*i:], F32ToF16(v))
		}
	case BF16:
		for i, v := range data {
			binary.LittleEndian.PutUint16(out[2*i:], F32ToBF16(v))
		}
	case I32:
		// Ids travel as float32 through FromFloat32; they are exact below 2^24.
		for i, v := range data {
			binary.LittleEndian.PutUint32(out[4*i:], uint32(int32(v)))
		}
	default:
		panic(fmt.Sprintf("tensor: cannot create a %v tensor from float32", dt))
	}
	return out
}

// DecodeFloat32 widens little-endian elements of dt to float32.
func DecodeFloat32(dt DType, raw []byte) []float32 {
	n := len(raw) / max(dt.Size(), 1)
	out := make([]float32, n)
	switch dt {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case F16:
		for i := range out {
			out[i] = F16ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = BF16ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case I32:
		for i := range out {
			out[i] = float32(int32(binary.LittleEndian.Uint32(raw[4*i:])))
		}
	default:
		panic(fmt.Sprintf("tensor: cannot read a %v tensor as float32", dt))
	}
	return out
}

// ConvertBytes re-encodes little-endian float elements of from as to,
// widening through float32 (exact for every float type here) and rounding
// once to nearest even. It returns raw itself when the types are equal.
// Weights cast at bind and restored after a LoRA go through this one
// function, so both give the same bits.
func ConvertBytes(from, to DType, raw []byte) []byte {
	if from == to {
		return raw
	}
	return EncodeFloat32(to, DecodeFloat32(from, raw))
}
