package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Planning of GroupNorm applied in a consumer's loader (cuda/norm.cu's
// groupnorm_table, then conv.cu's conv2d_norm or gemm_norm.cu's
// gemm_norm), free of the cuda build tag so that it is tested everywhere.

// normTable is the workspace layout of one normalised op: the (scale,
// shift) float32 pairs per image and channel the loader reads, then the
// statistics' partials (groupNormWorkspace), and the stats launch's plan.
type normTable struct {
	batch, positions, C, groups int
	plan                        groupNormPlan
	tableBytes, bytes           int
}

// planNormTable checks that norm fits x [B, ..., C] and lays out the
// workspace. Errors are programmer errors (callers panic).
func planNormTable(x operand, n tensor.ChannelNorm) (normTable, error) {
	var t normTable
	if len(x.shape) < 2 {
		return t, fmt.Errorf("normalised input %v: want [B, ..., C]", x.shape)
	}
	t.batch, t.C, t.groups = x.shape[0], x.shape.Last(), n.Groups
	if n.Gamma == nil || n.Beta == nil || n.Groups < 1 || t.C%n.Groups != 0 {
		return t, fmt.Errorf("normalised input %v cannot be split into %d groups of channels", x.shape, n.Groups)
	}
	for _, p := range []*tensor.Tensor{n.Gamma, n.Beta} {
		if !p.Shape().Equal(tensor.Shape{t.C}) || !p.DType().IsFloat() {
			return t, fmt.Errorf("GroupNorm parameter %v for %d channels", p, t.C)
		}
	}
	if t.batch > 0 && t.C > 0 {
		t.positions = x.shape.NumElements() / (t.batch * t.C)
	}
	t.plan = planGroupNorm(t.positions, t.groups, t.C/t.groups)
	// 16-byte table rows for the loaders' float4 reads; the partials after.
	t.tableBytes = ceilDiv(t.batch*t.C*8, 256) * 256
	t.bytes = t.tableBytes + groupNormWorkspace(t.batch*t.groups, t.plan.chunks)
	return t, nil
}

// empty reports that there is nothing to normalise (and so nothing to
// convolve or multiply: the consumer's M is 0).
func (t normTable) empty() bool { return t.batch*t.positions*t.C == 0 }

// imageBiasFits checks a per-image bias for an output [B, ..., N]:
// columns [from, from+N) of e [B, W]. It returns W, the distance between
// the bias's rows, with a *shapeError for a wrong shape (a programmer
// error), else an error for a case the fast kernel does not take.
func imageBiasFits(e operand, from int, y operand) (int, error) {
	if !e.present() {
		return 0, nil
	}
	if len(y.shape) == 0 || len(e.shape) != 2 || e.shape[0] != y.shape[0] || from < 0 || from+y.shape.Last() > e.shape[1] {
		return 0, &shapeError{fmt.Errorf("per-image bias: columns from %d of %v for output %v: want [B, N] columns of a [B, W] matrix", from, e.shape, y.shape)}
	}
	if e.dtype != y.dtype {
		return 0, fmt.Errorf("per-image bias is %v but the output is %v", e.dtype, y.dtype)
	}
	return e.shape[1], nil
}

// convNormPlan is conv2d_norm's launch: the conv2d plan of the same problem
// with the normalising kernel (its own type, so that the launch-signature
// test can enumerate it), and the per-image bias's row stride.
type convNormPlan struct {
	convPlan
	embLD int
}

// planNormed plans conv2d_norm for p with a per-image bias of columns
// [from, from+Cout) of e (absent: none); errors as for convProblem.plan.
func (p convProblem) planNormed(e operand, from int) (convNormPlan, error) {
	p.norm = true
	c, err := p.plan()
	ld := 0
	if err == nil {
		ld, err = imageBiasFits(e, from, p.y)
	}
	return convNormPlan{c, ld}, err
}

// gemmNormPlan is gemm_norm's launch: gemm.cu's plan of the same problem
// (tile and split) with gemm_norm.cu's kernel.
type gemmNormPlan struct{ gemmPlan }

// planNormed plans gemm_norm for p; errors as for gemmProblem.plan.
func (p gemmProblem) planNormed() (gemmNormPlan, error) {
	pl, err := p.plan()
	if err != nil || pl.empty() {
		return gemmNormPlan{pl}, err
	}
	suffix, err := tensorCoreSuffix(p.x.dtype)
	if err != nil {
		return gemmNormPlan{}, err
	}
	pl.tileLaunch = tileOperands{p.y, p.x, p.w, p.bias, p.residual}.launch("gemm_norm", "gemm_norm", suffix, pl.K, pl.M, pl.N, pl.K, p.tiles)
	return gemmNormPlan{pl}, nil
}
