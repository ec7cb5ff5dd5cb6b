package sdxl

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"sync"
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
	"github.com/gosdxl/gosdxl/weights"
)

// Shared helpers of the UNet and VAE golden tests.

const (
	modelRefDir     = "../testdata/reference/"
	modelGoldenFile = modelRefDir + "tiny-sdxl-a-goldens.safetensors"
	// modelTolerance is the reference README's suggested relative L2 bound
	// for float32 components; its measured float32-vs-float64 spread is
	// ~1e-6 and the smallest plausible mistake it lists lands at 1.7e-4.
	modelTolerance = 1e-5
)

// tinyConfig is tiny-sdxl-a's configuration, as expected-inspect.json gives
// it plus the two widths the JSON leaves out.
var tinyUNetConfig = weights.UNetConfig{
	Channels: []int{64, 128, 128}, TransformerDepth: []int{0, 1, 2}, MidTransformerDepth: 2,
	Heads: []int{0, 2, 2}, ContextDim: 192, ADMInChannels: 288, TimeEmbedDim: 256,
	InChannels: 4, OutChannels: 4, ResBlocksPerLevel: 2, PooledDim: 96,
}

var tinyVAEConfig = weights.VAEConfig{Channels: []int{32, 32, 64, 64}, LatentChannels: 4}

type modelGolden struct {
	shape []int
	data  []float32
}

var (
	modelGoldensOnce sync.Once
	modelGoldens     map[string]modelGolden
	modelGoldensErr  error
)

// loadModelGoldens reads the golden file once.
func loadModelGoldens(t testing.TB) map[string]modelGolden {
	t.Helper()
	modelGoldensOnce.Do(func() {
		modelGoldens, modelGoldensErr = readSafetensorsF32(modelGoldenFile)
	})
	if modelGoldensErr != nil {
		t.Fatal(modelGoldensErr)
	}
	return modelGoldens
}

// readSafetensorsF32 reads the F32 tensors of a safetensors file, and its
// I64 ones (DPM-Solver's integer timesteps) widened to float32.
func readSafetensorsF32(path string) (map[string]modelGolden, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint64(raw[:8])
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &header); err != nil {
		return nil, err
	}
	body := raw[8+n:]
	out := map[string]modelGolden{}
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
			return nil, err
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
		out[name] = modelGolden{shape: h.Shape, data: data}
	}
	return out, nil
}

func golden(t testing.TB, name string) modelGolden {
	t.Helper()
	g, ok := loadModelGoldens(t)[name]
	if !ok {
		t.Fatalf("golden %q not found", name)
	}
	return g
}

// nchwTensor uploads an NCHW golden as a channels-last F32 tensor.
func nchwTensor(b tensor.Backend, g modelGolden) *tensor.Tensor {
	n, c, h, w := g.shape[0], g.shape[1], g.shape[2], g.shape[3]
	return b.FromFloat32(tensor.F32, tensor.Shape{n, h, w, c}, NCHWToNHWC(g.data, n, c, h, w))
}

// openTinyCheckpoint opens the tiny checkpoint with the real loader.
func openTinyCheckpoint(t testing.TB) weights.Source {
	t.Helper()
	src, err := weights.Open(refdata.TinyCheckpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// compareNCHW checks a channels-last result against an NCHW golden.
func compareNCHW(t testing.TB, what string, b tensor.Backend, got *tensor.Tensor, want modelGolden) {
	t.Helper()
	n, c, h, w := want.shape[0], want.shape[1], want.shape[2], want.shape[3]
	if !got.Shape().Equal(tensor.Shape{n, h, w, c}) {
		t.Fatalf("%s: shape %v, want NHWC of %v", what, got.Shape(), want.shape)
	}
	g := NHWCToNCHW(b.ToFloat32(got), n, h, w, c)
	for i, v := range g {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("%s: non-finite value at %d", what, i)
		}
	}
	rel := modelRelL2(g, want.data)
	t.Logf("%s: relative L2 %.3g", what, rel)
	if rel > modelTolerance {
		t.Errorf("%s: relative L2 %.3g > %g", what, rel, modelTolerance)
	}
}

func modelRelL2(got, want []float32) float64 {
	var num, den float64
	for i := range want {
		d := float64(got[i]) - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(num / den)
}

func newTestCPU() tensor.Backend { return cpu.New() }
