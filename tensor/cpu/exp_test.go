package cpu

import (
	"math"
	"testing"
)

func TestExp32(t *testing.T) {
	worst := 0.0
	for i := 0; i <= 870000; i++ { // [-87, 0]; below, exp32 returns 0
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
	if exp32(-100) != 0 || exp32(0) != 1 {
		t.Fatalf("exp32(-100) = %g, exp32(0) = %g", exp32(-100), exp32(0))
	}
}
