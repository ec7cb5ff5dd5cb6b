package sdxl

import (
	"math"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

func TestCheckTextFiniteNamesTheOverflow(t *testing.T) {
	if err := checkTextFinite(tensor.F16, map[string][]float32{"a": {1, -65504, 3}}); err != nil {
		t.Errorf("finite states refused: %v", err)
	}
	inf := float32(math.Inf(1))
	err := checkTextFinite(tensor.F16, map[string][]float32{"text encoder 2 pooled": {0, inf}})
	if err == nil || !strings.Contains(err.Error(), "text encoder 2 pooled[1]") || !strings.Contains(err.Error(), "--text-precision") {
		t.Errorf("overflow in F16: %v", err)
	}
	nan := float32(math.NaN())
	if err := checkTextFinite(tensor.F32, map[string][]float32{"x": {nan}}); err == nil || strings.Contains(err.Error(), "float16") {
		t.Errorf("NaN in F32: %v (no float16 hint expected)", err)
	}
}
