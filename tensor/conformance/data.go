package conformance

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// rng returns a generator seeded from the subtest's name, so every case has
// its own fixed data and adding a case changes no other case's inputs.
func rng(t *testing.T) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	return rand.New(rand.NewPCG(h.Sum64(), 0x5d5e))
}

// normals returns n draws of N(0, std²), never exactly zero.
func normals(r *rand.Rand, n int, std float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		v := r.NormFloat64() * std
		for v == 0 {
			v = r.NormFloat64() * std
		}
		out[i] = float32(v)
	}
	return out
}

// input is a tensor on the backend plus the exact values it holds (after
// rounding to its dtype), widened to float64 for the reference.
type input struct {
	t    *tensor.Tensor
	vals []float64
}

// make creates a random tensor of dtype dt on the backend.
func (s *suite) make(r *rand.Rand, dt tensor.DType, std float64, shape ...int) input {
	t := s.b.FromFloat32(dt, shape, normals(r, tensor.Shape(shape).NumElements(), std))
	return input{t: t, vals: widen64(s.b.ToFloat32(t))}
}

// activation creates a random activation tensor (the suite's actDType).
func (s *suite) activation(r *rand.Rand, std float64, shape ...int) input {
	return s.make(r, s.act, std, shape...)
}

// activationAround creates a random activation with the given mean.
func (s *suite) activationAround(r *rand.Rand, mean, std float64, shape ...int) input {
	data := normals(r, tensor.Shape(shape).NumElements(), std)
	for i := range data {
		data[i] += float32(mean)
	}
	t := s.b.FromFloat32(s.act, shape, data)
	return input{t: t, vals: widen64(s.b.ToFloat32(t))}
}

// weight creates a random F16 weight, as checkpoints store them.
func (s *suite) weight(r *rand.Rand, std float64, shape ...int) input {
	return s.make(r, tensor.F16, std, shape...)
}

// poisoned creates a destination full of NaN, so that any element the
// operation fails to write is caught.
func (s *suite) poisoned(dt tensor.DType, shape ...int) *tensor.Tensor {
	n := tensor.Shape(shape).NumElements()
	nan := make([]float32, n)
	for i := range nan {
		nan[i] = float32(math.NaN())
	}
	return s.b.FromFloat32(dt, shape, nan)
}

func widen64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}
