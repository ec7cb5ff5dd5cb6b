package kernels

import (
	"fmt"
	"strings"
)

// Argument checks and grid of the fused self-attention's projection
// (gemm.cu's gemm_qkv), free of the cuda build tag.

// qkvProblem is y[M, 3·Nw] = x[M,K] · [wq; wk; wv]ᵀ: a self-attention's q,
// k and v in one GEMM, each weight [Nw, K], no bias.
type qkvProblem struct {
	y, x, wq, wk, wv operand
	tiles            tilePlanner // nil: chooseTiles for an H100
}

// qkvPlan is gemm_qkv's launch plan (its own type: its kernels are not
// gemm_body's).
type qkvPlan struct{ gemmPlan }

// qkvTileN is what Nw must be a multiple of: the narrowest block tile's
// width, so that some tile never straddles two weights.
const qkvTileN = 64

// plan picks kernel, tile and split. A shape mismatch is a *shapeError;
// any other error means the fused path does not take the case and the
// caller composes three Linears instead.
func (p qkvProblem) plan() (qkvPlan, error) {
	ws := p.wq.shape
	if len(ws) != 2 || !p.wk.shape.Equal(ws) || !p.wv.shape.Equal(ws) || len(p.x.shape) == 0 || len(p.y.shape) == 0 {
		return qkvPlan{}, &shapeError{fmt.Errorf("qkv: wq %v, wk %v, wv %v, x %v, y %v: want three [Nw, K] weights", ws, p.wk.shape, p.wv.shape, p.x.shape, p.y.shape)}
	}
	Nw, K := ws[0], ws[1]
	if p.x.shape.Last() != K || p.y.shape.Last() != 3*Nw || rows(p.x.shape) != rows(p.y.shape) {
		return qkvPlan{}, &shapeError{fmt.Errorf("qkv: x %v, weights %v, y %v do not match", p.x.shape, ws, p.y.shape)}
	}
	M, N := rows(p.y.shape), 3*Nw
	ops := tileOperands{y: p.y, x: p.x, w: p.wq}
	suffix, err := ops.check(M, N, K)
	if err == nil {
		err = sameDType(p.x.dtype, p.wk, p.wv)
	}
	if err == nil && Nw%qkvTileN != 0 {
		err = fmt.Errorf("%d outputs per weight, not a multiple of %d", Nw, qkvTileN)
	}
	if err != nil {
		return qkvPlan{}, fmt.Errorf("fused q/k/v: %w", err)
	}
	out := qkvPlan{gemmPlan{M: M, N: N, K: K}}
	if M == 0 {
		return out, nil
	}
	// The planner's tile, unless its width does not divide Nw: then the
	// 64-wide tile of the same height.
	planner := func(M, N, K int) tileChoice {
		c := p.tiles.choose(M, N, K)
		if Nw%c.tile.N != 0 {
			c.tile = blockTile{128, qkvTileN}
		}
		return c
	}
	out.tileLaunch = ops.launch("gemm", "gemm_qkv", suffix, K, M, N, K, planner)
	if !aligned(16, p.wk, p.wv) && !strings.Contains(out.name, "_unaligned") {
		out.name = strings.Replace(out.name, "gemm_qkv_", "gemm_qkv_unaligned_", 1)
	}
	if Nw%out.choice.tile.N != 0 { // launch's own fallback tile
		return qkvPlan{}, fmt.Errorf("fused q/k/v: no tile of width dividing %d fits", Nw)
	}
	return out, nil
}
