package main

import (
	"github.com/gosdxl/gosdxl/sdxl"
	"github.com/gosdxl/gosdxl/tensor"
)

// --text-precision chooses the type both text encoders compute in. On the
// GPU the default is fp16, as diffusers' and A1111's half-precision
// pipelines run CLIP-L and OpenCLIP bigG: float32 runs them on the scalar
// kernels. LayerNorm statistics and the attention softmax stay float32 in
// every type; a checkpoint whose hidden states overflow float16 is reported
// by name, and bf16 (float32's range) or fp32 are the ways out. The CPU
// backend computes in float32 only.
const textPrecisionUsage = `      --text-precision P   the text encoders: auto (default: fp16 on the GPU, fp32 on the CPU),
                           fp32, fp16 or bf16
`

// textPrecisions are --text-precision's half values.
var textPrecisions = map[string]tensor.DType{"fp16": tensor.F16, "bf16": tensor.BF16}

// checkTextPrecision checks the value of flag (--text-precision as typed)
// against the device asked for.
func checkTextPrecision(flag, value, device string) error {
	switch value {
	case "auto", "fp32":
	case "fp16", "bf16":
		if device == "cpu" {
			return usagef("%s %s needs the GPU: the CPU backend computes the text encoders in float32", flag, value)
		}
	default:
		return usagef("%s %q: must be auto, fp32, fp16 or bf16", flag, value)
	}
	return nil
}

// setTextPrecision sets p.Text as value asks; auto keeps the backend's
// default (sdxl.DefaultPrecision).
func setTextPrecision(p *sdxl.Precision, flag, value string, b tensor.Backend) error {
	switch value {
	case "fp32":
		p.Text = tensor.F32
	case "fp16", "bf16":
		if tensor.OnHost(b) { // --device auto found no GPU
			return usagef("%s %s needs the GPU, and this run is on the CPU", flag, value)
		}
		p.Text = textPrecisions[value]
	}
	return nil
}
