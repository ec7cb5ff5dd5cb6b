package cpu

import (
	"fmt"
	"math"

	"github.com/gosdxl/gosdxl/tensor"
)

// GroupNorm normalises each group of consecutive channels over all
// positions of one batch item. Statistics are accumulated in float64 over
// fixed position chunks, so results do not depend on scheduling.
func (b *Backend) GroupNorm(dst, x, gamma, beta *tensor.Tensor, groups int, eps float32, silu bool) {
	b.launch("GroupNorm", dst, x, gamma, beta)
	xs, ds := x.Shape(), dst.Shape()
	if len(xs) < 2 || !xs.Equal(ds) || groups < 1 || xs.Last()%groups != 0 {
		panic(fmt.Sprintf("cpu: GroupNorm: x %v, dst %v, %d groups do not fit (x [B, ..., C], C divisible by groups)", xs, ds, groups))
	}
	c := xs.Last()
	batch := xs[0]
	positions := xs.Rows() / batch
	g := vector(gamma, c, "GroupNorm", "gamma")
	bt := vector(beta, c, "GroupNorm", "beta")
	in := f32(x, "GroupNorm", "x")
	out := f32(dst, "GroupNorm", "dst")
	per := c / groups
	count := float64(positions * per)
	scale := make([]float32, c)
	shift := make([]float32, c)
	for bi := range batch {
		xb := in[bi*positions*c : (bi+1)*positions*c]
		sums := groupSums(xb, positions, c, groups, nil)
		mean := make([]float64, groups)
		for gi := range mean {
			mean[gi] = sums[gi] / count
		}
		sq := groupSums(xb, positions, c, groups, mean)
		for ch := range c {
			gi := ch / per
			rstd := 1 / math.Sqrt(sq[gi]/count+float64(eps))
			s := float64(g[ch]) * rstd
			scale[ch] = float32(s)
			shift[ch] = float32(float64(bt[ch]) - mean[gi]*s)
		}
		normalize(out[bi*positions*c:(bi+1)*positions*c], xb, positions, scale, shift, silu)
	}
}

// groupSums returns, per group, Σx (mean nil) or Σ(x-mean)² over all
// positions of one batch item.
func groupSums(x []float32, positions, c, groups int, mean []float64) []float64 {
	const chunks = 16
	per := c / groups
	partial := make([][]float64, chunks)
	step := (positions + chunks - 1) / chunks
	parallelFor(chunks, 1, func(lo, hi int) {
		for ci := lo; ci < hi; ci++ {
			acc := make([]float64, groups)
			for p := ci * step; p < min((ci+1)*step, positions); p++ {
				row := x[p*c : (p+1)*c]
				for gi := range groups {
					var s float64
					if mean == nil {
						for _, v := range row[gi*per : (gi+1)*per] {
							s += float64(v)
						}
					} else {
						m := mean[gi]
						for _, v := range row[gi*per : (gi+1)*per] {
							d := float64(v) - m
							s += d * d
						}
					}
					acc[gi] += s
				}
			}
			partial[ci] = acc
		}
	})
	total := make([]float64, groups)
	for _, acc := range partial {
		for gi, s := range acc {
			total[gi] += s
		}
	}
	return total
}

// normalize writes y = x·scale + shift per channel, then SiLU if asked.
func normalize(y, x []float32, positions int, scale, shift []float32, silu bool) {
	c := len(scale)
	parallelFor(positions, 64, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			xr := x[p*c : (p+1)*c]
			yr := y[p*c : (p+1)*c]
			for ch, v := range xr {
				yr[ch] = v*scale[ch] + shift[ch]
			}
			if silu {
				siluRow(yr, yr)
			}
		}
	})
}

// LayerNorm normalises each row over its last dimension.
func (b *Backend) LayerNorm(dst, x, gamma, beta *tensor.Tensor, eps float32) {
	b.launch("LayerNorm", dst, x, gamma, beta)
	xs, ds := x.Shape(), dst.Shape()
	if len(xs) < 1 || !xs.Equal(ds) {
		panic(fmt.Sprintf("cpu: LayerNorm: x %v and dst %v differ", xs, ds))
	}
	c := xs.Last()
	g := vector(gamma, c, "LayerNorm", "gamma")
	bt := vector(beta, c, "LayerNorm", "beta")
	in := f32(x, "LayerNorm", "x")
	out := f32(dst, "LayerNorm", "dst")
	parallelFor(xs.Rows(), 16, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr := in[r*c : (r+1)*c]
			var sum float64
			for _, v := range xr {
				sum += float64(v)
			}
			mean := sum / float64(c)
			var sq float64
			for _, v := range xr {
				d := float64(v) - mean
				sq += d * d
			}
			rstd := 1 / math.Sqrt(sq/float64(c)+float64(eps))
			yr := out[r*c : (r+1)*c]
			for i, v := range xr {
				yr[i] = float32((float64(v)-mean)*rstd)*g[i] + bt[i]
			}
		}
	})
}
