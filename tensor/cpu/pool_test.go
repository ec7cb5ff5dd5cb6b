package cpu

import (
	"testing"
	"unsafe"

	"github.com/gosdxl/gosdxl/tensor"
)

// firstByte points at a tensor's first element.
func firstByte(t *tensor.Tensor) unsafe.Pointer {
	switch s := t.Storage().(type) {
	case []float32:
		return unsafe.Pointer(&s[0])
	case []uint16:
		return unsafe.Pointer(&s[0])
	}
	panic("unexpected storage")
}

func sameStorage(a, b *tensor.Tensor) bool { return firstByte(a) == firstByte(b) }

func TestFreedStorageIsReusedZeroed(t *testing.T) {
	b := NewMode(Fast)
	x := b.Alloc(tensor.F32, 3, 1000)
	f32(x, "test", "x")[5] = 42
	b.Free(x)
	y := b.Alloc(tensor.F32, 1000, 3) // same dtype and size, other shape
	if !sameStorage(x, y) {
		t.Fatal("freed storage was not reused")
	}
	for i, v := range f32(y, "test", "y") {
		if v != 0 {
			t.Fatalf("reused storage not zeroed: [%d] = %g", i, v)
		}
	}
	if z := b.Alloc(tensor.F16, 3000); sameStorage(z, y) {
		t.Fatal("storage handed out twice")
	}
}

// The two tests below check fast mode's tolerance; strict mode panics
// instead (strict_test.go).

func TestFreeOfViewDoesNotPool(t *testing.T) {
	b := NewMode(Fast)
	x := b.Alloc(tensor.F32, 2, 500)
	b.Free(x.Reshape(1000)) // a view: its storage may still be used through x
	if y := b.Alloc(tensor.F32, 1000); sameStorage(x, y) {
		t.Fatal("storage of a view was pooled")
	}
}

func TestDoubleFreeHandsOutOnce(t *testing.T) {
	b := NewMode(Fast)
	x := b.Alloc(tensor.F32, 777)
	b.Free(x)
	b.Free(x)
	y := b.Alloc(tensor.F32, 777)
	z := b.Alloc(tensor.F32, 777)
	if sameStorage(y, z) {
		t.Fatal("a doubly freed buffer was handed out twice")
	}
}
