package main

import (
	"path/filepath"
	"testing"

	"github.com/gosdxl/gosdxl/internal/loratest"
	"github.com/gosdxl/gosdxl/kernels"
	"github.com/gosdxl/gosdxl/sdxl"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// fullSizeConfig is the configuration of the real SDXL checkpoint layout
// (testdata's manifest, as a sparse file), with its stored bytes.
func fullSizeConfig(t *testing.T) (weights.Config, int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "layout.safetensors")
	if err := loratest.WriteSparseCheckpoint(refDir+"manifest-sdxl-sgm.json", path); err != nil {
		t.Fatal(err)
	}
	src, err := weights.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cfg, err := weights.InferConfig(src)
	if err != nil {
		t.Fatal(err)
	}
	var stored int64
	for _, n := range src.Names() {
		e, _ := src.Lookup(n)
		stored += int64(e.Shape.NumElements() * e.DType.Size())
	}
	return cfg, stored
}

// A 1024² image at the GPU's default precision is planned under the 9 GiB
// goal, with the activations in the CUDA pool's blocks. The plan runs the
// model's own calls on a counting backend; its parts are checked for what
// they must be: the weights are the checkpoint's bytes (F16 stays F16, the
// VAE's BF16 is the same size), and the decode grows with the pixels.
func TestPlannedMemoryOfA1024ImageIsUnderTheGoal(t *testing.T) {
	cfg, stored := fullSizeConfig(t)
	gpu := sdxl.Precision{Text: tensor.F16, UNet: tensor.F16, VAE: tensor.BF16}
	plan, err := sdxl.PlanMemory(cfg, tensor.F16, gpu, 1024, 1024, 1, kernels.SizeClass)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("1024², batch 1: %v", plan)
	if d := float64(plan.Weights-stored) / float64(stored); d < -0.01 || d > 0.001 {
		t.Errorf("planned weights %d bytes, the checkpoint stores %d (%.2f%% apart)", plan.Weights, stored, 100*d)
	}
	const goal = 9 << 30
	if plan.Peak() >= goal {
		t.Errorf("planned peak %.2f GiB, goal under 9 GiB", float64(plan.Peak())/(1<<30))
	}
	small, err := sdxl.PlanMemory(cfg, tensor.F16, gpu, 512, 512, 1, kernels.SizeClass)
	if err != nil {
		t.Fatal(err)
	}
	if !(plan.VAEDecode > 3*small.VAEDecode && plan.UNetStep > small.UNetStep) {
		t.Errorf("4× the pixels: VAE %d → %d bytes, UNet step %d → %d: the plan does not follow the size",
			small.VAEDecode, plan.VAEDecode, small.UNetStep, plan.UNetStep)
	}
}
