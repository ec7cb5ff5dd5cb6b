//go:build cuda

package main

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gosdxl/gosdxl/internal/synthckpt"
	"github.com/gosdxl/gosdxl/kernels"
	"github.com/gosdxl/gosdxl/tensor"
)

// TestCUDAImageMatchesCPU runs `gen` in-process on the tiny checkpoint with
// --device cuda and with --device cpu, same seed and settings, and compares
// the PNGs: the CUDA path end to end (flags, model load and upload, text
// encoders and UNet in F16, sampler, VAE in BF16, PNG) against the exact
// reference. 64×64 and 2 steps keep it within minutes on the emulated
// driver (`make test-cuda-emulated`); on a GPU it takes seconds. The bound
// is fp16's: a kernel mistake costs far more than 30 dB (measured on the
// emulated driver: see docs/gpu-results.md).
func TestCUDAImageMatchesCPU(t *testing.T) {
	if !kernels.Available() {
		t.Skip("no CUDA device")
	}
	model := tinyModel(t)
	dir := t.TempDir()
	for _, c := range []struct {
		name  string
		extra []string
	}{
		{"txt2img", nil},
		{"img2img", []string{"--init-image", refDir + "tiny-sdxl-a-i2i-input.png", "--strength", "0.6"}},
		// A hires pass at 1.5×: latents 12×12 → 6 → 3, odd skip sizes
		// resized on the device; both passes' steps replayed from a graph.
		{"hires", []string{"--width", "64", "--height", "64", "--hires-scale", "1.5", "--hires-steps", "3"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := c.extra
			if args == nil {
				args = []string{"--width", "64", "--height", "64"}
			}
			compareDevices(t, model, filepath.Join(dir, c.name), args...)
		})
	}
}

// TestCUDAImageMatchesCPUOnSyntheticCheckpoints does the same on random
// checkpoints of other shapes (internal/synthckpt: other widths, 3 and 4
// heads) stored in F16 and in BF16, which the loader and the kernels read
// in their own type.
func TestCUDAImageMatchesCPUOnSyntheticCheckpoints(t *testing.T) {
	if !kernels.Available() {
		t.Skip("no CUDA device")
	}
	for _, v := range synthckpt.Variants() {
		for _, dt := range []tensor.DType{tensor.F16, tensor.BF16} {
			name := fmt.Sprintf("%s-%v", v.Name, dt)
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				model := filepath.Join(dir, name+".safetensors")
				if err := synthckpt.Write(model, v.Config, dt, 3); err != nil {
					t.Fatal(err)
				}
				compareDevices(t, model, filepath.Join(dir, name), "--width", "64", "--height", "64")
			})
		}
	}
}

// compareDevices runs gen with model on the CPU and on CUDA (2 steps, the
// reference prompts, a fixed seed, plus args), writing PNGs beside prefix,
// and requires 30 dB PSNR between the two images.
func compareDevices(t *testing.T, model, prefix string, args ...string) {
	t.Helper()
	prompt, negative := refPrompts(t)
	var images [2][]uint8
	for i, device := range []string{"cpu", "cuda"} {
		out := fmt.Sprintf("%s-%s.png", prefix, device)
		all := append([]string{"--model", model, "-p", prompt, "-n", negative, "--steps", "2", "--seed", "77",
			"--device", device, "--out", out, "-q"}, args...)
		code, _, errOut := runCapture(t, all...)
		if code != 0 {
			t.Fatalf("gen --device %s: exit %d: %s", device, code, errOut)
		}
		images[i] = readRGB(t, out)
	}
	if len(images[0]) != len(images[1]) {
		t.Fatalf("cpu image has %d values, cuda %d", len(images[0]), len(images[1]))
	}
	if flat(images[0]) {
		t.Fatal("the CPU image is one flat colour: comparing it proves nothing")
	}
	db := psnr(images[1], images[0])
	t.Logf("PSNR of --device cuda against --device cpu: %.1f dB (%d pixels)", db, len(images[0])/3)
	if !(db >= 30) {
		t.Errorf("PSNR %.1f dB, want ≥ 30", db)
	}
}

// flat reports whether every pixel has the same value in each channel.
func flat(rgb []uint8) bool {
	for i := 3; i < len(rgb); i++ {
		if rgb[i] != rgb[i%3] {
			return false
		}
	}
	return true
}
