package sdxl

import (
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
	"github.com/gosdxl/gosdxl/weights"
)

// The tiny reference checkpoint as the model tests use it.

// tinyUNetConfig is tiny-sdxl-a's configuration, as expected-inspect.json
// gives it plus the two widths the JSON leaves out.
var tinyUNetConfig = weights.UNetConfig{
	Channels: []int{64, 128, 128}, TransformerDepth: []int{0, 1, 2}, MidTransformerDepth: 2,
	Heads: []int{0, 2, 2}, ContextDim: 192, ADMInChannels: 288, TimeEmbedDim: 256,
	InChannels: 4, OutChannels: 4, ResBlocksPerLevel: 2, PooledDim: 96,
}

var tinyVAEConfig = weights.VAEConfig{Channels: []int{32, 32, 64, 64}, LatentChannels: 4}

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

// bindPart binds network under prefix from src on b and fails unless every
// tensor of src under prefix was used.
func bindPart(t testing.TB, b tensor.Backend, src weights.Source, prefix string, network any) {
	t.Helper()
	bd := weights.NewBinder(b, src)
	bd.Bind(prefix, network)
	requireAllBound(t, bd, prefix)
}

// requireAllBound fails on a binding error, or when a tensor of the source
// under one of prefixes was bound to nothing: a network that leaves
// weights of its own part unread is declared wrong.
func requireAllBound(t testing.TB, bd *weights.Binder, prefixes ...string) {
	t.Helper()
	if err := bd.Err(); err != nil {
		t.Fatal(err)
	}
	var unused []string
	for _, name := range bd.Unused() {
		for _, p := range prefixes {
			if strings.HasPrefix(name, p) {
				unused = append(unused, name)
				break
			}
		}
	}
	if len(unused) > 0 {
		t.Fatalf("%d tensors under %v bound to nothing, the first %s", len(unused), prefixes, unused[0])
	}
}

func newTestCPU() tensor.Backend { return cpu.New() }
