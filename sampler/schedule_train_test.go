package sampler

import (
	"math"
	"testing"
)

func TestAlphasCumprodMatchesDiffusers(t *testing.T) {
	want := loadGolden(t, tinyGoldensPath).get(t, "sched/alphas_cumprod")
	got := AlphasCumprod()
	if i := firstBitDifference(got, want); i >= 0 {
		t.Fatalf("alphas_cumprod[%d] = %v (%08x), want %v (%08x)", i, got[i],
			math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
	}
}
