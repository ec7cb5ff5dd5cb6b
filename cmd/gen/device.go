package main

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// openBackend picks the compute backend for --device. Only the CPU backend
// is connected to the command so far; "auto" uses it and says so, "cuda"
// is refused rather than silently running on the CPU.
func openBackend(device string, quiet bool) (tensor.Backend, func(), error) {
	if device == "cuda" {
		return nil, nil, fmt.Errorf("--device cuda: the CUDA backend is not connected to gen yet; use --device cpu")
	}
	if device == "auto" && !quiet {
		fmt.Fprintln(stderr, "gen: running on the CPU (slow)")
	}
	return cpu.New(), func() {}, nil
}
