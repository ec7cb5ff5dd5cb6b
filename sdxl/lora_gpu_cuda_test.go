//go:build cuda

package sdxl

import (
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/lora"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// On the GPU a merge goes through the same float32 host arithmetic and
// rounds once on upload, so the merged weights must equal the CPU's bit for
// bit, and unmerging must give back the weights as loaded (converted again
// where the load converted them).
func TestGPULoRAMergeMatchesCPU(t *testing.T) {
	g := newGPU(t)
	gm, err := LoadModel(refdata.TinyCheckpoint(t), g)
	if err != nil {
		t.Fatal(err)
	}
	defer gm.Close()
	// The CPU model binds its weights in the GPU model's types (the VAE
	// converted to BF16 at load): only the weights are compared, never
	// computed with.
	cm, err := LoadModelWith(refdata.TinyCheckpoint(t), cpu.New(), LoadOptions{Precision: gm.Precision})
	if err != nil {
		t.Fatal(err)
	}
	defer cm.Close()
	loaded := snapshot(gm)

	adapters := testAdapters(t)
	dir := t.TempDir()
	uses := []lora.Use{
		{File: writeAdapter(t, dir, "kohya", adapters["kohya"]), Name: "kohya", UNet: 0.8, Text: 0.5},
		{File: writeAdapter(t, dir, "loha", adapters["loha"]), Name: "loha", UNet: -1.5, Text: -1},
		{File: writeAdapter(t, dir, "lokr", adapters["lokr"]), Name: "lokr", UNet: 1, Text: 1},
	}
	for _, m := range []*Model{gm, cm} {
		if err := m.ApplyLoRAs(uses); err != nil {
			t.Fatal(err)
		}
	}
	syncOrFatal(t, g)
	compareSnapshots(t, "merged on the GPU vs on the CPU", snapshot(gm), snapshot(cm))
	if err := gm.ApplyLoRAs(nil); err != nil {
		t.Fatal(err)
	}
	compareSnapshots(t, "unmerged on the GPU vs as loaded", snapshot(gm), loaded)
}

func compareSnapshots(t *testing.T, what string, got, want map[string][]uint32) {
	t.Helper()
	for name, w := range want {
		g := got[name]
		for i := range w {
			if g[i] != w[i] {
				t.Fatalf("%s: %s element %d: %08x, want %08x", what, name, i, g[i], w[i])
			}
		}
	}
}
