package cpu

import (
	"math"
	"testing"
)

func TestExp32(t *testing.T) {
	worst := 0.0
	for i := 0; i <= 870000; i++ { // [-87, 0]; below, exp32 clamps
		x := float32(-float64(i) * 1e-4)
		want := math.Exp(float64(x))
		got := float64(exp32(x))
		if rel := math.Abs(got-want) / want; rel > worst {
			worst = rel
		}
	}
	if worst > 3e-7 {
		t.Fatalf("exp32 relative error %.3g, want <= 3e-7", worst)
	}
	t.Logf("worst relative error %.3g", worst)
	if exp32(-100) > 2e-38 || exp32(0) != 1 {
		t.Fatalf("exp32(-100) = %g, exp32(0) = %g", exp32(-100), exp32(0))
	}
}

// TestExpSumMatchesScalar compares the vectorised softmax pieces with the
// scalar exp32 over lengths that exercise the 8-wide body and the tail.
func TestExpSumMatchesScalar(t *testing.T) {
	for _, n := range []int{1, 7, 8, 9, 77, 256, 1000} {
		row := make([]float32, n)
		for i := range row {
			row[i] = float32(math.Sin(float64(i))*20 - 5)
		}
		want := append([]float32(nil), row...)
		mx := rowMax(row)
		var wantMax float32 = -1e38
		for _, v := range want {
			wantMax = max(wantMax, v)
		}
		if mx != wantMax {
			t.Fatalf("n %d: rowMax %g, want %g", n, mx, wantMax)
		}
		const scale = 0.125
		sum := expSum(row, mx, scale)
		var wantSum float64
		for i, v := range want {
			e := math.Exp(float64((v - mx) * scale))
			wantSum += e
			if d := math.Abs(float64(row[i]) - e); d > 3e-7*e {
				t.Fatalf("n %d: exp at %d = %g, want %g", n, i, row[i], e)
			}
		}
		if math.Abs(sum-wantSum) > 1e-6*wantSum {
			t.Fatalf("n %d: sum %g, want %g", n, sum, wantSum)
		}
	}
}
