package main

import (
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/sdxl"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// gen serve and gen worker take --vae-precision as gen does, checked
// before anything is loaded.
func TestResidentCommandsCheckVAEPrecision(t *testing.T) {
	_, err := parseServeOptions([]string{"--vae-precision", "half"})
	if err == nil || !strings.Contains(err.Error(), `--vae-precision "half": must be auto, fp32 or bf16`) {
		t.Errorf("gen serve --vae-precision half: %v", err)
	}
	_, err = parseWorkerOptions([]string{"--queue", "nats://127.0.0.1:4222", "--device", "cpu", "--vae-precision", "bf16"})
	if err == nil || !strings.Contains(err.Error(), "--vae-precision bf16 needs the GPU") {
		t.Errorf("gen worker --device cpu --vae-precision bf16: %v", err)
	}
	if _, err := parseServeOptions([]string{"--vae-precision", "fp32"}); err != nil {
		t.Errorf("gen serve --vae-precision fp32: %v", err)
	}
}

func TestLoadPrecisionOnTheCPU(t *testing.T) {
	b := cpu.New()
	for value, want := range map[string]tensor.DType{"auto": tensor.F32, "fp32": tensor.F32} {
		p, err := loadPrecision("--vae-precision", value, b)
		if err != nil || p.VAE != want || p.UNet != sdxl.DefaultPrecision(b).UNet {
			t.Errorf("%s: %+v, %v; want the CPU's default with the VAE in %v", value, p, err, want)
		}
	}
	// --device auto that found no GPU: bf16 is refused by name, not ignored.
	if _, err := loadPrecision("--vae-precision", "bf16", b); err == nil || !strings.Contains(err.Error(), "this run is on the CPU") {
		t.Errorf("bf16 on the CPU: %v", err)
	}
}
