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
// whether it ran; when it returns false nothing was queued. The epilogue
// reads imageBias's columns in place, its rows a whole row of the matrix
// apart.
func (b *Backend) Conv2DNormed(dst, x *tensor.Tensor, n tensor.ChannelNorm, w, bias *tensor.Tensor, imageBias tensor.Columns, residual *tensor.Tensor, stride, pad int) bool {
	return b.useFast(opConv2D) && b.tryConvNormed(dst, x, n, w, bias, imageBias, residual, stride, pad)
}

// tryConvNormed launches groupnorm_table and conv2d_norm, or returns false
// for a case conv2d_norm does not handle.
func (b *Backend) tryConvNormed(dst, x *tensor.Tensor, n tensor.ChannelNorm, w, bias *tensor.Tensor, imageBias tensor.Columns, residual *tensor.Tensor, stride, pad int) bool {
	return b.tryConvNormedFrom(dst, tensor.FusedConv{In: tensor.ConvInput{X: x}, Norm: &n, Weight: w, Bias: bias,
		Stride: stride, Pad: pad, ImageBias: imageBias, Residual: residual})
}

// tryConvNormedFrom is tryConvNormed of a tensor.FusedConv (c.Norm set):
// the input read where it lies (two tensors' channels, also for the
// statistics; nearest 2x, whose statistics are the stored map's), and the
// skip connection as conv2d_norm's skip segment.
func (b *Backend) tryConvNormedFrom(dst *tensor.Tensor, c tensor.FusedConv) bool {
	n := *c.Norm
	xo, yo := b.operandOf("x", c.In.X), b.operandOf("output", dst)
	p := convProblem{
		y: yo, x: xo, x2: b.operandOf("x2", c.In.X2), up: c.In.Up2, w: b.operandOf("weight", c.Weight),
		bias: b.operandOf("bias", c.Bias), residual: b.operandOf("residual", c.Residual),
		stride: c.Stride, pad: c.Pad, tiles: b.tilePlanner(), norm: true,
	}
	var skip tensor.ConvSkip
	if c.Skip != nil {
		if c.ImageBias.Present() || c.Skip.In.Up2 {
			return false // the skip's bias takes the per-image bias's place; no enlarged skip
		}
		skip = *c.Skip
		p.skip = convSkip{x: b.operandOf("skip input", skip.In.X), x2: b.operandOf("skip input x2", skip.In.X2),
			w: b.operandOf("skip weight", skip.Weight), bias: b.operandOf("skip bias", skip.Bias)}
	}
	pl, err := p.planNormed(b.operandOf("per-image bias", c.ImageBias.Of), c.ImageBias.From)
	if !handles(err) {
		return false
	}
	// The statistics are over the stored channels: an enlarged map has the
	// same mean and variance.
	stored := xo
	if c.In.X2 != nil {
		stored.shape = tensor.Shape{pl.B, xo.shape[1], xo.shape[2], pl.Cin}
	}
	t, err := planNormTable(stored, n)
	if err != nil {
		panic(fmt.Sprintf("kernels: Conv2DNormed: %v", err))
	}
	if pl.empty() || t.empty() {
		return pl.empty() // nothing to convolve; an empty input with a non-empty output (padding only) composes
	}
	table := b.groupNormTable(c.In, n, t)
	emb := b.ptrOrNull(c.ImageBias.Of)
	if emb != 0 {
		emb += devicePtr(c.ImageBias.From * c.ImageBias.Of.DType().Size())
	}
	r := b.startTiles(pl.tileLaunch)
	b.Launch(Kernel{pl.module, pl.name}, pl.grid, pl.block, pl.shared,
		dst, c.In.X, b.ptrOrNull(c.In.X2), c.Weight, b.ptrOrNull(c.Bias), emb, pl.embLD, b.ptrOrNull(c.Residual),
		pl.B, pl.H, pl.W, pl.Cin, pl.C1, pl.Up, pl.Ho, pl.Wo, pl.Cout, pl.KH, pl.KW, c.Stride, c.Pad,
		table, n.SiLU, b.ptrOrNull(skip.In.X), b.ptrOrNull(skip.In.X2), pl.Cskip, pl.Cskip1,
		b.ptrOrNull(skip.Weight), b.ptrOrNull(skip.Bias), r.partial, r.sem, pl.kChunk())
	b.finishTiles(r)
	return true
}

// LinearNormed computes dst = act(n(x)·wᵀ + bias) + residual
// (tensor.FusedNormLinear) with groupnorm_table and gemm_norm when the fast
// linear kernel is active and handles the case, and reports whether it
// ran; when it returns false nothing was queued.
func (b *Backend) LinearNormed(dst, x *tensor.Tensor, n tensor.ChannelNorm, w, bias, residual *tensor.Tensor, op tensor.UnaryOp) bool {
	act, ok := epilogueActivation(op)
	return ok && b.useFast(opLinear) && b.tryGemmNormed(dst, x, n, w, bias, residual, act)
}

// tryGemmNormed launches groupnorm_table and gemm_norm, or returns false
// for a case gemm_norm does not handle.
func (b *Backend) tryGemmNormed(dst, x *tensor.Tensor, n tensor.ChannelNorm, w, bias, residual *tensor.Tensor, act Activation) bool {
	xo := b.operandOf("x", x)
	p := gemmProblem{
		y: b.operandOf("output", dst), x: xo, w: b.operandOf("weight", w),
		bias: b.operandOf("bias", bias), residual: b.operandOf("residual", residual), act: act,
		tiles: b.tilePlanner(),
	}
	pl, err := p.planNormed()
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
	table := b.groupNormTable(tensor.ConvInput{X: x}, n, t)
	r := b.startTiles(pl.tileLaunch)
	b.Launch(Kernel{pl.module, pl.name}, pl.grid, pl.block, pl.shared,
		dst, x, w, b.ptrOrNull(bias), b.ptrOrNull(residual), pl.M, pl.N, pl.K, int32(act), table, t.positions, n.SiLU,
		r.partial, r.sem, pl.kChunk())
	b.finishTiles(r)
	return true
}

// groupNormTable queues groupnorm_table for the channels of in.X then
// in.X2 (absent: in.X alone) and returns the address of its (scale, shift)
// table in the workspace, valid until the next op.
func (b *Backend) groupNormTable(in tensor.ConvInput, n tensor.ChannelNorm, t normTable) devicePtr {
	ws := b.workspace(t.bytes)
	counter := b.normCounter()
	betaPtr, done := b.paramAs(n.Beta, n.Gamma.DType())
	defer done()
	x := in.X
	b.Launch(Kernel{"norm", "groupnorm_table_" + pairSuffix(x.DType(), n.Gamma.DType())},
		D2(t.batch*t.groups, t.plan.chunks), D1(groupNormThreads), 0,
		ws, counter, ws+devicePtr(t.tableBytes), x, b.ptrOrNull(in.X2), x.Shape().Last(), n.Gamma, betaPtr,
		t.positions, t.C, t.groups, t.plan.per, n.Eps)
	return ws
}

// convNormCheckCase is the conv2d family's self-check of conv2d_norm: a
// ResBlock's conv1 (SiLU, time embedding) on two images of 30 positions,
// so that a tile's rows span both, with groups narrower than a chunk,
// against GroupNorm, the simple conv and Binary Adds.
func (b *Backend) convNormCheckCase(in *checkInputs) checkCase {
	x, w, bias := in.random(2, 5, 6, 16), in.random(24, 3, 3, 16), in.random(24)
	emb, gamma, beta := in.random(2, 24), in.random(16), in.random(16)
	n := tensor.ChannelNorm{Gamma: gamma, Beta: beta, Groups: 4, Eps: 1e-5, SiLU: true}
	return checkCase{
		name: "x[2 5 6 16] GroupNorm+SiLU in the loader, 3x3, per-image bias",
		dst:  []int{2, 5, 6, 24},
		simple: func(dst *tensor.Tensor) {
			h := b.Alloc(tensor.F16, x.Shape()...)
			b.GroupNorm(h, x, gamma, beta, n.Groups, n.Eps, n.SiLU)
			b.simpleConv2D(dst, h, w, bias, 1, 1)
			b.Binary(dst, dst, emb.Reshape(2, 1, 1, 24), tensor.Add)
			b.Free(h)
		},
		fast: func(dst *tensor.Tensor) bool {
			return b.tryConvNormed(dst, x, n, w, bias, tensor.AllColumns(emb), nil, 1, 1)
		},
	}
}

// linearNormCheckCase is the linear family's self-check of gemm_norm: a
// proj_in over two images of 45 positions.
func (b *Backend) linearNormCheckCase(in *checkInputs) checkCase {
	x, w, bias := in.random(2, 45, 32), in.random(40, 32), in.random(40)
	gamma, beta := in.random(32), in.random(32)
	n := tensor.ChannelNorm{Gamma: gamma, Beta: beta, Groups: 4, Eps: 1e-6}
	return checkCase{
		name: "x[2 45 32] GroupNorm in the loader, ·w[40 32]ᵀ",
		dst:  []int{2, 45, 40},
		simple: func(dst *tensor.Tensor) {
			h := b.Alloc(tensor.F16, x.Shape()...)
			b.GroupNorm(h, x, gamma, beta, n.Groups, n.Eps, n.SiLU)
			b.simpleLinear(dst, h, w, bias)
			b.Free(h)
		},
		fast: func(dst *tensor.Tensor) bool { return b.tryGemmNormed(dst, x, n, w, bias, nil, ActNone) },
	}
}
