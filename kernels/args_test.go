package kernels

import (
	"math"
	"testing"
)

func TestBoxArgsPutsEachValueInTheLowBytesOfItsSlot(t *testing.T) {
	got := boxArgs(nil, []any{devicePtr(0x7f0000001000), -2, int32(7), uint32(9), float32(1.5), int64(-3), uint64(1 << 40), true})
	want := []uint64{0x7f0000001000, 0xfffffffe, 7, 9, uint64(math.Float32bits(1.5)), math.MaxUint64 - 2, 1 << 40, 1}
	if len(got) != len(want) {
		t.Fatalf("got %d slots, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("slot %d = %#x, want %#x", i, got[i], want[i])
		}
	}
}

func TestBoxArgsRejectsIntsThatOverflowTheKernelInt(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for an int beyond int32")
		}
	}()
	boxArgs(nil, []any{1 << 40})
}
