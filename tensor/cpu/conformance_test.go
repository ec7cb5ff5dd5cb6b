package cpu_test

import (
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/conformance"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// TestConformance runs the backend conformance suite with float32
// activations; GOSDXL_CONFORMANCE_FULL=1 adds the full-size SDXL shapes.
func TestConformance(t *testing.T) {
	conformance.Run(t, cpu.New(), tensor.F32, conformance.CPUTolerance, conformance.Options{})
}
