package nn

import "math"

// TimestepEmbedding returns the sinusoidal embeddings of SDXL's timesteps
// and size/crop conditioning, one row of dim values per input value
// (flip_sin_to_cos, freq shift 0): row = [cos(t·f_0..), sin(t·f_0..)] with
// f_i = exp(−ln(10000)·i/half), half = dim/2. Like diffusers it computes in
// float32 whatever the model's dtype; an odd dim gets a trailing zero.
func TimestepEmbedding(values []float32, dim int) []float32 {
	half := dim / 2
	freqs := make([]float32, half)
	logPeriod := float32(-math.Log(10000))
	for i := range freqs {
		exponent := logPeriod * float32(i) / float32(half)
		freqs[i] = float32(math.Exp(float64(exponent)))
	}
	out := make([]float32, len(values)*dim)
	for r, t := range values {
		row := out[r*dim : (r+1)*dim]
		for i, f := range freqs {
			arg := float64(t * f)
			row[i] = float32(math.Cos(arg))
			row[half+i] = float32(math.Sin(arg))
		}
	}
	return out
}
