package main

import (
	"github.com/gosdxl/gosdxl/sdxl"
	"github.com/gosdxl/gosdxl/tensor"
)

// --vae-precision chooses the type the VAE computes in. On the GPU the
// default is bf16: float32 leaves the tensor cores idle (a 1024² decode took
// 2.4 s on an H200 in float32 on the scalar kernels) and float16 overflows
// SDXL's VAE. fp32 is A1111's --no-half-vae and ComfyUI's --fp32-vae: the
// exact decode, slower. The CPU backend computes in float32 only.
const precisionUsage = `      --vae-precision P    auto (default: bf16 on the GPU, fp32 on the CPU), fp32 or bf16
` + textPrecisionUsage

// checkVAEPrecision validates --vae-precision and --text-precision before
// anything is loaded.
func (o *options) checkVAEPrecision() error {
	if err := checkVAEPrecision(o.flagName("vae-precision"), o.vaePrecision, o.device); err != nil {
		return err
	}
	return checkTextPrecision(o.flagName("text-precision"), o.textPrec, o.device)
}

// loadPrecision is the precision the model is loaded at on b.
func (o *options) loadPrecision(b tensor.Backend) (sdxl.Precision, error) {
	p, err := loadPrecision(o.flagName("vae-precision"), o.vaePrecision, b)
	if err != nil {
		return p, err
	}
	return p, setTextPrecision(&p, o.flagName("text-precision"), o.textPrec, b)
}

// checkVAEPrecision checks the value of flag (--vae-precision as typed)
// against the device asked for.
func checkVAEPrecision(flag, value, device string) error {
	switch value {
	case "auto", "fp32":
	case "bf16":
		if device == "cpu" {
			return usagef("%s bf16 needs the GPU: the CPU backend computes the VAE in float32", flag)
		}
	default:
		return usagef("%s %q: must be auto, fp32 or bf16", flag, value)
	}
	return nil
}

// loadPrecision is the backend's default precision with the VAE as value
// asks (gen, gen serve and gen worker alike).
func loadPrecision(flag, value string, b tensor.Backend) (sdxl.Precision, error) {
	p := sdxl.DefaultPrecision(b)
	switch value {
	case "fp32":
		p.VAE = tensor.F32
	case "bf16":
		if tensor.OnHost(b) { // --device auto found no GPU
			return p, usagef("%s bf16 needs the GPU, and this run is on the CPU", flag)
		}
		p.VAE = tensor.BF16
	}
	return p, nil
}
