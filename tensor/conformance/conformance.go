// Package conformance is the one test suite every tensor.Backend must pass.
// Its bodies know nothing about the backend under test: they create inputs
// through the Backend interface, run each operation, read the result back
// with ToFloat32 and compare it against naive float64 reference
// implementations written in plain Go (the matrix product is additionally
// cross-checked with gorgonia.org/tensor's float64 matrix product).
//
// A backend's own test calls Run:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, cpu.New(), tensor.F32, conformance.CPUTolerance, conformance.Options{})
//	}
//
// and the CUDA backend does the same with tensor.F16 activations, an fp16
// tolerance and Options{Full: true}. Every operation and shape is its own
// subtest (e.g. TestConformance/Conv2D/3x3_s2_odd), so a failure names the
// op and shape, and prints the first mismatches (index, got, want) and the
// largest error.
//
// Conventions the suite relies on, valid for any backend:
//   - Inputs are random (fixed seeds, normal distribution, never zeros) and
//     rounded to their storage dtype by the backend; the reference reads them
//     back through ToFloat32, so it sees exactly what the backend computed on.
//   - Weights are stored F16, as in real checkpoints (a few cases use BF16 and
//     F32), activations in the dtype passed to Run.
//   - Destinations are created full of NaN, so an element the backend forgets
//     to write fails the comparison.
//   - Layout operations (Cast, Concat, Slice, ResizeNearest, Gather, the
//     FromFloat32/FromRaw/ToFloat32 round trips) are exact on every backend and
//     compared bit for bit; arithmetic uses |got-want| <= Atol + Rtol·|want|.
package conformance

import (
	"os"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// Tolerance bounds an arithmetic result: |got-want| <= Atol + Rtol·|want|.
type Tolerance struct{ Atol, Rtol float64 }

// CPUTolerance suits a float32 backend. Measured on the CPU backend
// against the float64 references over every case of this suite, full-size
// shapes included (GOSDXL_CONFORMANCE_FULL=1): the largest |got-want| was
// 3.8e-6 (GEGLU, whose float32 erf approximation is good to 1.5e-7·|x|),
// then 2.7e-6 (Linear K=300, a 1×1 GroupNorm), 2.4e-6 (Conv2D at K=5760 and
// 11520), 1.9e-6 (Attention), 5e-7 (LayerNorm, Binary), all for outputs of
// size O(1). Under Atol 1e-5 + Rtol 1e-5·|want| the worst element of the
// whole run used 21% of its budget (Linear K=640 N=5120), a margin of about
// 5× over the measured spread; the tolerance stays far below the effect of
// real mistakes (tanh instead of erf GELU: 1e-4 to 1e-3; GroupNorm eps 1e-5
// instead of 1e-6 on a quiet group: 5%; weights rounded to bf16: 1e-3).
var CPUTolerance = Tolerance{Atol: 1e-5, Rtol: 1e-5}

// Options selects which cases run.
type Options struct {
	// Full adds the full-size SDXL shapes (4096-token attention, 640- and
	// 1280-channel convolutions at 32×32 and 64×64, ...). They take 35 to
	// 55 s on two CPU cores (mostly the float64 references, which check a
	// sample of 512 rows of each large output); a GPU backend should always
	// run them. The environment
	// variable GOSDXL_CONFORMANCE_FULL=1 turns them on too.
	Full bool
	// OpTolerance overrides the tolerance for some operations, by the name
	// of their subtest ("Linear", "Conv2D", "Attention", "GroupNorm", ...):
	// an fp16 backend may need more room for long reductions than for
	// element-wise functions.
	OpTolerance map[string]Tolerance
}

func (o Options) full() bool { return o.Full || os.Getenv("GOSDXL_CONFORMANCE_FULL") == "1" }

// Run checks every Backend operation of b. actDType is the dtype the backend
// uses for activations (F32 on the CPU, F16 on a GPU); tol bounds the
// arithmetic operations.
func Run(t *testing.T, b tensor.Backend, actDType tensor.DType, tol Tolerance, opts Options) {
	s := &suite{b: b, act: actDType, tol: tol, full: opts.full()}
	ops := []struct {
		name string
		run  func(*suite, *testing.T)
	}{
		{"Memory", (*suite).memory},
		{"Cast", (*suite).cast},
		{"Layout", (*suite).layout},
		{"Gather", (*suite).gather},
		{"Binary", (*suite).binary},
		{"Unary", (*suite).unary},
		{"GEGLU", (*suite).geglu},
		{"GroupNorm", (*suite).groupNorm},
		{"LayerNorm", (*suite).layerNorm},
		{"Linear", (*suite).linear},
		{"Conv2D", (*suite).conv2D},
		{"FusedConv", (*suite).fusedConv},
		{"Attention", (*suite).attention},
		{"LinearAddAct", (*suite).linearAddAct},
		{"Conv2DNormed", (*suite).conv2DNormed},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			opSuite := *s
			if override, ok := opts.OpTolerance[op.name]; ok {
				opSuite.tol = override
			}
			op.run(&opSuite, t)
		})
	}
}

// suite carries the backend under test and the run's settings into the
// case bodies.
type suite struct {
	b    tensor.Backend
	act  tensor.DType
	tol  Tolerance // for the operation being run (OpTolerance applied)
	full bool
}
