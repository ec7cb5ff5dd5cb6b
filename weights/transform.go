package weights

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// transform says how stored diffusers tensors become one canonical tensor.
// Every transformation between the layouts is here; the bytes of a
// transformed tensor are built only when Entry.Bytes is called.
type transform int

const (
	// asIs: one tensor, same bytes and shape (aliases the mapping).
	asIs transform = iota
	// fuseRows: several tensors of equal shape stacked along the first
	// axis, as HF CLIP q, k, v become OpenCLIP's in_proj (rows q, k, v).
	fuseRows
	// transpose: a 2-D [r, c] tensor becomes [c, r], as the bigG
	// text_projection Linear weight [proj, width] becomes [width, proj].
	transpose
	// linearToConv: a Linear weight [o, i] becomes the 1x1 convolution
	// weight [o, i, 1, 1] of the same bytes (VAE attention).
	linearToConv
)

// apply builds the canonical entry from the stored tensors in ts (one per
// key in from), or says why the stored shapes do not fit the transform.
func (op transform) apply(from []diffusersKey, ts []storedTensor) (Entry, error) {
	first := ts[0]
	switch op {
	case asIs:
		return storedEntry(first), nil
	case linearToConv:
		if len(first.shape) == 4 && first.shape[2] == 1 && first.shape[3] == 1 {
			return storedEntry(first), nil // already stored as a 1x1 conv
		}
		if len(first.shape) != 2 {
			return Entry{}, fmt.Errorf("%s: shape %v, expected a 2-D Linear weight", from[0], first.shape)
		}
		shape := tensor.Shape{first.shape[0], first.shape[1], 1, 1}
		return Entry{DType: first.dtype, Shape: shape, Bytes: func() ([]byte, error) { return first.data, nil }}, nil
	case transpose:
		if len(first.shape) != 2 {
			return Entry{}, fmt.Errorf("%s: shape %v, expected a 2-D tensor to transpose", from[0], first.shape)
		}
		shape := tensor.Shape{first.shape[1], first.shape[0]}
		return Entry{DType: first.dtype, Shape: shape, Bytes: func() ([]byte, error) {
			return transposeBytes(first.data, first.shape[0], first.shape[1], first.dtype.Size()), nil
		}}, nil
	case fuseRows:
		for i, t := range ts[1:] {
			if t.dtype != first.dtype || !t.shape.Equal(first.shape) {
				return Entry{}, fmt.Errorf("%s (%s%v) and %s (%s%v) cannot be fused: dtype or shape differ",
					from[0], first.dtype, first.shape, from[i+1], t.dtype, t.shape)
			}
		}
		if len(first.shape) == 0 {
			return Entry{}, fmt.Errorf("%s: a scalar cannot be fused", from[0])
		}
		shape := first.shape.Clone()
		shape[0] *= len(ts)
		return Entry{DType: first.dtype, Shape: shape, Bytes: func() ([]byte, error) {
			out := make([]byte, 0, len(first.data)*len(ts))
			for _, t := range ts {
				out = append(out, t.data...)
			}
			return out, nil
		}}, nil
	}
	panic(fmt.Sprintf("weights: unknown transform %d", op))
}

// transposeBytes transposes a row-major rows×cols matrix of size-byte elements.
func transposeBytes(data []byte, rows, cols, size int) []byte {
	if data == nil { // shape only (a memory plan)
		return nil
	}
	out := make([]byte, len(data))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			copy(out[(c*rows+r)*size:(c*rows+r+1)*size], data[(r*cols+c)*size:(r*cols+c+1)*size])
		}
	}
	return out
}
