package conformance

import (
	"math"
	"runtime"
	"sync"
)

// The reference implementations below are deliberately naive: float64
// arithmetic, the textbook loop nest of each definition, no blocking. Only
// the outermost loop is spread over goroutines (each output row is
// independent) so the full-size cases finish in reasonable time.

// eachRow calls f(r) for every r in rows (or 0..n-1 when rows is nil),
// from several goroutines.
func eachRow(n int, rows []int, f func(r int)) {
	if rows == nil {
		rows = make([]int, n)
		for i := range rows {
			rows[i] = i
		}
	}
	var wg sync.WaitGroup
	workers := runtime.NumCPU()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(rows); i += workers {
				f(rows[i])
			}
		}()
	}
	wg.Wait()
}

// sampleRows picks which of n output rows a large case checks: all of them
// when n <= limit (nil), otherwise the first, the last and limit-2 rows
// spread evenly in between, so every batch item and both borders of an
// image are covered.
func sampleRows(n, limit int) []int {
	if n <= limit {
		return nil
	}
	rows := make([]int, 0, limit)
	for i := range limit {
		rows = append(rows, i*(n-1)/(limit-1))
	}
	return rows
}

// unchecked returns a slice of n NaNs: reference output rows that are not
// computed stay NaN and are skipped by the comparison.
func unchecked(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}

// refLinear: y[i][j] = Σ_k x[i][k]·w[j][k] + bias[j], w stored [N, K].
func refLinear(x []float64, m, k int, w []float64, n int, bias []float64, rows []int) []float64 {
	y := unchecked(m * n)
	eachRow(m, rows, func(i int) {
		for j := range n {
			var s float64
			for kk := range k {
				s += x[i*k+kk] * w[j*k+kk]
			}
			if bias != nil {
				s += bias[j]
			}
			y[i*n+j] = s
		}
	})
	return y
}

// convShape describes a convolution: x [B,H,W,Cin], w [Cout,KH,KW,Cin].
type convShape struct {
	B, H, W, Cin, Cout, KH, KW, Stride, Pad int
}

func (c convShape) out() (ho, wo int) {
	return (c.H+2*c.Pad-c.KH)/c.Stride + 1, (c.W+2*c.Pad-c.KW)/c.Stride + 1
}

// refConv2D: y[b][oy][ox][co] = bias[co] + Σ_{ky,kx,ci} x[b][iy][ix][ci]·w[co][ky][kx][ci]
// with iy = oy·stride − pad + ky (zero outside the image). rows are output
// pixels b·Ho·Wo + oy·Wo + ox.
func refConv2D(c convShape, x, w, bias []float64, rows []int) []float64 {
	ho, wo := c.out()
	y := unchecked(c.B * ho * wo * c.Cout)
	eachRow(c.B*ho*wo, rows, func(p int) {
		b, oy, ox := p/(ho*wo), p/wo%ho, p%wo
		for co := range c.Cout {
			var s float64
			if bias != nil {
				s = bias[co]
			}
			for ky := range c.KH {
				for kx := range c.KW {
					iy, ix := oy*c.Stride-c.Pad+ky, ox*c.Stride-c.Pad+kx
					if iy < 0 || iy >= c.H || ix < 0 || ix >= c.W {
						continue
					}
					for ci := range c.Cin {
						s += x[((b*c.H+iy)*c.W+ix)*c.Cin+ci] * w[((co*c.KH+ky)*c.KW+kx)*c.Cin+ci]
					}
				}
			}
			y[p*c.Cout+co] = s
		}
	})
	return y
}

// refAttention: for batch b, head h and query i,
// y = Σ_j softmax_j(q_i·k_j/sqrt(d))·v_j over keys j (j <= i when causal).
// rows are query rows b·Tq + i.
func refAttention(q, k, v []float64, batch, tq, tk, width, heads int, causal bool, rows []int) []float64 {
	d := width / heads
	y := unchecked(batch * tq * width)
	scale := 1 / math.Sqrt(float64(d))
	eachRow(batch*tq, rows, func(row int) {
		b, i := row/tq, row%tq
		keys := tk
		if causal {
			keys = min(tk, i+1)
		}
		logits := make([]float64, keys)
		for h := range heads {
			qi := q[row*width+h*d : row*width+h*d+d]
			maxLogit := math.Inf(-1)
			for j := range keys {
				kj := k[(b*tk+j)*width+h*d : (b*tk+j)*width+h*d+d]
				var s float64
				for c := range d {
					s += qi[c] * kj[c]
				}
				logits[j] = s * scale
				maxLogit = math.Max(maxLogit, logits[j])
			}
			var sum float64
			for j := range logits {
				logits[j] = math.Exp(logits[j] - maxLogit)
				sum += logits[j]
			}
			for c := range d {
				var s float64
				for j := range keys {
					s += logits[j] / sum * v[(b*tk+j)*width+h*d+c]
				}
				y[row*width+h*d+c] = s
			}
		}
	})
	return y
}

// refGroupNorm normalises x [B, P positions, C] per batch item and group
// of C/groups consecutive channels: (x−mean)/sqrt(var+eps)·gamma + beta,
// biased variance, then SiLU when asked.
func refGroupNorm(x []float64, batch, positions, c, groups int, gamma, beta []float64, eps float64, silu bool) []float64 {
	y := make([]float64, len(x))
	per := c / groups
	eachRow(batch*groups, nil, func(bg int) {
		b, g := bg/groups, bg%groups
		at := func(p, ch int) int { return (b*positions+p)*c + g*per + ch }
		n := float64(positions * per)
		var mean, variance float64
		for p := range positions {
			for ch := range per {
				mean += x[at(p, ch)]
			}
		}
		mean /= n
		for p := range positions {
			for ch := range per {
				d := x[at(p, ch)] - mean
				variance += d * d
			}
		}
		variance /= n
		for p := range positions {
			for ch := range per {
				i := at(p, ch)
				v := (x[i]-mean)/math.Sqrt(variance+eps)*gamma[g*per+ch] + beta[g*per+ch]
				if silu {
					v = refSiLU(v)
				}
				y[i] = v
			}
		}
	})
	return y
}

// refLayerNorm normalises every row of length c.
func refLayerNorm(x []float64, c int, gamma, beta []float64, eps float64) []float64 {
	y := make([]float64, len(x))
	eachRow(len(x)/c, nil, func(r int) {
		row := x[r*c : (r+1)*c]
		var mean, variance float64
		for _, v := range row {
			mean += v
		}
		mean /= float64(c)
		for _, v := range row {
			variance += (v - mean) * (v - mean)
		}
		variance /= float64(c)
		for i, v := range row {
			y[r*c+i] = (v-mean)/math.Sqrt(variance+eps)*gamma[i] + beta[i]
		}
	})
	return y
}

func refSigmoid(x float64) float64   { return 1 / (1 + math.Exp(-x)) }
func refSiLU(x float64) float64      { return x * refSigmoid(x) }
func refGELU(x float64) float64      { return x * 0.5 * (1 + math.Erf(x/math.Sqrt2)) }
func refQuickGELU(x float64) float64 { return x * refSigmoid(1.702*x) }

// torchNearest is the source row of output row i when torch's
// F.interpolate(mode="nearest") resizes in rows to out: the scale in/out
// and its product with i are float32 (at::native's
// nearest_neighbor_compute_source_index), floored, clamped to the last row.
func torchNearest(i, in, out int) int {
	scale := float32(in) / float32(out)
	return min(int(math.Floor(float64(float32(i)*scale))), in-1)
}
