package sampler

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sync"
	"testing"
)

// The reference data lives in the repository, relative to this package.
const (
	rngGoldensPath   = "../testdata/reference/rng-goldens.safetensors"
	tinyGoldensPath  = "../testdata/reference/tiny-sdxl-a-goldens.safetensors"
	tinyCasesPath    = "../testdata/reference/tiny-sdxl-a-cases.json"
	goldenHeaderSize = 8
)

// goldenFile is a float32-only reading of a safetensors file: enough for
// the scheduler and RNG goldens, and independent of the weights package.
type goldenFile struct {
	path    string
	tensors map[string][]float32
}

func readGoldenFile(path string) (*goldenFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw) < goldenHeaderSize {
		return nil, fmt.Errorf("%s: too short", path)
	}
	n := binary.LittleEndian.Uint64(raw)
	if uint64(len(raw)) < goldenHeaderSize+n {
		return nil, fmt.Errorf("%s: header runs past the end", path)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw[goldenHeaderSize:goldenHeaderSize+n], &header); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	data := raw[goldenHeaderSize+n:]
	f := &goldenFile{path: path, tensors: map[string][]float32{}}
	for name, msg := range header {
		if name == "__metadata__" {
			continue
		}
		var info struct {
			DType   string `json:"dtype"`
			Offsets [2]int `json:"data_offsets"`
		}
		if err := json.Unmarshal(msg, &info); err != nil {
			return nil, fmt.Errorf("%s: tensor %s: %v", path, name, err)
		}
		if info.DType != "F32" {
			continue
		}
		b := data[info.Offsets[0]:info.Offsets[1]]
		vals := make([]float32, len(b)/4)
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		f.tensors[name] = vals
	}
	return f, nil
}

func (f *goldenFile) get(t *testing.T, name string) []float32 {
	t.Helper()
	v, ok := f.tensors[name]
	if !ok {
		t.Fatalf("%s: no tensor %q", f.path, name)
	}
	return v
}

var (
	goldenCacheMu sync.Mutex
	goldenCache   = map[string]*goldenFile{}
)

// loadGolden reads a golden file once per test binary.
func loadGolden(t *testing.T, path string) *goldenFile {
	t.Helper()
	goldenCacheMu.Lock()
	defer goldenCacheMu.Unlock()
	if f, ok := goldenCache[path]; ok {
		return f
	}
	f, err := readGoldenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	goldenCache[path] = f
	return f
}

// sameBits reports the first index where two float32 slices differ in
// their bit patterns, or -1.
func firstBitDifference(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}
