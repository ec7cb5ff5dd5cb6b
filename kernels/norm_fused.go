//go:build cuda

package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// GroupNorm(+SiLU) applied in the loader of the op that reads it: one
// statistics launch (groupnorm_table: the partials, then a per-image
// (scale, shift) table in the workspace) and the consumer, conv2d_norm or
// gemm_norm, whose loaders normalise x as they copy it. The normalised
// tensor is never written, and GroupNorm costs one launch instead of two.
// Planned in norm_fused_plan.go; the kernels are checked by
// `make kernels-emulate` (emulator/norm_fused.cpp).

var (
	_ tensor.FusedNormConv2D = (*Backend)(nil)
	_ tensor.FusedNormLinear = (*Backend)(nil)
)

// Conv2DNormed computes dst = conv(n(x), w) + bias + imageBias[b] +
// residual (tensor.FusedNormConv2D) with groupnorm_table and conv2d_norm
// when the fast conv2d kernel is active and handles the case, and reports
// whether it ran; when it returns false nothing was queued.
func (b *Backend) Conv2DNormed(dst, x *tensor.Tensor, n tensor.ChannelNorm, w, bias, imageBias, residual *tensor.Tensor, stride, pad int) bool {
	if !b.useFast(opConv2D) {
		return false
	}
	xo, yo := b.operandOf("x", x), b.operandOf("output", dst)
	p := convProblem{
		y: yo, x: xo, w: b.operandOf("weight", w),
		bias: b.operandOf("bias", bias), residual: b.operandOf("residual", residual),
		stride: stride, pad: pad, tiles: b.tilePlanner(), norm: true,
	}
	pl, err := p.plan()
	if err == nil {
		err = imageBiasFits(b.operandOf("per-image bias", imageBias), yo)
	}
	if !handles(err) {
		return false
	}
	t, err := planNormTable(xo, n)
	if err != nil {
		panic(fmt.Sprintf("kernels: Conv2DNormed: %v", err))
	}
	if pl.empty() || t.empty() {
		return pl.empty() // nothing to convolve; an empty input with a non-empty output (padding only) composes
	}
	table := b.groupNormTable(x, n, t)
	emb := b.ptrOrNull(imageBias)
	r := b.startTiles(pl.tileLaunch, b.ptrOrNull(bias), b.ptrOrNull(residual))
	kernelEmb := emb
	if r.ws != nil {
		kernelEmb = 0 // the reduce adds it
	}
	b.Launch(Kernel{pl.module, pl.name}, pl.grid, pl.block, pl.shared,
		dst, x, w, r.bias, kernelEmb, r.residual,
		pl.B, pl.H, pl.W, pl.Cin, pl.Ho, pl.Wo, pl.Cout, pl.KH, pl.KW, stride, pad,
		table, n.SiLU, r.partial, pl.kChunk())
	if r.ws != nil {
		l := pl.tileLaunch
		suffix, _ := tensorCoreSuffix(x.DType())
		b.Launch(Kernel{"conv", "splitk_reduce_image_" + suffix}, l.reduce.grid, l.reduce.block, 0,
			dst, r.partial, r.epiBias, emb, r.epiResidual, pl.B*pl.Ho*pl.Wo, pl.Cout, l.choice.splits, pl.Ho*pl.Wo)
		b.release(r.ws)
	}
	return true
}

// LinearNormed computes dst = act(n(x)·wᵀ + bias) + residual
// (tensor.FusedNormLinear) with groupnorm_table and gemm_norm when the fast
// linear kernel is active and handles the case, and reports whether it
// ran; when it returns false nothing was queued.
func (b *Backend) LinearNormed(dst, x *tensor.Tensor, n tensor.ChannelNorm, w, bias, residual *tensor.Tensor, op tensor.UnaryOp) bool {
	act, ok := epilogueActivation(op)
	if !ok || !b.useFast(opLinear) {
		return false
	}
	xo := b.operandOf("x", x)
	p := gemmProblem{
		y: b.operandOf("output", dst), x: xo, w: b.operandOf("weight", w),
		bias: b.operandOf("bias", bias), residual: b.operandOf("residual", residual), act: act,
		tiles: b.tilePlanner(),
	}
	pl, err := p.plan()
	if !handles(err) {
		return false
	}
	t, err := planNormTable(xo, n)
	if err != nil {
		panic(fmt.Sprintf("kernels: LinearNormed: %v", err))
	}
	if pl.empty() || t.empty() {
		return true // M or N is 0: nothing to write
	}
	// gemm.cu's plan, with gemm_norm.cu's kernel of the same tile and split.
	suffix, _ := tensorCoreSuffix(x.DType())
	pl.tileLaunch = tileOperands{p.y, p.x, p.w, p.bias, p.residual}.launch("gemm_norm", "gemm_norm", suffix, pl.K, pl.M, pl.N, pl.K, p.tiles)
	table := b.groupNormTable(x, n, t)
	r := b.startTiles(pl.tileLaunch, b.ptrOrNull(bias), b.ptrOrNull(residual))
	b.Launch(Kernel{pl.module, pl.name}, pl.grid, pl.block, pl.shared,
		dst, x, w, r.bias, r.residual, pl.M, pl.N, pl.K, int32(act), table, t.positions, n.SiLU, r.partial, pl.kChunk())
	b.finishTiles(pl.tileLaunch, r, b.ptr(dst), pl.M, pl.N, act)
	return true
}

// groupNormTable queues groupnorm_table for x and returns the address of
// its (scale, shift) table in the workspace, valid until the next op.
func (b *Backend) groupNormTable(x *tensor.Tensor, n tensor.ChannelNorm, t normTable) devicePtr {
	ws := b.workspace(t.bytes)
	counter := b.normCounter()
	betaPtr, done := b.paramAs(n.Beta, n.Gamma.DType())
	defer done()
	b.Launch(Kernel{"norm", "groupnorm_table_" + pairSuffix(x.DType(), n.Gamma.DType())},
		D2(t.batch*t.groups, t.plan.chunks), D1(groupNormThreads), 0,
		ws, counter, ws+devicePtr(t.tableBytes), x, n.Gamma, betaPtr, t.positions, t.C, t.groups, t.plan.per, n.Eps)
	return ws
}
