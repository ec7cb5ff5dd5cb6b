package kernels

import "fmt"

// Argument checks and grid of the cross-attention with its query
// projection, and that projection's LayerNorm, inside the flash-attention
// block (cuda/ln_attention.cu). Free of the cuda build tag.

// lnAttnSharedSize is the larger of the GEMM ring that computes a block's
// Q tile (4 stages of (128 query rows + 64 weight rows) x 32 elements,
// 49152 bytes) and the attention's own tiles (attnSharedSize), which reuse
// the same memory: 55296 bytes (cuda/ln_attention.cu's lnattn::SMEM_BYTES).
const lnAttnSharedSize = max(4*(attnTileQ+attnHeadSize)*tileK*2, attnSharedSize)

// normAttentionProblem is Attention(LN(x)·wqᵀ, k, v) with x [B,Tq,Cin],
// wq [H·64, Cin] (no bias), k and v [B,Tk,H·64], o [B,Tq,H·64], not
// causal.
type normAttentionProblem struct {
	o, x, wq, k, v operand
	heads          int
	norm           rowNormOperands
}

// normAttentionPlan is ln_attention's launch plan and size arguments.
type normAttentionPlan struct {
	attentionPlan
	Cin int
}

// plan picks the kernel and grid. A shape mismatch is a *shapeError; any
// other error means the kernel does not take the case (F32, heads other
// than 64 wide, Cin not a multiple of 8, unaligned x or wq) and the caller
// composes the normed GEMM and the attention.
func (p normAttentionProblem) plan() (normAttentionPlan, error) {
	xs, ws, os := p.x.shape, p.wq.shape, p.o.shape
	if len(xs) != 3 || len(ws) != 2 || len(os) != 3 || xs[0] != os[0] || xs[1] != os[1] || ws[0] != os[2] || ws[1] != xs[2] {
		return normAttentionPlan{}, &shapeError{fmt.Errorf("normed cross-attention: x %v, wq %v, o %v: want x [B,Tq,Cin], wq [C,Cin], o [B,Tq,C]", xs, ws, os)}
	}
	// q is never stored: the attention's checks see it as a contiguous,
	// aligned [B,Tq,C] of the output's type.
	q := operand{name: "q", shape: os, dtype: p.o.dtype}
	a, err := attentionProblem{o: p.o, q: q, k: p.k, v: p.v, heads: p.heads}.plan()
	if err != nil {
		return normAttentionPlan{}, err
	}
	if a.Tk < 1 {
		return normAttentionPlan{}, &shapeError{fmt.Errorf("normed cross-attention: k %v has no keys", p.k.shape)}
	}
	Cin := xs[2]
	if err = p.norm.check(p.x.dtype, Cin); err == nil {
		err = sameDType(p.o.dtype, p.x, p.wq)
	}
	if err == nil && Cin%8 != 0 {
		err = fmt.Errorf("%d input channels, not a multiple of 8", Cin)
	}
	if err == nil && !aligned(16, p.x, p.wq) {
		err = fmt.Errorf("x or wq not 16-byte aligned")
	}
	if err == nil && !fitsInt32(a.B*a.Tq*Cin, a.C*Cin) {
		err = fmt.Errorf("x %v or wq %v exceed the kernel's 32-bit sizes", xs, ws)
	}
	if err != nil {
		return normAttentionPlan{}, fmt.Errorf("normed cross-attention: %w", err)
	}
	out := normAttentionPlan{attentionPlan: a, Cin: Cin}
	if !a.empty() {
		suffix, _ := tensorCoreSuffix(p.o.dtype) // the attention's plan checked it
		out.module, out.name, out.shared = "ln_attention", "ln_attention_d64_"+suffix, lnAttnSharedSize
	}
	return out, nil
}
