//go:build cuda

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosdxl/gosdxl/internal/synthckpt"
	"github.com/gosdxl/gosdxl/kernels"
	"github.com/gosdxl/gosdxl/tensor"
)

// TestGPUGen1024EndToEnd is `gen` as a user runs it, at full size: a random
// checkpoint with the real SDXL shapes (6.9 GB, F16, written first), one
// 1024×1024 image in 28 steps on the GPU. It reports the wall time of the
// whole command and gen's own load time and memory report (-v), and requires
// an image that is not one flat colour. It needs a real GPU and several GB
// of disk, so it runs only when GOSDXL_GPU_E2E=1 (the GPU bundle sets it);
// on the emulated driver a single full-size step would take hours.
func TestGPUGen1024EndToEnd(t *testing.T) {
	if os.Getenv("GOSDXL_GPU_E2E") != "1" {
		t.Skip("GOSDXL_GPU_E2E=1 not set (full-size end-to-end run, real GPU only)")
	}
	if !kernels.Available() {
		t.Fatal("GOSDXL_GPU_E2E=1 but no CUDA device")
	}
	dir := t.TempDir()
	cfg, _ := fullSizeConfig(t)
	model := filepath.Join(dir, "random-sdxl.safetensors")
	start := time.Now()
	if err := synthckpt.Write(model, cfg, tensor.F16, 11); err != nil {
		t.Fatal(err)
	}
	t.Logf("random full-size checkpoint written in %.1f s", time.Since(start).Seconds())

	prompt, negative := refPrompts(t)
	out := filepath.Join(dir, "image.png")
	start = time.Now()
	// --max-memory: a VM's MemTotal can start far below what it grows to;
	// the run should measure the untiled decode of a 1024² image.
	code, _, errOut := runCapture(t, "--model", model, "-p", prompt, "-n", negative, "--steps", "28",
		"--width", "1024", "--height", "1024", "--seed", "5", "--device", "cuda", "--max-memory", "32G",
		"-v", "--out", out)
	wall := time.Since(start)
	for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
		if !strings.Contains(line, "\r") { // progress bars redraw with \r
			t.Log(line)
		}
	}
	if code != 0 {
		t.Fatalf("gen exit %d", code)
	}
	t.Logf("gen end to end, 1024×1024, 28 steps, --device cuda: %.1f s wall", wall.Seconds())
	if !strings.Contains(errOut, "gen: planned device memory for 1024x1024: weights") {
		t.Error("gen -v did not print the planned device memory")
	}
	if flat(readRGB(t, out)) {
		t.Fatal("the image is one flat colour")
	}
}
