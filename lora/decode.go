package lora

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// decode widens little-endian F32/F16/BF16 bytes to float32 (exactly).
func decode(dt tensor.DType, shape tensor.Shape, raw []byte) ([]float32, error) {
	n := shape.NumElements()
	if len(raw) != n*dt.Size() {
		return nil, fmt.Errorf("%d bytes for %d elements of %s", len(raw), n, dt)
	}
	switch dt {
	case tensor.F32, tensor.F16, tensor.BF16:
		return tensor.DecodeFloat32(dt, raw), nil
	}
	return nil, fmt.Errorf("dtype %s, expected F32, F16 or BF16", dt)
}
