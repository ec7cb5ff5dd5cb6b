//go:build cuda

package kernels

import "github.com/gosdxl/gosdxl/tensor"

// wideAttention computes softmax(q·kᵀ/√D)·v for one head wider than the
// flash kernel's (the VAE's 512) on the tensor cores, or returns false,
// having launched nothing, for a case it does not take. Per image: vᵀ once
// (cuda/wide_attention.cu), then per block of queries the scores GEMM
// (q·kᵀ, 16-bit), the softmax of each row in place, and the output GEMM
// (p·vᵀᵀ) straight into o. The scratch is one block's scores and vᵀ.
func (b *Backend) wideAttention(o, q, k, v *tensor.Tensor, heads int, causal bool) bool {
	p, err := planWideAttention(q.Shape(), k.Shape(), q.DType(), heads, causal)
	if err != nil {
		return false
	}
	dt, es := q.DType(), q.DType().Size()
	vt := b.scratch(p.D * p.Tk * es)
	scores := b.scratch(p.rows * p.Tk * es)
	defer b.release(vt)
	defer b.release(scores)
	mat := func(name string, rows, cols int, addr devicePtr) operand {
		return operand{name: name, shape: tensor.Shape{rows, cols}, dtype: dt, addr: uint64(addr)}
	}
	qp, kp, vp, op := b.ptr(q), b.ptr(k), b.ptr(v), b.ptr(o)
	at := func(base devicePtr, row, width int) devicePtr { return base + devicePtr(row*width*es) }

	// Plan every GEMM before launching any: a refusal leaves nothing half
	// done, and the caller falls back to the simple kernel.
	type block struct {
		scores, out     gemmProblem
		scoresPl, outPl gemmPlan
	}
	var images [][]block
	for i := range p.B {
		var img []block
		ok := true
		p.blocks(func(q0, n int) {
			row := i*p.Tq + q0
			blk := block{
				scores: gemmProblem{y: mat("scores", n, p.Tk, scores.ptr), x: mat("q", n, p.D, at(qp, row, p.D)),
					w: mat("k", p.Tk, p.D, at(kp, i*p.Tk, p.D)), act: ActNone, tiles: b.tilePlanner()},
				out: gemmProblem{y: mat("output", n, p.D, at(op, row, p.D)), x: mat("scores", n, p.Tk, scores.ptr),
					w: mat("vᵀ", p.D, p.Tk, vt.ptr), act: ActNone, tiles: b.tilePlanner()},
			}
			var err1, err2 error
			blk.scoresPl, err1 = blk.scores.plan()
			blk.outPl, err2 = blk.out.plan()
			if !handles(err1) || !handles(err2) {
				ok = false
				return
			}
			img = append(img, blk)
		})
		if !ok {
			return false
		}
		images = append(images, img)
	}

	for i, img := range images {
		b.Launch(Kernel{"wide_attention", "transpose_" + halfSuffix(dt)}, D2(ceilDiv(p.D, 32), ceilDiv(p.Tk, 32)), Dim3{32, 8, 1}, 0,
			vt.ptr, at(vp, i*p.Tk, p.D), p.Tk, p.D)
		for _, blk := range img {
			b.launchGemm(blk.scoresPl, blk.scores)
			b.Launch(Kernel{"wide_attention", "softmax_rows_" + halfSuffix(dt)}, D1(blk.scoresPl.M), D1(256), 0,
				scores.ptr, p.Tk, p.scale)
			b.launchGemm(blk.outPl, blk.out)
		}
	}
	return true
}

// launchGemm launches a planned gemm.cu GEMM without bias or residual on
// the problem's device addresses (views into larger buffers).
func (b *Backend) launchGemm(pl gemmPlan, p gemmProblem) {
	if !pl.empty() {
		r := b.startTiles(pl.tileLaunch)
		b.Launch(Kernel{pl.module, pl.name}, pl.grid, pl.block, pl.shared,
			devicePtr(p.y.addr), devicePtr(p.x.addr), devicePtr(p.w.addr), devicePtr(0), devicePtr(0),
			pl.M, pl.N, pl.K, int32(p.act), r.partial, r.sem, pl.kChunk())
		b.finishTiles(r)
	}
}
