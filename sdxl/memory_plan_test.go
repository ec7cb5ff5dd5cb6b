package sdxl

import (
	"os"
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/tensor"
)

// The tiny model's plan: its weights are the checkpoint's bytes, and a
// step and a decode at a larger size plan more.
func TestPlanMemoryOfTheTinyModel(t *testing.T) {
	b := newTestCPU(t)
	m, err := LoadModel(refdata.TinyCheckpoint(t), b)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.Precision = Precision{Text: tensor.F16, UNet: tensor.F16, VAE: tensor.BF16}
	small, err := m.PlanMemory(64, 64, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	large, err := m.PlanMemory(128, 128, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("64², batch 1: %v; 128², batch 2: %v", small, large)
	var stored int64
	for _, n := range m.src.Names() {
		e, _ := m.src.Lookup(n)
		stored += int64(e.Shape.NumElements() * e.DType.Size())
	}
	if small.Weights > stored || small.Weights < stored*99/100 {
		t.Errorf("planned weights %d bytes, the checkpoint holds %d", small.Weights, stored)
	}
	if !(large.UNetStep > small.UNetStep && large.VAEDecode > 3*small.VAEDecode && small.UNetStep > 0) {
		t.Errorf("plans do not grow with the size: %v then %v", small, large)
	}
	if st, err := os.Stat(refdata.TinyCheckpoint(t)); err == nil && stored > st.Size() {
		t.Errorf("the tensors' bytes (%d) exceed the file (%d)", stored, st.Size())
	}
}
