//go:build !amd64

package cpu

func rowMax(row []float32) float32 {
	mx := float32(-1e38)
	for _, v := range row {
		mx = max(mx, v)
	}
	return mx
}

func expSum(row []float32, mx, scale float32) float64 {
	var sum float64
	for i, v := range row {
		e := exp32((v - mx) * scale)
		row[i] = e
		sum += float64(e)
	}
	return sum
}
