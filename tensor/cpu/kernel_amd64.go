//go:build amd64

package cpu

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// hasAVX2FMA selects the assembly micro-kernel; CPUs without AVX2 and FMA
// (and the purego build, should one be added) use the Go kernel.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func kernel6x16AVX2(kcs int, a, b, c *float32, ldc int)

func microKernel(kcs int, a, b, c []float32, ldc int) {
	if !hasAVX2FMA || kcs == 0 {
		microKernelGo(kcs, a, b, c, ldc)
		return
	}
	// The bounds the assembly relies on, checked once per call.
	_ = a[kcs*mr-1]
	_ = b[kcs*nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	kernel6x16AVX2(kcs, unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), ldc)
}
