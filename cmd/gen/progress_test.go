package main

import (
	"strings"
	"testing"
	"time"
)

// A resumed download's rate counts only the bytes fetched by this run, not
// those already on disk.
func TestProgressResumedRate(t *testing.T) {
	var out strings.Builder
	bar := &progressBar{w: &out, label: "m", enabled: true, start: time.Now().Add(-10 * time.Second),
		unit: "MB", scale: 1 << 20, resumed: true}
	bar.update(1000<<20, 2000<<20)
	bar.drawn = time.Time{} // the next update redraws
	bar.update(1010<<20, 2000<<20)
	last := out.String()[strings.LastIndex(out.String(), "\r"):]
	if !strings.Contains(last, " 1.00 MB/s") {
		t.Errorf("rate line %q, want 1.00 MB/s (10 MB in 10 s)", last)
	}
}

// Updates closer than a tenth of a second apart redraw once, but the last
// one (done == total) always draws.
func TestProgressThrottles(t *testing.T) {
	var out strings.Builder
	bar := &progressBar{w: &out, label: "m", enabled: true, start: time.Now(), unit: "it", scale: 1}
	for i := int64(1); i <= 1000; i++ {
		bar.update(i, 1000)
	}
	if n := strings.Count(out.String(), "\r"); n > 10 {
		t.Errorf("%d redraws for 1000 quick updates", n)
	}
	if last := out.String()[strings.LastIndex(out.String(), "\r"):]; !strings.Contains(last, " 1000/1000 ") {
		t.Errorf("the last update was not drawn: %q", last)
	}
}
