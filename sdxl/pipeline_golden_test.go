package sdxl

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
)

// Test helpers for the pipeline goldens: a minimal safetensors reader for
// the float32 golden file (independent of the weights package, so these
// tests check the pipeline, not the loader) and error measures.

const pipeRefDir = "../testdata/reference/"

type pipeGolden struct {
	shape []int
	data  []float32
}

// pipeReadGoldens reads every F32 tensor of a safetensors file, and I64
// tensors widened to float32.
func pipeReadGoldens(t testing.TB, path string) map[string]pipeGolden {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(raw[:8])
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &header); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	body := raw[8+n:]
	out := map[string]pipeGolden{}
	for name, msg := range header {
		if name == "__metadata__" {
			continue
		}
		var e struct {
			DType   string  `json:"dtype"`
			Shape   []int   `json:"shape"`
			Offsets []int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(msg, &e); err != nil {
			t.Fatalf("%s: %s: %v", path, name, err)
		}
		b := body[e.Offsets[0]:e.Offsets[1]]
		var v []float32
		switch e.DType {
		case "F32":
			v = make([]float32, len(b)/4)
			for i := range v {
				v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		case "I64": // integer timesteps of DPM-Solver
			v = make([]float32, len(b)/8)
			for i := range v {
				v[i] = float32(int64(binary.LittleEndian.Uint64(b[8*i:])))
			}
		default:
			continue
		}
		out[name] = pipeGolden{e.Shape, v}
	}
	return out
}

func pipeGoldenTensor(t testing.TB, g map[string]pipeGolden, name string) pipeGolden {
	t.Helper()
	v, ok := g[name]
	if !ok {
		t.Fatalf("golden %s missing", name)
	}
	return v
}

// relL2 is ||got − want|| / ||want||, in float64.
func relL2(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var num, den float64
	for i := range got {
		d := float64(got[i]) - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(num / den)
}

// psnr8 is the PSNR in dB of two 8-bit images of the same size
// (+Inf when identical).
func psnr8(a, b []uint8) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("sizes differ: %d vs %d", len(a), len(b))
	}
	var se float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		se += d * d
	}
	if se == 0 {
		return math.Inf(1), nil
	}
	return 10 * math.Log10(255*255/(se/float64(len(a)))), nil
}

// nhwcToCHW turns a golden image [1, H, W, 3] into [3, H, W].
func nhwcToCHW(v []float32, h, w int) []float32 {
	out := make([]float32, len(v))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				out[c*h*w+y*w+x] = v[(y*w+x)*3+c]
			}
		}
	}
	return out
}
