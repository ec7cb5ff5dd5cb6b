package cpu

import (
	"fmt"
	"math"

	"github.com/gosdxl/gosdxl/tensor"
)

// queryBlock is how many queries one attention task handles: up to 256, as
// many as keep its score block (queryBlock×Tk floats) within 16 MB, so that
// keys and values, packed once per task, serve many queries while memory
// stays bounded whatever the sequence length (the VAE's 16384 tokens at
// 1024² get the full 256: 16 MB per core).
func queryBlock(tk int) int {
	return max(16, min(256, (1<<22)/tk))
}

// Attention computes softmax(q·kᵀ/sqrt(d))·v per batch item and head, one
// block of queries at a time, with both products on the SGEMM. Tasks (batch,
// head, query block) are spread over the cores.
func (b *Backend) Attention(dst, q, k, v *tensor.Tensor, heads int, causal bool) {
	b.launch("Attention", dst, q, k, v)
	qs, ks, vs, ds := q.Shape(), k.Shape(), v.Shape(), dst.Shape()
	if len(qs) != 3 || len(ks) != 3 || !ks.Equal(vs) || !qs.Equal(ds) || qs[0] != ks[0] || qs[2] != ks[2] ||
		heads < 1 || qs[2]%heads != 0 || ks[1] < 1 {
		panic(fmt.Sprintf("cpu: Attention: q %v, k %v, v %v, dst %v, %d heads do not fit (q [B,Tq,H·d], k and v [B,Tk,H·d])",
			qs, ks, vs, ds, heads))
	}
	batch, tq, tk, width := qs[0], qs[1], ks[1], qs[2]
	d := width / heads
	qd := f32(q, "Attention", "q")
	kd := f32(k, "Attention", "k")
	vd := f32(v, "Attention", "v")
	out := f32(dst, "Attention", "dst")
	scale := 1 / math.Sqrt(float64(d))
	qBlock := queryBlock(tk)
	blocks := (tq + qBlock - 1) / qBlock
	parallelFor(batch*heads*blocks, 1, func(lo, hi int) {
		scores := getScratch(qBlock * tk)
		defer scratch.Put(scores)
		for t := lo; t < hi; t++ {
			bi, h, qb := t/(heads*blocks), t/blocks%heads, t%blocks
			i0 := qb * qBlock
			rows := min(qBlock, tq-i0)
			keys := tk
			if causal {
				keys = min(tk, i0+rows) // later keys are masked for every row of the block
			}
			s := (*scores)[:rows*keys]
			clear(s)
			qOff := (bi*tq+i0)*width + h*d
			kvOff := bi*tk*width + h*d
			gemm(rows, keys, d, denseA{qd[qOff:], width}, rowsB{f32: kd[kvOff:], dt: tensor.F32, stride: width}, s, keys, false)
			var invSum [256]float32 // queryBlock <= 256
			for r := range rows {
				visible := keys
				if causal {
					visible = min(keys, i0+r+1)
				}
				invSum[r] = softmaxNumerators(s[r*keys:(r+1)*keys], visible, float32(scale))
			}
			o := out[qOff:]
			for r := range rows {
				clear(o[r*width : r*width+d])
			}
			gemm(rows, d, keys, denseA{s, keys}, denseB{vd[kvOff:], width}, o, width, false)
			// Normalising the d outputs of a row is cheaper than its Tk scores.
			for r := range rows {
				for c := range o[r*width : r*width+d] {
					o[r*width+c] *= invSum[r]
				}
			}
		}
	})
}

// softmaxNumerators replaces row[:visible] by exp((row-max)·scale), zeroes
// the masked rest and returns 1/Σexp: the row's softmax is row·(1/Σ). The
// maximum is subtracted first so exp never overflows.
func softmaxNumerators(row []float32, visible int, scale float32) float32 {
	mx := rowMax(row[:visible])
	sum := expSum(row[:visible], mx, scale)
	clear(row[visible:])
	return float32(1 / sum)
}
