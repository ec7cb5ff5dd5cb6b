//go:build amd64

package cpu

import "unsafe"

//go:noescape
func expSumAVX2(x *float32, n int, mx, scale float32) float32

//go:noescape
func maxAVX2(x *float32, n int, lanes *[8]float32)

// rowMax returns the largest value of row (not NaN-aware: scores are finite).
func rowMax(row []float32) float32 {
	mx := float32(-1e38)
	body := 0
	if hasAVX2FMA && len(row) >= 8 {
		body = len(row) &^ 7
		var lanes [8]float32
		maxAVX2(unsafe.SliceData(row), body, &lanes)
		for _, v := range lanes {
			mx = max(mx, v)
		}
	}
	for _, v := range row[body:] {
		mx = max(mx, v)
	}
	return mx
}

// expSum replaces row[i] by exp32((row[i]-mx)·scale) and returns the sum,
// accumulated in float64 over chunks of 256 so that rounding does not grow
// with the sequence length.
func expSum(row []float32, mx, scale float32) float64 {
	var sum float64
	body := 0
	if hasAVX2FMA {
		body = len(row) &^ 7
		for i := 0; i < body; i += 256 {
			n := min(256, body-i)
			sum += float64(expSumAVX2(&row[i], n, mx, scale))
		}
	}
	for i, v := range row[body:] {
		e := exp32((v - mx) * scale)
		row[body+i] = e
		sum += float64(e)
	}
	return sum
}
