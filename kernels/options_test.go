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
	if got := c.String(); got != "linear=simple conv2d=auto attention=fast" {
		t.Errorf("choices = %s", got)
	}
	c, _ = parseKernelChoices("simple")
	if got := c.String(); got != "linear=simple conv2d=simple attention=simple" {
		t.Errorf("simple = %s", got)
	}
	c, _ = parseKernelChoices("fast")
	if got := c.String(); got != "linear=fast conv2d=fast attention=fast" {
		t.Errorf("fast = %s", got)
	}
	t.Setenv("GOSDXL_KERNELS", "conv2d=simple")
	c, _ = parseKernelChoices("")
	if c[opConv2D] != choiceSimple || c[opLinear] != choiceAuto {
		t.Errorf("environment not used: %s", c)
	}
	for _, bad := range []string{"gemm=fast", "linear=quick", "linear", "conv=simple"} {
		_, err := parseKernelChoices(bad)
		if err == nil || !strings.Contains(err.Error(), "Options.Kernels") {
			t.Errorf("%q: error %v does not name the setting", bad, err)
		}
	}
}

// TestEveryFamilyHasAName fails when a family is added to the enum without
// the name Options.Kernels and the logs know it by.
func TestEveryFamilyHasAName(t *testing.T) {
	seen := map[string]bool{}
	for f := range numOpFamilies {
		name := f.String()
		if strings.HasPrefix(name, "opFamily(") || seen[name] {
			t.Errorf("family %d: name %q missing or repeated", int(f), name)
		}
		seen[name] = true
		if g, ok := familyNamed(name); !ok || g != f {
			t.Errorf("familyNamed(%q) = %v, %v", name, g, ok)
		}
	}
}
