package conformance

import (
	"math"
	"testing"
)

// TestCompare makes sure the comparison at the heart of the suite can fail:
// NaN outputs, values just outside the tolerance (absolute and relative
// parts) and skipped reference rows are each handled as documented.
func TestCompare(t *testing.T) {
	tol := Tolerance{Atol: 1e-3, Rtol: 1e-2}
	nan := math.NaN()
	cases := []struct {
		name         string
		got          []float32
		want         []float64
		checked, bad int
	}{
		{"equal", []float32{1, -2, 0.5}, []float64{1, -2, 0.5}, 3, 0},
		{"inside atol", []float32{0.0009}, []float64{0}, 1, 0},
		{"outside atol", []float32{0.0011}, []float64{0}, 1, 1},
		{"inside rtol", []float32{101}, []float64{100}, 1, 0}, // budget 1.001
		{"outside rtol", []float32{101.01}, []float64{100}, 1, 1},
		{"NaN output", []float32{float32(nan), 1}, []float64{1, 1}, 2, 1},
		{"Inf output", []float32{float32(math.Inf(1))}, []float64{1}, 1, 1},
		{"skipped rows", []float32{float32(nan), 5}, []float64{nan, 5}, 1, 0},
	}
	for _, c := range cases {
		r := compare(c.got, c.want, tol)
		if r.checked != c.checked || r.bad != c.bad {
			t.Errorf("%s: checked %d, bad %d; want %d, %d", c.name, r.checked, r.bad, c.checked, c.bad)
		}
		if c.bad > 0 && r.report == "" {
			t.Errorf("%s: a mismatch without a report", c.name)
		}
	}
}

func TestSampleRows(t *testing.T) {
	if sampleRows(100, 512) != nil {
		t.Fatal("small outputs must be checked completely")
	}
	rows := sampleRows(8192, 512)
	if len(rows) != 512 || rows[0] != 0 || rows[511] != 8191 {
		t.Fatalf("sampleRows(8192, 512): %d rows from %d to %d", len(rows), rows[0], rows[len(rows)-1])
	}
	for i := 1; i < len(rows); i++ {
		if rows[i] <= rows[i-1] {
			t.Fatalf("rows not increasing at %d: %d, %d", i, rows[i-1], rows[i])
		}
	}
}
