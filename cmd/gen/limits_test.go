package main

import (
	"io"
	"strings"
	"testing"
)

// A memory budget refuses what cannot fit, naming the flags: the size when
// one image is too large, the batch when only the batch is.
func TestMemoryBudgetRefuses(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--width", "1024", "--height", "1024"}, "--width 1024 --height 1024: needs at least 4.3 GiB of memory; 1.0 GiB is available"},
		{[]string{"--width", "256", "--height", "256", "--batch", "64"}, "--batch 64: 64 images of 256x256 need at least"},
	} {
		_, err := parseOptions(append([]string{"-p", "x", "--device", "cpu", "--max-memory", "1G"}, c.args...), io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.args, err, c.want)
		}
	}
}

func TestHostMemoryIsReadOnLinux(t *testing.T) {
	if m := hostMemory(); m == 0 {
		t.Skip("no /proc/meminfo here")
	} else if m < 256<<20 {
		t.Errorf("host memory %d bytes: implausible", m)
	}
}
