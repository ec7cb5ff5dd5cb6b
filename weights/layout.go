package weights

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// layout is how a layer wants a stored tensor's bytes arranged (a weight
// tag option, see Binder).
type layout uint8

const (
	asStored layout = iota
	// channelsLast: a convolution weight stored [O,I,KH,KW] (torch) bound
	// as [O,KH,KW,I], so that every output pixel reads contiguous input
	// channels (the layout tensor.Backend.Conv2D takes). A 1×1 kernel has
	// the same bytes in both layouts.
	channelsLast
	// transposed: a 2-D [R,C] tensor bound as [C,R] (the bigG text
	// projection, applied as x·P, becomes a Linear weight).
	transposed
)

// apply rearranges raw, a tensor of shape with size-byte elements, into the
// layout; raw itself is never modified (it may be a read-only mapping).
func (l layout) apply(shape tensor.Shape, raw []byte, size int) (tensor.Shape, []byte, error) {
	switch l {
	case channelsLast:
		return ConvToChannelsLast(shape, raw, size)
	case transposed:
		if len(shape) != 2 {
			return nil, nil, fmt.Errorf("shape %v, expected a 2-D tensor to transpose", shape)
		}
		return tensor.Shape{shape[1], shape[0]}, transposeBytes(raw, shape[0], shape[1], size), nil
	}
	return shape, raw, nil
}

// ConvToChannelsLast rearranges a convolution weight's bytes from the
// checkpoint's [O,I,KH,KW] to the backends' [O,KH,KW,I] and returns the new
// shape. raw is not modified; a 1×1 kernel's bytes are returned as they are
// (both layouts agree). Package lora restores merged weights with it.
func ConvToChannelsLast(shape tensor.Shape, raw []byte, size int) (tensor.Shape, []byte, error) {
	if len(shape) != 4 {
		return nil, nil, fmt.Errorf("shape %v, expected a 4-D convolution weight", shape)
	}
	o, in, kh, kw := shape[0], shape[1], shape[2], shape[3]
	out := tensor.Shape{o, kh, kw, in}
	if kh == 1 && kw == 1 {
		return out, raw, nil
	}
	return out, moveChannelsLast(raw, o, in, kh*kw, size), nil
}

// moveChannelsLast moves the input-channel axis of [O, I, K] (K = KH·KW
// kernel taps) last: [O, K, I]. Elements are copied as bytes, so any dtype
// keeps its exact bits.
func moveChannelsLast(raw []byte, o, in, k, size int) []byte {
	if raw == nil { // shape only (a memory plan)
		return nil
	}
	out := make([]byte, len(raw))
	for oc := 0; oc < o; oc++ {
		base := oc * in * k * size
		for ic := 0; ic < in; ic++ {
			for p := 0; p < k; p++ {
				src := base + (ic*k+p)*size
				dst := base + (p*in+ic)*size
				copy(out[dst:dst+size], raw[src:src+size])
			}
		}
	}
	return out
}
