package cpu

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/gosdxl/gosdxl/tensor"
)

// littleEndian is true on hosts whose memory layout matches safetensors',
// where FromRaw can reinterpret the bytes instead of decoding them.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// FromRaw wraps little-endian bytes. On a little-endian host with suitably
// aligned bytes (always the case for a memory-mapped safetensors file, whose
// data is 8-byte aligned) the tensor aliases raw; otherwise it copies.
func (b *Backend) FromRaw(dt tensor.DType, shape tensor.Shape, raw []byte) *tensor.Tensor {
	n := shape.NumElements()
	size := dt.Size()
	if size == 0 {
		panic(fmt.Sprintf("cpu: FromRaw with unsupported dtype %v", dt))
	}
	if len(raw) != n*size {
		panic(fmt.Sprintf("cpu: FromRaw got %d bytes for %v%v, want %d", len(raw), dt, shape, n*size))
	}
	if n == 0 {
		t := b.Alloc(dt, shape...)
		b.counts.upload(t)
		return t
	}
	p := unsafe.Pointer(&raw[0])
	if littleEndian && uintptr(p)%uintptr(size) == 0 {
		var s any
		switch dt {
		case tensor.F32:
			s = unsafe.Slice((*float32)(p), n)
		case tensor.F16, tensor.BF16:
			s = unsafe.Slice((*uint16)(p), n)
		case tensor.I32:
			s = unsafe.Slice((*int32)(p), n)
		case tensor.I64:
			s = unsafe.Slice((*int64)(p), n)
		}
		t := tensor.New(b, dt, shape, s)
		b.counts.allocs.Add(1)
		b.counts.upload(t)
		if b.strict != nil {
			b.strict.add(t, true)
		}
		return t
	}
	t := b.Alloc(dt, shape...)
	b.counts.upload(t)
	le := binary.LittleEndian
	switch s := t.Storage().(type) {
	case []float32:
		for i := range s {
			s[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
	case []uint16:
		for i := range s {
			s[i] = le.Uint16(raw[2*i:])
		}
	case []int32:
		for i := range s {
			s[i] = int32(le.Uint32(raw[4*i:]))
		}
	case []int64:
		for i := range s {
			s[i] = int64(le.Uint64(raw[8*i:]))
		}
	}
	return t
}
