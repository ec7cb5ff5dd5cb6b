package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Argument checks and grid of linear_chain.cu (tensor.LinearChain in one
// launch), free of the cuda build tag so that they are unit-tested without
// a GPU.

// The kernel's limits (linear_chain.cu): rows per launch, layers, the
// output columns of one work item, threads per block.
const (
	chainMaxRows   = 8
	chainMaxLayers = 3
	chainItemCols  = 32
	chainThreads   = 256
	chainCounters  = 5
)

// chainLayerOps is one tensor.ChainLayer as operands.
type chainLayerOps struct {
	w, bias, residual, out operand
	act                    Activation
}

// chainProblem is a chain on x [rows, K] for a device with sms
// multiprocessors.
type chainProblem struct {
	x      operand
	layers []chainLayerOps
	sms    int
}

type chainPlan struct {
	launchPlan
	rows int
}

// shapes checks that the layers fit together (a mismatch is a programmer
// error) and returns the rows.
func (p chainProblem) shapes() (int, error) {
	if len(p.x.shape) < 1 {
		return 0, fmt.Errorf("linear chain: x %v: want [..., K]", p.x.shape)
	}
	rowsX, width := rows(p.x.shape), p.x.shape.Last()
	for i, l := range p.layers {
		if len(l.w.shape) != 2 || l.w.shape[1] != width {
			return 0, fmt.Errorf("linear chain: layer %d's weight %v does not take %d inputs", i, l.w.shape, width)
		}
		n := l.w.shape[0]
		if !l.out.present() || rows(l.out.shape) != rowsX || l.out.shape.Last() != n {
			return 0, fmt.Errorf("linear chain: layer %d's output %v, want %d rows of %d", i, l.out.shape, rowsX, n)
		}
		if l.bias.present() && !l.bias.shape.Equal(tensor.Shape{n}) {
			return 0, fmt.Errorf("linear chain: layer %d's bias %v for %d outputs", i, l.bias.shape, n)
		}
		if l.residual.present() && !l.residual.shape.Equal(l.out.shape) {
			return 0, fmt.Errorf("linear chain: layer %d's residual %v, output %v", i, l.residual.shape, l.out.shape)
		}
		width = n
	}
	return rowsX, nil
}

// plan checks the case and sizes the grid: at most two blocks per
// multiprocessor (the kernel's registers allow two of 256 threads), never
// more than there are work items.
func (p chainProblem) plan() (chainPlan, error) {
	rowsX, err := p.shapes()
	if err != nil {
		return chainPlan{}, &shapeError{err}
	}
	if len(p.layers) == 0 || len(p.layers) > chainMaxLayers {
		return chainPlan{}, fmt.Errorf("linear chain: %d layers, the kernel runs 1 to %d", len(p.layers), chainMaxLayers)
	}
	if rowsX > chainMaxRows {
		return chainPlan{}, fmt.Errorf("linear chain: %d rows, the kernel takes at most %d", rowsX, chainMaxRows)
	}
	suffix, err := tensorCoreSuffix(p.x.dtype)
	if err != nil {
		return chainPlan{}, fmt.Errorf("linear chain: %w", err)
	}
	ops := []operand{p.x}
	items := 0
	width := p.x.shape.Last()
	for _, l := range p.layers {
		ops = append(ops, l.w, l.bias, l.residual, l.out)
		if width%8 != 0 {
			return chainPlan{}, fmt.Errorf("linear chain: %d inputs, the kernel reads them 8 at a time", width)
		}
		if !fitsInt32(l.w.shape.NumElements(), l.out.shape.NumElements()) {
			return chainPlan{}, fmt.Errorf("linear chain: weight %v too large for the kernel's int indices", l.w.shape)
		}
		width = l.w.shape[0]
		items += ceilDiv(width, chainItemCols)
	}
	if err := sameDType(p.x.dtype, ops...); err != nil {
		return chainPlan{}, fmt.Errorf("linear chain: %w", err)
	}
	if !aligned(16, ops...) {
		return chainPlan{}, fmt.Errorf("linear chain: an operand is not 16-byte aligned")
	}
	out := chainPlan{rows: rowsX}
	if rowsX == 0 {
		return out, nil
	}
	out.launchPlan = launchPlan{module: "linear_chain", name: "linear_chain_" + suffix,
		grid: D1(min(items, 2*max(p.sms, 1))), block: D1(chainThreads)}
	return out, nil
}
