package kernels

import (
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// TestBroadcastPlanAddressesBLikeNaiveIndexing checks the collapsed plan
// against per-element index arithmetic on the full shapes.
func TestBroadcastPlanAddressesBLikeNaiveIndexing(t *testing.T) {
	cases := []struct{ a, b tensor.Shape }{
		{tensor.Shape{2, 3, 4, 5}, tensor.Shape{2, 1, 1, 5}},
		{tensor.Shape{2, 3, 4, 5}, tensor.Shape{2, 3, 4, 5}},
		{tensor.Shape{2, 3, 4, 5}, tensor.Shape{1, 1, 1, 5}},
		{tensor.Shape{2, 3, 4, 5}, tensor.Shape{1, 3, 4, 1}},
		{tensor.Shape{2, 3, 4}, tensor.Shape{2, 1, 4}},
		{tensor.Shape{7}, tensor.Shape{1}},
		{tensor.Shape{2, 1, 3}, tensor.Shape{1, 1, 3}},
		{tensor.Shape{2, 3, 4, 5}, tensor.Shape{2, 1, 4, 1}},
	}
	for _, c := range cases {
		n, st, ok := broadcastPlan(c.a, c.b)
		if !ok {
			t.Errorf("%v onto %v: no plan", c.b, c.a)
			continue
		}
		if n[0]*n[1]*n[2]*n[3] != c.a.NumElements() {
			t.Errorf("%v: plan %v covers the wrong count", c.a, n)
			continue
		}
		for i := range c.a.NumElements() {
			// naive: unravel i over a, ravel over b with broadcast dims at 0
			want, r, bstride := 0, i, 1
			for d := len(c.a) - 1; d >= 0; d-- {
				idx := r % c.a[d]
				r /= c.a[d]
				if c.b[d] != 1 {
					want += idx * bstride
				}
				bstride *= c.b[d]
			}
			r = i
			i3 := r % n[3]
			r /= n[3]
			i2 := r % n[2]
			r /= n[2]
			i1 := r % n[1]
			i0 := r / n[1]
			if got := i0*st[0] + i1*st[1] + i2*st[2] + i3*st[3]; got != want {
				t.Fatalf("%v onto %v, element %d: plan %v/%v gives b index %d, want %d", c.b, c.a, i, n, st, got, want)
			}
		}
	}
	if _, _, ok := broadcastPlan(tensor.Shape{2, 3}, tensor.Shape{2, 2}); ok {
		t.Error("accepted b dim that is neither a's nor 1")
	}
	if _, _, ok := broadcastPlan(tensor.Shape{2, 3, 2, 3, 2}, tensor.Shape{2, 1, 2, 1, 2}); ok {
		t.Error("accepted a pattern needing 5 dimensions")
	}
}
