package cpu

import (
	"fmt"
	"math"

	"github.com/gosdxl/gosdxl/tensor"
)

// queryBlock is how many queries one attention task handles: the score
// block is queryBlock×Tk floats (4 MB for the VAE's 16384 tokens), so
// memory stays bounded whatever the sequence length.
const queryBlock = 64

// Attention computes softmax(q·kᵀ/sqrt(d))·v per batch item and head, one
// block of queries at a time, with both products on the SGEMM. Tasks (batch,
// head, query block) are spread over the cores.
func (b *Backend) Attention(dst, q, k, v *tensor.Tensor, heads int, causal bool) {
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
	blocks := (tq + queryBlock - 1) / queryBlock
	parallelFor(batch*heads*blocks, 1, func(lo, hi int) {
		scores := getScratch(queryBlock * tk)
		defer scratch.Put(scores)
		for t := lo; t < hi; t++ {
			bi, h, qb := t/(heads*blocks), t/blocks%heads, t%blocks
			i0 := qb * queryBlock
			rows := min(queryBlock, tq-i0)
			keys := tk
			if causal {
				keys = min(tk, i0+rows) // later keys are masked for every row of the block
			}
			s := (*scores)[:rows*keys]
			clear(s)
			qOff := (bi*tq+i0)*width + h*d
			kvOff := bi*tk*width + h*d
			gemm(rows, keys, d, denseA{qd[qOff:], width}, rowsB{f32: kd[kvOff:], dt: tensor.F32, stride: width}, s, keys, false)
			for r := range rows {
				visible := keys
				if causal {
					visible = min(keys, i0+r+1)
				}
				softmaxRow(s[r*keys:(r+1)*keys], visible, scale)
			}
			o := out[qOff:]
			for r := range rows {
				clear(o[r*width : r*width+d])
			}
			gemm(rows, d, keys, denseA{s, keys}, denseB{vd[kvOff:], width}, o, width, false)
		}
	})
}

// softmaxRow replaces row[:visible] by softmax(row·scale) and zeroes the
// masked rest. The maximum is subtracted first so exp never overflows.
func softmaxRow(row []float32, visible int, scale float64) {
	mx := float32(math.Inf(-1))
	for _, v := range row[:visible] {
		mx = max(mx, v)
	}
	var sum float64
	for i, v := range row[:visible] {
		e := math.Exp((float64(v) - float64(mx)) * scale)
		row[i] = float32(e)
		sum += e
	}
	inv := float32(1 / sum)
	for i := range row[:visible] {
		row[i] *= inv
	}
	clear(row[visible:])
}
