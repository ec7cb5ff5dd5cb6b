package cpu

import "github.com/gosdxl/gosdxl/tensor"

// f16Table holds the float32 value of every binary16 bit pattern. Weights
// are widened from fp16 billions of times per image; a 256 KB table lookup
// is several times faster than the bit manipulation of tensor.F16ToF32 and
// gives the same exact results (the table is built from it).
var f16Table = func() []float32 {
	t := make([]float32, 1<<16)
	for i := range t {
		t[i] = tensor.F16ToF32(uint16(i))
	}
	return t
}()
