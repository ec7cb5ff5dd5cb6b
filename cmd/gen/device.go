package main

import (
	"fmt"

	"github.com/gosdxl/gosdxl/kernels"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// openBackend picks the compute backend for --device:
//
//	cpu   the pure-Go backend;
//	cuda  the GPU backend, or an error saying why not (a binary built
//	      without -tags cuda says how to build one);
//	auto  the GPU in a -tags cuda binary (which only starts where the CUDA
//	      driver finds a GPU), unless that GPU cannot be used (too old, out
//	      of memory); the CPU in a plain build. Falling back says so: the
//	      CPU is much slower.
//
// The returned function releases the backend.
func openBackend(device string, quiet bool) (tensor.Backend, func(), error) {
	logf := func(format string, args ...any) {
		if !quiet {
			fmt.Fprintf(stderr, "gen: "+format+"\n", args...)
		}
	}
	switch device {
	case "cpu":
		return cpu.New(), func() {}, nil
	case "cuda":
		b, err := kernels.New(kernels.Options{Logf: logf})
		if err != nil {
			return nil, nil, fmt.Errorf("--device cuda: %v", err)
		}
		return b, func() { b.Close() }, nil
	}
	if kernels.Available() {
		b, err := kernels.New(kernels.Options{Logf: logf})
		if err == nil {
			return b, func() { b.Close() }, nil
		}
		logf("cannot use the GPU (%v); running on the CPU (slow)", err)
	} else {
		logf("no CUDA GPU available to this binary (GPU builds: go build -tags cuda ./cmd/gen); running on the CPU (slow)")
	}
	return cpu.New(), func() {}, nil
}
