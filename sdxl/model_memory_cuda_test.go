//go:build cuda

package sdxl

import (
	"slices"
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/prompt"
)

// Between two encodes, ReleaseCachedMemory gives every idle block back and
// keeps the weights: the pool then holds only what is in use, and the
// second encode computes exactly what the first did.
func TestGPUReleaseCachedMemoryKeepsTheModel(t *testing.T) {
	b := newGPU(t)
	m, err := LoadModel(refdata.TinyCheckpoint(t), b)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	encode := func() []float32 {
		t.Helper()
		c, err := m.text.Encode(b, EncodeOptions{Prompt: "a red fox", Syntax: prompt.SyntaxNone, Width: 64, Height: 64, DType: m.Precision.Text})
		if err != nil {
			t.Fatal(err)
		}
		return c.PromptEmbeds
	}
	first := encode()
	before, ok, err := m.DeviceMemory()
	if err != nil || !ok {
		t.Fatalf("DeviceMemory: ok %v, %v", ok, err)
	}
	freed, err := m.ReleaseCachedMemory()
	if err != nil {
		t.Fatal(err)
	}
	after, _, err := m.DeviceMemory()
	if err != nil {
		t.Fatal(err)
	}
	if freed <= 0 || freed != before.Held-before.InUse || after.Held != after.InUse || after.InUse != before.InUse {
		t.Errorf("released %d bytes: held %d→%d, in use %d→%d; want every idle byte and nothing else",
			freed, before.Held, after.Held, before.InUse, after.InUse)
	}
	if !slices.Equal(encode(), first) {
		t.Error("the encode after releasing memory differs from the one before")
	}
	t.Logf("released %.1f MiB; %.1f MiB in use (the weights)", float64(freed)/(1<<20), float64(after.InUse)/(1<<20))
}
