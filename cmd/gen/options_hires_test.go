package main

import "testing"

func TestParseMemory(t *testing.T) {
	for in, want := range map[string]int64{"4G": 4 << 30, "512M": 512 << 20, "512MB": 512 << 20, "1.5g": 3 << 29, "100": 100 << 20, "none": 0, "64K": 64 << 10} {
		got, err := parseMemory(in)
		if err != nil || got != want {
			t.Errorf("parseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "lots", "-1G", "0", "4X"} {
		if _, err := parseMemory(in); err == nil {
			t.Errorf("parseMemory(%q) accepted", in)
		}
	}
	if n, err := parseMemory("auto"); err != nil || n < 0 {
		t.Errorf("auto: %d, %v", n, err)
	}
}
