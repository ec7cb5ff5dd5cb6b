package sdxl

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// Random weights with the tensor names and shapes of the real, full-size
// SDXL checkpoint, from its manifest (no weight values are stored).

// sdxlBaseUNetConfig is "sdxl-base" of expected-inspect.json plus the two
// widths the JSON leaves out.
var sdxlBaseUNetConfig = weights.UNetConfig{
	Channels: []int{320, 640, 1280}, TransformerDepth: []int{0, 2, 10}, MidTransformerDepth: 10,
	Heads: []int{0, 10, 20}, ContextDim: 2048, ADMInChannels: 2816, TimeEmbedDim: 1280,
	InChannels: 4, OutChannels: 4, ResBlocksPerLevel: 2, PooledDim: 1280,
}

// randomSource serves the tensors of the SDXL manifest under one prefix
// with random F16 values (randomF16), made when the binder asks for them.
type randomSource struct {
	prefix string
	shapes map[string]tensor.Shape
	names  []string // sorted
}

// newRandomSource lists the tensors of manifest-sdxl-sgm.json under
// prefix, e.g. weights.UNetPrefix (2.6 G parameters) or weights.VAEPrefix
// (84 M).
func newRandomSource(t testing.TB, prefix string) *randomSource {
	t.Helper()
	const manifest = "manifest-sdxl-sgm.json"
	raw, err := os.ReadFile(refDir + manifest)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Files map[string]struct {
			Tensors map[string]struct {
				Shape []int `json:"shape"`
			} `json:"tensors"`
		} `json:"files"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", manifest, err)
	}
	s := &randomSource{prefix: prefix, shapes: map[string]tensor.Shape{}}
	for _, f := range m.Files {
		for name, e := range f.Tensors {
			if strings.HasPrefix(name, prefix) {
				s.shapes[name] = e.Shape
				s.names = append(s.names, name)
			}
		}
	}
	if len(s.names) == 0 {
		t.Fatalf("%s has no tensors under %s", manifest, prefix)
	}
	sort.Strings(s.names)
	return s
}

func (s *randomSource) Names() []string { return s.names }
func (s *randomSource) Path() string    { return "random full-size SDXL weights under " + s.prefix }
func (s *randomSource) Close() error    { return nil }

func (s *randomSource) Lookup(name string) (weights.Entry, bool) {
	shape, ok := s.shapes[name]
	if !ok {
		return weights.Entry{}, false
	}
	return weights.Entry{DType: tensor.F16, Shape: shape, Bytes: func() ([]byte, error) {
		return randomF16(name, shape), nil
	}}, true
}

// randomF16 makes the values of one tensor, the same for the same name and
// shape: weights uniform with variance 1/fan-in (activations stay O(1)
// through 70 layers), norm scales 1, biases small.
func randomF16(name string, shape tensor.Shape) []byte {
	n := shape.NumElements()
	out := make([]byte, 2*n)
	isNorm := strings.Contains(name, "norm") || strings.HasSuffix(name, "in_layers.0.weight") ||
		strings.HasSuffix(name, "out_layers.0.weight") || strings.HasSuffix(name, "out.0.weight")
	if isNorm && len(shape) == 1 && strings.HasSuffix(name, ".weight") {
		one := tensor.F32ToF16(1)
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint16(out[2*i:], one)
		}
		return out
	}
	scale := float32(0.02)
	if len(shape) > 1 {
		fanIn := shape.NumElements() / shape[0]
		scale = float32(math.Sqrt(3 / float64(fanIn)))
	}
	x := uint32(len(name)*2654435761 + n)
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		v := (float32(x)/math.MaxUint32*2 - 1) * scale
		binary.LittleEndian.PutUint16(out[2*i:], tensor.F32ToF16(v))
	}
	return out
}
