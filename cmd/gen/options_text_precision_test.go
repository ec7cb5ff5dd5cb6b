package main

import (
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/sdxl"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// gen, gen serve and gen worker take --text-precision, checked before
// anything is loaded.
func TestTextPrecisionFlagIsChecked(t *testing.T) {
	if _, err := parseServeOptions([]string{"--text-precision", "half"}); err == nil ||
		!strings.Contains(err.Error(), `--text-precision "half": must be auto, fp32, fp16 or bf16`) {
		t.Errorf("gen serve --text-precision half: %v", err)
	}
	if _, err := parseWorkerOptions([]string{"--queue", "nats://127.0.0.1:4222", "--device", "cpu", "--text-precision", "fp16"}); err == nil ||
		!strings.Contains(err.Error(), "--text-precision fp16 needs the GPU") {
		t.Errorf("gen worker --device cpu --text-precision fp16: %v", err)
	}
	for _, v := range []string{"auto", "fp32", "fp16", "bf16"} {
		if _, err := parseServeOptions([]string{"--text-precision", v}); err != nil {
			t.Errorf("gen serve --text-precision %s: %v", v, err)
		}
	}
	o := &options{textPrec: "bf16", vaePrecision: "auto", device: "cpu"}
	if err := o.checkVAEPrecision(); err == nil || !strings.Contains(err.Error(), "--text-precision bf16 needs the GPU") {
		t.Errorf("gen --device cpu --text-precision bf16: %v", err)
	}
}

func TestSetTextPrecision(t *testing.T) {
	b := cpu.New()
	for value, want := range map[string]tensor.DType{"auto": tensor.F32, "fp32": tensor.F32} {
		p := sdxl.DefaultPrecision(b)
		if err := setTextPrecision(&p, "--text-precision", value, b); err != nil || p.Text != want {
			t.Errorf("%s on the CPU: %+v, %v; want the text encoders in %v", value, p, err, want)
		}
	}
	for _, v := range []string{"fp16", "bf16"} {
		p := sdxl.DefaultPrecision(b)
		if err := setTextPrecision(&p, "--text-precision", v, b); err == nil || !strings.Contains(err.Error(), "this run is on the CPU") {
			t.Errorf("%s on the CPU: %v", v, err)
		}
	}
	// On a GPU, auto keeps the default and the others set it.
	gpu := sdxl.Precision{Text: tensor.F16, UNet: tensor.F16, VAE: tensor.BF16}
	for value, want := range map[string]tensor.DType{"auto": tensor.F16, "fp32": tensor.F32, "fp16": tensor.F16, "bf16": tensor.BF16} {
		p := gpu
		if err := setTextPrecision(&p, "--text-precision", value, gpuLike{b}); err != nil || p.Text != want || p.UNet != gpu.UNet || p.VAE != gpu.VAE {
			t.Errorf("%s on a GPU: %+v, %v; want only the text encoders in %v", value, p, err, want)
		}
	}
}

// gpuLike is a backend whose tensors are not host memory, as a GPU's.
type gpuLike struct{ *cpu.Backend }

func (gpuLike) HostResident() bool { return false }
