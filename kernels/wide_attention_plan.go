package kernels

import (
	"fmt"
	"math"

	"github.com/gosdxl/gosdxl/tensor"
)

// Attention with one head wider than the flash kernel's 64 (the VAE's
// mid-block: one head of 512 over every pixel of the latent) runs as
// tensor-core GEMMs over blocks of queries (wide_attention.go); this is its
// plan, free of the cuda tag so that it is unit-tested without a GPU.

// wideScoreBudget bounds one block's score matrix [rows, Tk] in elements:
// 32 Mi 16-bit values are 64 MiB, so a 2048² image (65,536 tokens) still
// needs no more than that beside its activations.
var wideScoreBudget = 32 << 20 // a variable only so that a test can force several blocks

// wideAttentionPlan is what the launcher runs: for each image, vᵀ once, then
// per block of rows queries the scores GEMM, the softmax and the output GEMM.
type wideAttentionPlan struct {
	B, Tq, Tk, D int
	rows         int // queries per block; the last block may be shorter
	scale        float32
}

// halfSuffix names the instantiation of a kernel written for the 16-bit
// types only; the planner has refused the others.
func halfSuffix(dt tensor.DType) string {
	s, err := tensorCoreSuffix(dt)
	if err != nil {
		panic("kernels: " + err.Error())
	}
	return s
}

// planWideAttention checks that q [B,Tq,D], k and v [B,Tk,D] (one head)
// suit the wide path and sizes its blocks; an error means "not this path"
// (the caller falls back to another kernel), as for the other planners.
func planWideAttention(q, k tensor.Shape, dt tensor.DType, heads int, causal bool) (wideAttentionPlan, error) {
	if _, err := tensorCoreSuffix(dt); err != nil {
		return wideAttentionPlan{}, err
	}
	if heads != 1 || causal {
		return wideAttentionPlan{}, fmt.Errorf("wide attention: %d heads, causal %v: written for one head, not causal", heads, causal)
	}
	p := wideAttentionPlan{B: q[0], Tq: q[1], Tk: k[1], D: q[2]}
	if p.D <= attnHeadSize {
		return wideAttentionPlan{}, fmt.Errorf("wide attention: head size %d is the flash kernel's", p.D)
	}
	// Rows of 16-byte multiples: the GEMM's loads and the score rows.
	if p.D%8 != 0 || p.Tk%8 != 0 {
		return wideAttentionPlan{}, fmt.Errorf("wide attention: head size %d and %d keys must be multiples of 8", p.D, p.Tk)
	}
	p.rows = min(p.Tq, max(gemmTileM, wideScoreBudget/p.Tk/gemmTileM*gemmTileM))
	p.scale = float32(1 / math.Sqrt(float64(p.D)))
	return p, nil
}

// blocks calls f with the first query and the number of queries of each
// block of one image.
func (p wideAttentionPlan) blocks(f func(q0, n int)) {
	for q0 := 0; q0 < p.Tq; q0 += p.rows {
		f(q0, min(p.rows, p.Tq-q0))
	}
}
