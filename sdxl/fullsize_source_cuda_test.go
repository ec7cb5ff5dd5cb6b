//go:build cuda

package sdxl

import (
	"runtime"
	"sync"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// fullSizeSource serves the same tensors and values as a randomSource.
// Unlike randomSource it makes all of them up front on every core and
// keeps the bytes, so that the GPU and the CPU bind the same weights
// without generating 5 GB twice.
type fullSizeSource struct {
	entries map[string]weights.Entry
	names   []string
}

var (
	fullSizeMu      sync.Mutex
	fullSizeSources = map[string]*fullSizeSource{}
)

// randomFullSize returns the (shared) source for prefix.
func randomFullSize(t testing.TB, prefix string) *fullSizeSource {
	t.Helper()
	fullSizeMu.Lock()
	defer fullSizeMu.Unlock()
	if s, ok := fullSizeSources[prefix]; ok {
		return s
	}
	listed := newRandomSource(t, prefix)
	shapes := listed.shapes
	s := &fullSizeSource{entries: map[string]weights.Entry{}, names: listed.names}

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
	bindPart(t, b, randomFullSize(t, prefix), prefix, network)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
}
