package dump

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteSafetensorsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dump.safetensors")
	in := map[string]Tensor{
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
	err := WriteSafetensors(path, map[string]Tensor{"x": {Shape: []int{2, 2}, Data: []float32{1}}})
	if err == nil {
		t.Fatal("a tensor with 1 value for shape [2 2] was written")
	}
}

// Shapes whose element count overflows or is negative are refused, not
// written with a wrapped-around size (this used to index out of range).
func TestWriteSafetensorsRejectsOverflowingShape(t *testing.T) {
	dir := t.TempDir()
	for _, shape := range [][]int{{1 << 62, 1 << 62}, {-1, -1}, {1 << 31, 1 << 31, 4}} {
		err := WriteSafetensors(filepath.Join(dir, "x.safetensors"), map[string]Tensor{"x": {Shape: shape}})
		if err == nil {
			t.Errorf("shape %v with no data was written", shape)
		}
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("refused dumps left %d files", len(es))
	}
}

type readTensor struct {
	shape []int
	data  []float32
}

// readSafetensorsF32 reads back an F32 safetensors file the way
// safetensors' own loader does: an 8-byte little-endian header length, a
// JSON header of dtype, shape and data offsets, then the data.
func readSafetensorsF32(path string) (map[string]readTensor, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw) < 8 {
		return nil, fmt.Errorf("%s: too short", path)
	}
	n := binary.LittleEndian.Uint64(raw[:8])
	if n%8 != 0 || n > uint64(len(raw)-8) {
		return nil, fmt.Errorf("%s: header length %d", path, n)
	}
	var header map[string]struct {
		DType   string `json:"dtype"`
		Shape   []int  `json:"shape"`
		Offsets [2]int `json:"data_offsets"`
	}
	if err := json.Unmarshal(raw[8:8+n], &header); err != nil {
		return nil, err
	}
	body := raw[8+n:]
	out := map[string]readTensor{}
	for name, h := range header {
		if h.DType != "F32" || h.Offsets[0] < 0 || h.Offsets[0] > h.Offsets[1] || h.Offsets[1] > len(body) {
			return nil, fmt.Errorf("%s: %s: %s at %v", path, name, h.DType, h.Offsets)
		}
		b := body[h.Offsets[0]:h.Offsets[1]]
		data := make([]float32, len(b)/4)
		for i := range data {
			data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		out[name] = readTensor{h.Shape, data}
	}
	return out, nil
}
