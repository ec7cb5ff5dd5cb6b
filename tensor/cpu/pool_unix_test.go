//go:build unix

package cpu

import (
	"syscall"
	"testing"
	"unsafe"

	"github.com/gosdxl/gosdxl/tensor"
)

// TestFreeNeverPoolsMappedMemory frees a tensor aliasing a memory-mapped
// (read-only) region, as a checkpoint weight is: it must not be pooled,
// or the next Alloc would write into the mapping.
func TestFreeNeverPoolsMappedMemory(t *testing.T) {
	const n = 4096
	mem, err := syscall.Mmap(-1, 0, 4*n, syscall.PROT_READ, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer syscall.Munmap(mem)
	b := NewMode(Fast)
	w := b.FromRaw(tensor.F32, tensor.Shape{n}, mem)
	if firstByte(w) != unsafe.Pointer(&mem[0]) {
		t.Fatal("FromRaw did not alias aligned bytes")
	}
	b.Free(w)
	x := b.Alloc(tensor.F32, n)
	if sameStorage(w, x) {
		t.Fatal("Alloc handed out memory-mapped storage")
	}
	f32(x, "test", "x")[0] = 1 // would fault on the read-only mapping
}
