package sdxl

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sync"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// Helpers every sdxl test shares: where the reference data lives, a reader
// for the golden safetensors files and the measures results are judged by.
// The reader is a minimal one of its own (not the weights package), so
// these tests check the model and the pipeline, not the loader.

// refDir is testdata/reference seen from this package's directory, where
// `go test` and the GPU bundle both run the sdxl tests.
const refDir = "../testdata/reference/"

// componentTol bounds the relative L2 of a float32 text encoder, UNet or
// VAE output against its golden: the reference README's suggested bound,
// 5x under the smallest plausible mistake it lists (tanh GELU, 1.7e-4) and
// well over the measured float32-vs-float64 spread (at most 4.0e-6, the
// VAE encoder; 5.2e-7 for the text encoders, 7.2e-7 for the UNet).
const componentTol = 1e-5

// goldenTensor is one tensor of a golden file, widened to float32. Images
// and latents are NCHW, as diffusers stores them.
type goldenTensor struct {
	shape []int
	data  []float32
}

var referenceGoldens = sync.OnceValues(func() (map[string]goldenTensor, error) {
	return readSafetensorsF32(refDir + "tiny-sdxl-a-goldens.safetensors")
})

// golden returns one tensor of tiny-sdxl-a-goldens.safetensors (read once).
func golden(t testing.TB, name string) goldenTensor {
	t.Helper()
	all, err := referenceGoldens()
	if err != nil {
		t.Fatal(err)
	}
	return goldenIn(t, all, name)
}

// readGoldens reads a golden file, or a dump the pipeline wrote in the
// same format.
func readGoldens(t testing.TB, path string) map[string]goldenTensor {
	t.Helper()
	g, err := readSafetensorsF32(path)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// goldenIn returns the tensor name of a file read by readGoldens.
func goldenIn(t testing.TB, g map[string]goldenTensor, name string) goldenTensor {
	t.Helper()
	v, ok := g[name]
	if !ok {
		t.Fatalf("golden %q not found", name)
	}
	return v
}

// readSafetensorsF32 reads the F32 tensors of a safetensors file, and its
// I64 ones (DPM-Solver's integer timesteps) widened to float32; tensors of
// other types (the 8-bit images) are left out.
func readSafetensorsF32(path string) (map[string]goldenTensor, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw) < 8 {
		return nil, fmt.Errorf("%s: too short for a safetensors file", path)
	}
	n := binary.LittleEndian.Uint64(raw[:8])
	if n > uint64(len(raw)-8) {
		return nil, fmt.Errorf("%s: header of %d bytes overruns the file", path, n)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &header); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	body := raw[8+n:]
	out := map[string]goldenTensor{}
	for name, msg := range header {
		if name == "__metadata__" {
			continue
		}
		var h struct {
			DType   string `json:"dtype"`
			Shape   []int  `json:"shape"`
			Offsets [2]int `json:"data_offsets"`
		}
		if err := json.Unmarshal(msg, &h); err != nil {
			return nil, fmt.Errorf("%s: %s: %v", path, name, err)
		}
		if h.Offsets[0] < 0 || h.Offsets[0] > h.Offsets[1] || h.Offsets[1] > len(body) {
			return nil, fmt.Errorf("%s: %s: data offsets %v outside the file", path, name, h.Offsets)
		}
		b := body[h.Offsets[0]:h.Offsets[1]]
		var data []float32
		switch h.DType {
		case "F32":
			data = make([]float32, len(b)/4)
			for i := range data {
				data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		case "I64":
			data = make([]float32, len(b)/8)
			for i := range data {
				data[i] = float32(int64(binary.LittleEndian.Uint64(b[8*i:])))
			}
		default:
			continue
		}
		out[name] = goldenTensor{shape: h.Shape, data: data}
	}
	return out, nil
}

// relL2 is ||got − want|| / ||want||, in float64; +Inf when the lengths
// differ.
func relL2(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var num, den float64
	for i := range want {
		d := float64(got[i]) - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(num / den)
}

// checkRel fails when rel is not within tol (NaN fails) and logs it
// otherwise, so a verbose run prints every measured value.
func checkRel(t testing.TB, what string, rel, tol float64) {
	t.Helper()
	if !(rel <= tol) {
		t.Errorf("%s: relative L2 %.3g > %g", what, rel, tol)
	} else {
		t.Logf("%s: relative L2 %.3g (bound %g)", what, rel, tol)
	}
}

// checkFinite fails when any value of v is NaN or ±Inf.
func checkFinite(t testing.TB, what string, v []float32) {
	t.Helper()
	bad, first := 0, -1
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			if bad == 0 {
				first = i
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d values are NaN or Inf, the first %v at %d", what, bad, len(v), v[first], first)
	}
}

// nchwTensor uploads an NCHW golden as a channels-last F32 tensor.
func nchwTensor(b tensor.Backend, g goldenTensor) *tensor.Tensor {
	n, c, h, w := g.shape[0], g.shape[1], g.shape[2], g.shape[3]
	return b.FromFloat32(tensor.F32, tensor.Shape{n, h, w, c}, NCHWToNHWC(g.data, n, c, h, w))
}

// asNCHW reads a channels-last result back in the NCHW layout of the
// golden it is compared with, failing when the shapes disagree.
func asNCHW(t testing.TB, b tensor.Backend, got *tensor.Tensor, want goldenTensor) []float32 {
	t.Helper()
	n, c, h, w := want.shape[0], want.shape[1], want.shape[2], want.shape[3]
	if !got.Shape().Equal(tensor.Shape{n, h, w, c}) {
		t.Fatalf("result shape %v, want NHWC of the golden's %v", got.Shape(), want.shape)
	}
	return NHWCToNCHW(b.ToFloat32(got), n, h, w, c)
}

// relL2NCHW is the relative L2 of a channels-last result against an NCHW
// golden.
func relL2NCHW(t testing.TB, b tensor.Backend, got *tensor.Tensor, want goldenTensor) float64 {
	t.Helper()
	return relL2(asNCHW(t, b, got, want), want.data)
}

// compareNCHW checks a channels-last float32 result against an NCHW golden
// within componentTol.
func compareNCHW(t testing.TB, what string, b tensor.Backend, got *tensor.Tensor, want goldenTensor) {
	t.Helper()
	g := asNCHW(t, b, got, want)
	checkFinite(t, what, g)
	checkRel(t, what, relL2(g, want.data), componentTol)
}
