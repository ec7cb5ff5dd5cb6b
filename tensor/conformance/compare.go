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
// the running operation.
func (s *suite) check(t *testing.T, dst *tensor.Tensor, want []float64) {
	t.Helper()
	got := s.read(t, dst)
	if len(got) != len(want) {
		t.Fatalf("got %d values, want %d", len(got), len(want))
	}
	c := compare(got, want, s.tol)
	switch {
	case c.checked == 0:
		t.Fatalf("nothing compared: the reference produced no values")
	case c.bad > 0:
		t.Errorf("%s %v: %d of %d elements outside atol %g + rtol %g·|want| (max |diff| %.3g at %d, worst diff/budget %.3g):%s",
			s.b.Name(), dst, c.bad, c.checked, s.tol.Atol, s.tol.Rtol, c.maxAbs, c.worst, c.maxRatio, c.report)
	default:
		t.Logf("%d elements checked, max |diff| %.3g, worst diff/budget %.3g", c.checked, c.maxAbs, c.maxRatio)
	}
}

// comparison summarises got against want.
type comparison struct {
	checked, bad int     // elements compared, elements outside the tolerance
	maxAbs       float64 // largest |got-want| (NaN if a got was NaN)
	worst        int     // index of maxAbs
	maxRatio     float64 // largest |got-want| / (Atol + Rtol·|want|)
	report       string  // the first maxReported mismatches
}

// compare checks |got-want| <= Atol + Rtol·|want| element-wise. Elements
// whose want is NaN are skipped: a large case may compute its reference only
// for a sample of rows. A NaN in got always fails.
func compare(got []float32, want []float64, tol Tolerance) comparison {
	c := comparison{worst: -1}
	var report strings.Builder
	for i, w := range want {
		if math.IsNaN(w) {
			continue
		}
		c.checked++
		g := float64(got[i])
		diff := math.Abs(g - w)
		budget := tol.Atol + tol.Rtol*math.Abs(w)
		if !(diff <= budget) { // also catches NaN
			c.bad++
			if c.bad <= maxReported {
				fmt.Fprintf(&report, "\n  [%d] got %.8g want %.8g (|diff| %.3g)", i, g, w, diff)
			}
		}
		if diff > c.maxAbs || (math.IsNaN(diff) && !math.IsNaN(c.maxAbs)) {
			c.maxAbs, c.worst = diff, i
		}
		if r := diff / budget; r > c.maxRatio {
			c.maxRatio = r
		}
	}
	c.report = report.String()
	return c
}

// read waits for the backend, fails on a device error, and returns t's
// values as float32.
func (s *suite) read(t *testing.T, x *tensor.Tensor) []float32 {
	t.Helper()
	if err := s.b.Sync(); err != nil {
		t.Fatalf("%s: Sync: %v", s.b.Name(), err)
	}
	return s.b.ToFloat32(x)
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
