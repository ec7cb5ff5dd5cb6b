package conformance

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// maxReported is how many mismatches a failure lists.
const maxReported = 8

// check reads dst back and compares it with want under the tolerance of
// the running operation (see suite.tolerance). Elements whose want is NaN
// are not checked: a large case may compute its reference only for a sample
// of rows (the count of checked elements is logged).
func (s *suite) check(t *testing.T, dst *tensor.Tensor, want []float64) {
	t.Helper()
	tol := s.tolerance(t)
	if err := s.b.Sync(); err != nil {
		t.Fatalf("%s: Sync: %v", s.b.Name(), err)
	}
	got := s.b.ToFloat32(dst)
	if len(got) != len(want) {
		t.Fatalf("got %d values, want %d", len(got), len(want))
	}
	var (
		bad, checked   int
		maxAbs, maxRel float64
		worstI         = -1
		report         strings.Builder
	)
	for i, w := range want {
		if math.IsNaN(w) {
			continue
		}
		checked++
		g := float64(got[i])
		diff := math.Abs(g - w)
		if !(diff <= tol.Atol+tol.Rtol*math.Abs(w)) { // also catches NaN
			bad++
			if bad <= maxReported {
				fmt.Fprintf(&report, "\n  [%d] got %.8g want %.8g (|diff| %.3g)", i, g, w, diff)
			}
		}
		if diff > maxAbs || math.IsNaN(diff) {
			maxAbs, worstI = diff, i
		}
		if r := diff / (tol.Atol + tol.Rtol*math.Abs(w)); r > maxRel {
			maxRel = r // the share of the tolerance budget used
		}
	}
	if checked == 0 {
		t.Fatalf("nothing compared: the reference produced no values")
	}
	if bad > 0 {
		t.Errorf("%s %v: %d of %d elements outside atol %g + rtol %g·|want| (max |diff| %.3g at %d, worst diff/budget %.3g):%s",
			s.b.Name(), dst, bad, checked, tol.Atol, tol.Rtol, maxAbs, worstI, maxRel, report.String())
		return
	}
	t.Logf("%d elements checked, max |diff| %.3g, worst diff/budget %.3g", checked, maxAbs, maxRel)
}

// checkExact compares bit patterns of float32 values (so -0 and 0 differ);
// a NaN must stay NaN, with any payload.
func (s *suite) checkExact(t *testing.T, got []float32, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d values, want %d", len(got), len(want))
	}
	bad := 0
	var report strings.Builder
	for i := range want {
		bothNaN := math.IsNaN(float64(got[i])) && math.IsNaN(float64(want[i]))
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !bothNaN {
			bad++
			if bad <= maxReported {
				fmt.Fprintf(&report, "\n  [%d] got %g (%#08x) want %g (%#08x)", i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values differ:%s", s.b.Name(), bad, len(want), report.String())
	}
}
