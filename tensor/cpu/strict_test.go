package cpu

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// mustPanic runs f and returns its panic message, failing if it returns.
func mustPanic(t *testing.T, what string, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatalf("%s: no panic", what)
		}
		msg = fmt.Sprint(r)
	}()
	f()
	return ""
}

// wantAll fails unless msg contains every part.
func wantAll(t *testing.T, what, msg string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("%s: message lacks %q:\n%s", what, p, msg)
		}
	}
}

func TestDefaultModeUnderTestIsStrict(t *testing.T) {
	t.Setenv(StrictEnv, "")
	if !New().IsStrict() {
		t.Fatal("New under go test is not strict")
	}
	t.Setenv(StrictEnv, "0")
	if New().IsStrict() {
		t.Fatalf("%s=0 did not select fast mode", StrictEnv)
	}
}

func TestStrictAllocIsPoisoned(t *testing.T) {
	b := NewMode(Strict)
	f := b.Alloc(tensor.F32, 3, 5)
	for i, v := range f32(f, "test", "f") {
		if !math.IsNaN(float64(v)) {
			t.Fatalf("F32 [%d] = %g, want NaN", i, v)
		}
	}
	for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
		for i, v := range b.ToFloat32(b.Alloc(dt, 7)) {
			if !math.IsNaN(float64(v)) {
				t.Fatalf("%v [%d] = %g, want NaN", dt, i, v)
			}
		}
	}
	for i, v := range b.Alloc(tensor.I32, 4).Storage().([]int32) {
		if v != math.MinInt32 {
			t.Fatalf("I32 [%d] = %d, want an id no table has", i, v)
		}
	}
	// A reused buffer is poisoned too, not handed back with old values.
	x := b.FromFloat32(tensor.F32, tensor.Shape{64}, make([]float32, 64))
	b.Free(x)
	if v := f32(b.Alloc(tensor.F32, 64), "test", "y")[0]; !math.IsNaN(float64(v)) {
		t.Fatalf("reallocated buffer holds %g, want NaN", v)
	}
}

// TestStrictReadBeforeWriteReachesResult plants the bug strict mode exists
// for: an accumulator used before anything was written to it. Fast mode
// (zero-filled memory, like a fresh cudaMalloc sometimes is) hides it;
// strict mode turns the result into NaN, which every golden comparison
// rejects.
func TestStrictReadBeforeWriteReachesResult(t *testing.T) {
	planted := func(b *Backend) []float32 {
		x := b.FromFloat32(tensor.F32, tensor.Shape{2, 3}, []float32{1, 2, 3, 4, 5, 6})
		acc := b.Alloc(tensor.F32, 2, 3) // bug: never cleared
		b.Binary(acc, acc, x, tensor.Add)
		out := b.ToFloat32(acc)
		b.Free(x)
		b.Free(acc)
		return out
	}
	if got := planted(NewMode(Fast)); got[5] != 6 {
		t.Fatalf("fast mode gave %v", got)
	}
	for i, v := range planted(NewMode(Strict)) {
		if !math.IsNaN(float64(v)) {
			t.Fatalf("strict mode: [%d] = %g, the unwritten accumulator did not poison the result", i, v)
		}
	}
}

func TestStrictFreeOfViewPanics(t *testing.T) {
	b := NewMode(Strict)
	x := b.Alloc(tensor.F32, 2, 500)
	msg := mustPanic(t, "free of a view", func() { b.Free(x.Reshape(1000)) })
	wantAll(t, "free of a view", msg, "Free of a view", "F32[2 500]", "TestStrictFreeOfViewPanics", "strict_test.go")
	b.Free(x) // the tensor itself is still live and may be freed
}

func TestStrictDoubleFreePanics(t *testing.T) {
	b := NewMode(Strict)
	x := b.Alloc(tensor.F16, 777)
	b.Free(x)
	msg := mustPanic(t, "double free", func() { b.Free(x) })
	wantAll(t, "double free", msg, "double free", "allocated at", "first freed at", "TestStrictDoubleFreePanics")
}

func TestStrictUseAfterFreePanics(t *testing.T) {
	b := NewMode(Strict)
	x := b.FromFloat32(tensor.F32, tensor.Shape{2, 4}, make([]float32, 8))
	view := x.Reshape(8)
	y := b.Alloc(tensor.F32, 2, 4)
	b.Free(x)
	for name, f := range map[string]func(){
		"read":      func() { b.Unary(y, x, tensor.SiLU) },
		"write":     func() { b.Unary(x, y, tensor.SiLU) },
		"view":      func() { b.Cast(y.Reshape(8), view) },
		"download":  func() { b.ToFloat32(x) },
		"secondary": func() { b.Binary(y, y, x, tensor.Mul) },
	} {
		msg := mustPanic(t, name, f)
		wantAll(t, name, msg, "after it was freed", "allocated at", "freed at", "TestStrictUseAfterFreePanics")
	}
	b.Free(y)
}

func TestStrictFreeOfForeignTensorPanics(t *testing.T) {
	x := NewMode(Strict).Alloc(tensor.F32, 3)
	msg := mustPanic(t, "foreign free", func() { NewMode(Strict).Free(x) })
	wantAll(t, "foreign free", msg, "did not allocate")
}

func TestStrictLiveListsLeaks(t *testing.T) {
	b := NewMode(Strict)
	kept := b.Alloc(tensor.F32, 5)
	mark := b.Mark()
	freed := b.Alloc(tensor.F32, 6)
	leaked := b.FromFloat32(tensor.F16, tensor.Shape{2, 3}, make([]float32, 6))
	raw := b.FromRaw(tensor.F32, tensor.Shape{2}, make([]byte, 8))
	b.Free(freed)
	live := b.LiveSince(mark)
	if len(live) != 2 || !live[0].Shape.Equal(tensor.Shape{2, 3}) || live[0].DType != tensor.F16 || !live[1].Shape.Equal(tensor.Shape{2}) {
		t.Fatalf("live since mark: %v, want the F16[2 3] and the FromRaw F32[2]", live)
	}
	wantAll(t, "leak site", live[0].String(), "TestStrictLiveListsLeaks", "strict_test.go")
	if all := b.LiveSince(0); len(all) != 3 {
		t.Fatalf("live since the start: %d tensors, want 3", len(all))
	}
	for _, x := range []*tensor.Tensor{kept, leaked, raw} {
		b.Free(x)
	}
	if live := b.LiveSince(0); len(live) != 0 {
		t.Fatalf("after freeing everything: %v", live)
	}
}

func TestCountersCountWork(t *testing.T) {
	for i, mode := range []Mode{Fast, Strict} {
		b := NewMode(mode)
		n := 4099 + i // a size no other test pools
		before := b.Counters()
		x := b.FromFloat32(tensor.F32, tensor.Shape{n}, make([]float32, n))
		y := b.Alloc(tensor.F32, n)
		b.Unary(y, x, tensor.SiLU)
		b.Binary(y, y, x, tensor.Add)
		b.ToFloat32(y)
		b.Free(x)
		z := b.Alloc(tensor.F32, n) // served from the pool
		b.Free(y)
		b.Free(z)
		if err := b.Sync(); err != nil {
			t.Fatal(err)
		}
		got := b.Counters().Sub(before)
		bytes := int64(4 * n)
		want := tensor.Counters{Launches: 2, Allocs: 3, DriverAllocs: 2, AllocBytes: 2 * bytes,
			Uploads: 1, UploadBytes: bytes, Downloads: 1, DownloadBytes: bytes, Syncs: 1}
		if got != want {
			t.Errorf("mode %d: counters %+v, want %+v", mode, got, want)
		}
	}
}

func TestWriteFloat32OverwritesInPlace(t *testing.T) {
	for _, b := range []tensor.Backend{NewMode(Strict), struct{ tensor.Backend }{NewMode(Strict)}} {
		dst := b.Alloc(tensor.F16, 2, 2)
		tensor.WriteFloat32(b, dst, []float32{1, 2.5, -3, 0.1})
		got := b.ToFloat32(dst)
		want := []float32{1, 2.5, -3, tensor.F16ToF32(tensor.F32ToF16(0.1))}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%T: %v, want %v", b, got, want)
			}
		}
		b.Free(dst)
		mustPanic(t, "write after free", func() { tensor.WriteFloat32(b, dst, make([]float32, 4)) })
	}
}
