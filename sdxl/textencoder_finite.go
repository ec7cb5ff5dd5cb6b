package sdxl

import (
	"fmt"
	"math"

	"github.com/gosdxl/gosdxl/tensor"
)

// checkTextFinite reports hidden states that are not finite numbers. The
// encoders' LayerNorm statistics and attention softmax are float32 on
// every backend, but the residual stream of a half-precision run is stored
// in that type: a checkpoint whose activations outgrow float16 (65504)
// would condition the UNet on infinities and make a black or noise image.
// Naming it here, with the way out, beats that.
func checkTextFinite(dt tensor.DType, outputs map[string][]float32) error {
	for name, v := range outputs {
		for i, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				hint := ""
				if dt == tensor.F16 {
					hint = " (float16 overflowed: run the text encoders in fp32 or bf16, --text-precision)"
				}
				return fmt.Errorf("text encoders in %v: %s[%d] is %v%s", dt, name, i, x, hint)
			}
		}
	}
	return nil
}
