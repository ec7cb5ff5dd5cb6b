package tensor

import (
	"fmt"
	"testing"
)

func TestNearestIndexMatchesTorch(t *testing.T) {
	// torch.nn.functional.interpolate(arange(4), size=7, mode="nearest") picks
	// 0 0 1 1 2 2 3; size=9 from 5 picks 0 0 1 1 2 2 3 3 4.
	for _, c := range []struct {
		in, out int
		want    []int
	}{{4, 7, []int{0, 0, 1, 1, 2, 2, 3}}, {5, 9, []int{0, 0, 1, 1, 2, 2, 3, 3, 4}}, {3, 6, []int{0, 0, 1, 1, 2, 2}}} {
		got := NearestIndex(c.in, c.out)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("NearestIndex(%d, %d) = %v, want %v", c.in, c.out, got, c.want)
		}
	}
}
