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
	bar.update(1010<<20, 2000<<20)
	last := out.String()[strings.LastIndex(out.String(), "\r"):]
	if !strings.Contains(last, " 1.00 MB/s") {
		t.Errorf("rate line %q, want 1.00 MB/s (10 MB in 10 s)", last)
	}
}
