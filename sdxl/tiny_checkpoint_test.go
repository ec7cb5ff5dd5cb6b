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
	freeAtEnd(t, b, bd.Tensors()...)
	requireAllBound(t, bd, prefix)
}

// freeInputs frees the tensors of UNet calls, each once (calls may share
// tensors).
func freeInputs(b tensor.Backend, ins ...UNetInput) {
	seen := map[*tensor.Tensor]bool{nil: true}
	for _, in := range ins {
		for _, x := range []*tensor.Tensor{in.Sample, in.Context, in.TextEmbeds} {
			if !seen[x] {
				seen[x] = true
				b.Free(x)
			}
		}
	}
}

// freeAtEnd frees ts when t ends (before its leak check, which was
// registered earlier).
func freeAtEnd(t testing.TB, b tensor.Backend, ts ...*tensor.Tensor) {
	t.Cleanup(func() {
		for _, x := range ts {
			b.Free(x)
		}
	})
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

// newTestCPU is a fresh CPU backend (strict under go test) whose every
// allocation must be freed by the end of t.
func newTestCPU(t testing.TB) tensor.Backend {
	b := cpu.New()
	requireNoLeaks(t, b)
	return b
}

// requireNoLeaks fails t if a tensor allocated on b from now on is still
// live when t ends, listing each with its allocation site. Only a strict
// CPU backend keeps the record; on others it checks nothing.
func requireNoLeaks(t testing.TB, b tensor.Backend) {
	t.Helper()
	cb, ok := b.(*cpu.Backend)
	if !ok {
		return
	}
	mark := cb.Mark()
	t.Cleanup(func() {
		live := cb.LiveSince(mark)
		for i, a := range live {
			if i == 5 {
				t.Errorf("... and %d more", len(live)-i)
				break
			}
			t.Errorf("leak: %v", a)
		}
	})
}
