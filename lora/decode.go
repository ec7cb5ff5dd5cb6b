package lora

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/gosdxl/gosdxl/tensor"
)

// decode widens little-endian F32/F16/BF16 bytes to float32 (exactly).
func decode(dt tensor.DType, shape tensor.Shape, raw []byte) ([]float32, error) {
	n := shape.NumElements()
	if len(raw) != n*dt.Size() {
		return nil, fmt.Errorf("%d bytes for %d elements of %s", len(raw), n, dt)
	}
	out := make([]float32, n)
	switch dt {
	case tensor.F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case tensor.F16:
		for i := range out {
			out[i] = tensor.F16ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case tensor.BF16:
		for i := range out {
			out[i] = tensor.BF16ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	default:
		return nil, fmt.Errorf("dtype %s, expected F32, F16 or BF16", dt)
	}
	return out, nil
}
