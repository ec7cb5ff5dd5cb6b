package sdxl

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteSafetensorsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dump.safetensors")
	in := map[string]Float32Tensor{
		"unet/out": {Shape: []int{1, 2, 3}, Data: []float32{1, -2, 3.5, 0, 1e-30, -7}},
		"a":        {Shape: []int{1}, Data: []float32{42}},
	}
	if err := WriteSafetensors(path, in); err != nil {
		t.Fatal(err)
	}
	got, err := readSafetensorsF32(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("read %d tensors, wrote %d", len(got), len(in))
	}
	for name, want := range in {
		g := got[name]
		if fmt.Sprint(g.shape) != fmt.Sprint(want.Shape) || fmt.Sprint(g.data) != fmt.Sprint(want.Data) {
			t.Errorf("%s: read %v %v, wrote %v %v", name, g.shape, g.data, want.Shape, want.Data)
		}
	}
}

func TestWriteSafetensorsRejectsWrongSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.safetensors")
	err := WriteSafetensors(path, map[string]Float32Tensor{"x": {Shape: []int{2, 2}, Data: []float32{1}}})
	if err == nil {
		t.Fatal("a tensor with 1 value for shape [2 2] was written")
	}
}

func TestLayoutConversionsInvert(t *testing.T) {
	const n, c, h, w = 2, 3, 4, 5
	src := make([]float32, n*c*h*w)
	for i := range src {
		src[i] = float32(i)
	}
	nhwc := NCHWToNHWC(src, n, c, h, w)
	// Element (b=1, c=2, y=3, x=4) of NCHW sits at channels-last index ((1·4+3)·5+4)·3+2.
	if got, want := nhwc[((1*h+3)*w+4)*c+2], src[((1*c+2)*h+3)*w+4]; got != want {
		t.Fatalf("NCHWToNHWC moved the element to %v, want %v", got, want)
	}
	back := NHWCToNCHW(nhwc, n, h, w, c)
	if fmt.Sprint(back) != fmt.Sprint(src) {
		t.Fatal("NHWCToNCHW does not invert NCHWToNHWC")
	}
}

// Shapes whose element count overflows or is negative are refused, not
// written with a wrapped-around size (this used to index out of range).
func TestWriteSafetensorsRejectsOverflowingShape(t *testing.T) {
	dir := t.TempDir()
	for _, shape := range [][]int{{1 << 62, 1 << 62}, {-1, -1}, {1 << 31, 1 << 31, 4}} {
		err := WriteSafetensors(filepath.Join(dir, "x.safetensors"), map[string]Float32Tensor{"x": {Shape: shape}})
		if err == nil {
			t.Errorf("shape %v with no data was written", shape)
		}
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("refused dumps left %d files", len(es))
	}
}
