//go:build cuda

package sdxl

import (
	"encoding/json"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// fullSizeSource serves the tensors of the real SDXL checkpoint's manifest
// under one prefix with random F16 values (randomF16: variance 1/fan-in,
// norm scales 1, small biases). Unlike randomSource it makes all of them
// up front on every core and keeps the bytes, so that the GPU and the CPU
// bind the same weights without generating 5 GB twice.
type fullSizeSource struct {
	entries map[string]weights.Entry
	names   []string
}

var (
	fullSizeMu      sync.Mutex
	fullSizeSources = map[string]*fullSizeSource{}
)

// randomFullSize returns the (shared) source for prefix, e.g.
// weights.UNetPrefix (2.6 G parameters) or weights.VAEPrefix (84 M).
func randomFullSize(t testing.TB, prefix string) *fullSizeSource {
	t.Helper()
	fullSizeMu.Lock()
	defer fullSizeMu.Unlock()
	if s, ok := fullSizeSources[prefix]; ok {
		return s
	}
	raw, err := os.ReadFile(modelRefDir + "manifest-sdxl-sgm.json")
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
		t.Fatalf("manifest-sdxl-sgm.json: %v", err)
	}
	shapes := map[string]tensor.Shape{}
	for _, f := range m.Files {
		for name, e := range f.Tensors {
			if strings.HasPrefix(name, prefix) {
				shapes[name] = e.Shape
			}
		}
	}
	if len(shapes) == 0 {
		t.Fatalf("manifest-sdxl-sgm.json has no tensors under %s", prefix)
	}
	s := &fullSizeSource{entries: map[string]weights.Entry{}}
	for name := range shapes {
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)

	data := make([][]byte, len(s.names))
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				data[i] = randomF16(s.names[i], shapes[s.names[i]])
			}
		}()
	}
	for i := range s.names {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, name := range s.names {
		b := data[i]
		s.entries[name] = weights.Entry{DType: tensor.F16, Shape: shapes[name], Bytes: func() ([]byte, error) { return b, nil }}
	}
	fullSizeSources[prefix] = s
	return s
}

func (s *fullSizeSource) Names() []string { return s.names }
func (s *fullSizeSource) Path() string    { return "random full-size SDXL weights" }
func (s *fullSizeSource) Close() error    { return nil }

func (s *fullSizeSource) Lookup(name string) (weights.Entry, bool) {
	e, ok := s.entries[name]
	return e, ok
}

// sdxlBaseVAEConfig is the full-size VAE (block_out_channels 128…512).
var sdxlBaseVAEConfig = weights.VAEConfig{Channels: []int{128, 256, 512, 512}, LatentChannels: 4}

// bindFullSize binds network under prefix from the random source on b and
// fails unless every tensor under prefix was used.
func bindFullSize(t testing.TB, b tensor.Backend, prefix string, network any) {
	t.Helper()
	bd := weights.NewBinder(b, randomFullSize(t, prefix))
	bd.Bind(prefix, network)
	if err := bd.Err(); err != nil {
		t.Fatal(err)
	}
	if unused := bd.Unused(); len(unused) > 0 {
		t.Fatalf("%d manifest tensors unused, first %s", len(unused), unused[0])
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
}
