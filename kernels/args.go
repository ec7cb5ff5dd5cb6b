package kernels

import (
	"fmt"
	"math"
)

// boxArgs stores each kernel argument in its own 8-byte slot, the way
// cuLaunchKernel reads parameters: the driver takes sizeof(param) bytes from
// the start of each slot, so 4-byte values sit in the low half
// (little-endian). Supported: devicePtr (and anything with a device address,
// via ptrOf), int (must fit int32: kernels take int), int32, uint32, float32,
// int64, uint64. Anything else is a programmer error and panics.
func boxArgs(slots []uint64, args []any) []uint64 {
	slots = slots[:0]
	for i, a := range args {
		var v uint64
		switch x := a.(type) {
		case devicePtr:
			v = uint64(x)
		case int:
			if x < math.MinInt32 || x > math.MaxInt32 {
				panic(fmt.Sprintf("kernels: argument %d = %d does not fit the kernel's int", i, x))
			}
			v = uint64(uint32(int32(x)))
		case int32:
			v = uint64(uint32(x))
		case uint32:
			v = uint64(x)
		case float32:
			v = uint64(math.Float32bits(x))
		case int64:
			v = uint64(x)
		case uint64:
			v = x
		case bool:
			if x {
				v = 1
			}
		default:
			panic(fmt.Sprintf("kernels: argument %d has unsupported type %T", i, a))
		}
		slots = append(slots, v)
	}
	return slots
}
