package kernels

import (
	"fmt"
	"math"
)

// Argument checks and grid of the flash-attention kernel
// (cuda/attention.cu), free of the cuda build tag so that they are
// unit-tested without a GPU.

// Tiles of attention.cu: 128 queries per 256-thread block; Q (128 rows)
// plus two stages of K and V tiles (64 rows each), rows of 72 padded
// elements.
const (
	attnHeadSize   = 64
	attnTileQ      = 128
	attnThreads    = 256
	attnSharedSize = (128 + 4*64) * 72 * 2 // 55296 bytes: over 48 KiB, opted in at launch
)

// attentionProblem is softmax(q·kᵀ·scale)·v per head with q [B,Tq,H·64],
// k and v [B,Tk,H·64], o [B,Tq,H·64]. Causal masking is a kernel argument
// that changes nothing in the plan.
type attentionProblem struct {
	o, q, k, v operand
	heads      int
}

// attentionPlan is a launch plan with the kernel's size arguments.
type attentionPlan struct {
	launchPlan
	B, Tq, Tk, C int
	scale        float32
}

func (p attentionProblem) shapes() (a attentionPlan, err error) {
	qs, ks, vs, os := p.q.shape, p.k.shape, p.v.shape, p.o.shape
	if len(qs) != 3 || !ks.Equal(vs) || len(ks) != 3 || !os.Equal(qs) || ks[0] != qs[0] || ks[2] != qs[2] {
		return a, fmt.Errorf("attention: q %v, k %v, v %v, o %v: want q and o [B,Tq,C], k and v [B,Tk,C]", qs, ks, vs, os)
	}
	a.B, a.Tq, a.Tk, a.C = qs[0], qs[1], ks[1], qs[2]
	if p.heads < 1 || a.C%p.heads != 0 {
		return a, fmt.Errorf("attention: %d channels do not split into %d heads", a.C, p.heads)
	}
	return a, nil
}

// plan picks the kernel and grid; errors as for gemmProblem.plan.
func (p attentionProblem) plan() (attentionPlan, error) {
	a, err := p.shapes()
	if err != nil {
		return attentionPlan{}, &shapeError{err}
	}
	suffix, err := tensorCoreSuffix(p.q.dtype)
	if err == nil {
		err = sameDType(p.q.dtype, p.o, p.k, p.v)
	}
	if err == nil && a.C/p.heads != attnHeadSize {
		err = fmt.Errorf("head size %d, the kernel is written for %d", a.C/p.heads, attnHeadSize)
	}
	if err == nil && !fitsInt32(a.B*a.Tq*a.C, a.B*a.Tk*a.C) {
		err = fmt.Errorf("q %v or k %v exceed the kernel's 32-bit sizes", p.q.shape, p.k.shape)
	}
	if err == nil && (p.heads > maxGridY || a.B > maxGridY) {
		err = fmt.Errorf("%d heads x batch %d exceed the grid", p.heads, a.B)
	}
	// Rows are copied in 16-byte pieces: C is a multiple of 64, so only the
	// base addresses need checking.
	if err == nil && !aligned(16, p.o, p.q, p.k, p.v) {
		err = fmt.Errorf("q, k, v or output not 16-byte aligned")
	}
	if err != nil {
		return attentionPlan{}, fmt.Errorf("fast attention: %w", err)
	}
	a.scale = float32(1 / math.Sqrt(attnHeadSize))
	if a.B == 0 || a.Tq == 0 {
		return a, nil
	}
	a.launchPlan = launchPlan{
		module: "attention",
		name:   "flash_attention_d64_" + suffix,
		grid:   Dim3{ceilDiv(a.Tq, attnTileQ), p.heads, a.B},
		block:  D1(attnThreads),
		shared: attnSharedSize,
	}
	return a, nil
}
