package kernels

import (
	"strings"
	"testing"
)

func TestParseKernelChoices(t *testing.T) {
	t.Setenv("GOSDXL_KERNELS", "")
	c, err := parseKernelChoices("linear=simple, attention=fast")
	if err != nil {
		t.Fatal(err)
	}
	if got := describeChoices(c); got != "attention=fast conv2d=auto linear=simple" {
		t.Errorf("choices = %s", got)
	}
	c, _ = parseKernelChoices("simple")
	if got := describeChoices(c); got != "attention=simple conv2d=simple linear=simple" {
		t.Errorf("simple = %s", got)
	}
	t.Setenv("GOSDXL_KERNELS", "conv2d=simple")
	c, _ = parseKernelChoices("")
	if c["conv2d"] != Simple || c["linear"] != Auto {
		t.Errorf("environment not used: %s", describeChoices(c))
	}
	for _, bad := range []string{"gemm=fast", "linear=quick", "linear"} {
		_, err := parseKernelChoices(bad)
		if err == nil || !strings.Contains(err.Error(), "Options.Kernels") {
			t.Errorf("%q: error %v does not name the setting", bad, err)
		}
	}
}
