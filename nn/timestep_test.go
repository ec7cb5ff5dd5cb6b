package nn

import (
	"math"
	"testing"
)

func TestTimestepEmbedding(t *testing.T) {
	values := []float32{0, 1, 367.25, 999, 1024}
	const dim = 32
	got := TimestepEmbedding(values, dim)
	if len(got) != len(values)*dim {
		t.Fatalf("length %d, want %d", len(got), len(values)*dim)
	}
	for r, v := range values {
		for i := 0; i < dim/2; i++ {
			arg := float64(v) * math.Exp(-math.Log(10000)*float64(i)/float64(dim/2))
			// float32 rounding of the frequency and of t·f moves the
			// argument by at most a few ulps of |t|: bound it by |t|·2^-20.
			tol := float64(v)*math.Pow(2, -20) + 1e-6
			if d := math.Abs(float64(got[r*dim+i]) - math.Cos(arg)); d > tol {
				t.Errorf("t=%v i=%d cos: off by %g (tol %g)", v, i, d, tol)
			}
			if d := math.Abs(float64(got[r*dim+dim/2+i]) - math.Sin(arg)); d > tol {
				t.Errorf("t=%v i=%d sin: off by %g (tol %g)", v, i, d, tol)
			}
		}
	}
}
